"""Tests for vqcodec.nn.decoder's heads: the harmonic head's shapes and ranges, deterministic windowed
decoding, adoption of a trained inverse-STFT head, and old model files loading with the default head."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from conftest import TINY, make_model

from vqcodec.nn.config import ModelConfig
from vqcodec.nn.heads import HarmonicHead, ISTFTHead, make_head, minimum_phase_matrix
from vqcodec.train.losses import pitch_losses

HARMONIC = dataclasses.replace(TINY, name="tinyharm", head="harmonic")


def _audio(frames: int, batch: int = 2) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return 0.3 * torch.randn(batch, 1, frames * HARMONIC.top_hop, generator=g)


def test_harmonic_model_outputs_audio_f0_and_voicing() -> None:
    model = make_model(HARMONIC).train()
    x = _audio(5)
    out = model(x)
    frames = x.shape[-1] // (HARMONIC.hop // HARMONIC.decoder_upsample)
    assert out.audio.shape == x.shape and torch.isfinite(out.audio).all()
    assert out.f0.shape == (2, frames) and out.voicing.shape == (2, frames)
    head = model.decoder.head
    assert float(out.f0.detach().min()) >= head.f0_min and float(out.f0.detach().max()) <= head.f0_max
    (out.audio.pow(2).mean() + out.f0.mean() + out.voicing.mean()).backward()
    assert head.proj.weight.grad is not None and torch.isfinite(head.proj.weight.grad).all()


def test_harmonic_decode_is_deterministic_and_equals_forward() -> None:
    model = make_model(HARMONIC).eval()
    x = _audio(6)
    with torch.no_grad():
        top, bottom = model.encode(x, HARMONIC.n_top, HARMONIC.n_bottom)
        a, b = model.decode(top, bottom), model.decode(top, bottom)
        assert torch.equal(a, b)
        torch.testing.assert_close(a, model(x).audio, rtol=1e-4, atol=1e-4)
        # the noise depends on the absolute position: another offset is another (equally valid) signal
        assert not torch.equal(a, model.decode(top, bottom, offset=7))


def test_adopt_copies_the_log_magnitude_rows() -> None:
    old, new = ISTFTHead(16, 10), HarmonicHead(16, 10, 16000)
    new.adopt(old)
    bins = new.bins
    assert torch.equal(new.proj.weight[:bins], old.proj.weight[:bins])
    assert torch.equal(new.proj.weight[bins : 2 * bins], old.proj.weight[:bins])
    with pytest.raises(ValueError, match="same n_fft"):
        new.adopt(ISTFTHead(16, 20))


def test_unknown_head_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown decoder head"):
        make_head("wavenet", 16, 10, 16000)


def test_config_without_head_field_loads_as_istft() -> None:
    raw = json.loads(TINY.to_json())
    del raw["head"]
    assert ModelConfig.from_json(json.dumps(raw)).head == "istft"


def test_pitch_losses_zero_at_target_and_masked_when_unvoiced() -> None:
    target = torch.tensor([[100.0, 0.0, 200.0]])
    voiced = target > 0
    f0, logits = torch.tensor([[100.0, 400.0, 200.0]]), torch.tensor([[30.0, -30.0, 30.0]])
    f0_loss, v_loss = pitch_losses(f0, logits, target, voiced)
    assert float(f0_loss) == 0 and float(v_loss) < 1e-6
    f0_loss, _ = pitch_losses(torch.tensor([[200.0, 400.0, 200.0]]), logits, target, voiced)
    assert float(f0_loss) == pytest.approx(0.5)  # one octave off on one of two voiced frames


def test_teacher_forced_pitch_drives_the_source_but_predictions_are_returned() -> None:
    from vqcodec.nn.excitation import Pitch

    model = make_model(HARMONIC).eval()
    x = _audio(4)
    with torch.no_grad():
        free = model(x)
        given = torch.full_like(free.f0, 150.0)
        forced = model(x, Pitch(given, given > 0))
    assert torch.equal(forced.f0, free.f0) and torch.equal(forced.voicing, free.voicing)
    assert not torch.allclose(forced.audio, free.audio)


def _phase_head(terms: int = 4) -> tuple[HarmonicHead, HarmonicHead]:
    """A harmonic head without a phase and one with, sharing the filters and F0 projection."""
    torch.manual_seed(3)
    plain, owned = HarmonicHead(16, 20, 16000), HarmonicHead(16, 20, 16000, phase_terms=terms)
    owned.proj.load_state_dict(plain.proj.state_dict())
    return plain, owned


def test_a_head_with_its_own_phase_starts_as_the_source_phase() -> None:
    plain, owned = _phase_head()
    x = torch.randn(2, 12, 16)
    torch.testing.assert_close(owned(x).audio, plain(x).audio, rtol=0, atol=1e-6)


def test_a_constant_phase_of_pi_negates_the_harmonics() -> None:
    """theta = a_0 (the constant term) = pi turns every harmonic over: with the noise filter silenced, the
    output is the plain head's negated."""
    plain, owned = _phase_head()
    with torch.no_grad():
        for head in (plain, owned):
            head.proj.bias[head.bins : 2 * head.bins] = -30.0  # noise gains ~0
        owned.phase.bias[2] = torch.pi
    x = torch.randn(1, 12, 16)
    a, b = plain(x).audio, owned(x).audio
    assert float(a.detach().abs().max()) > 1e-3
    torch.testing.assert_close(b, -a, rtol=0, atol=1e-5)


def test_the_linear_phase_moves_harmonic_k_by_k_times_the_rotation() -> None:
    """r = 1 + u e^{-i phi_src}, phi_src the source's phase at the frame's centre: theta at the k-th harmonic
    of F0 is k arg(r)."""
    _, owned = _phase_head(terms=1)
    with torch.no_grad():
        owned.phase.bias[:2] = torch.tensor([0.7, -1.3])
    f0 = torch.full((1, 6), 200.0)  # bins of 200 Hz (n_fft 80 at 16 kHz): harmonic k of 200 Hz is bin k
    cos, sin = owned.rotation(torch.zeros(1, 6, 16), f0)
    step = 200.0 * 2 * math.pi / 16000
    phi = (torch.arange(6, dtype=torch.float64) * 20 + 1) * step  # the running phase at samples 0, 20, ...
    r = 1 + complex(0.7, -1.3) * torch.exp(-1j * phi)
    for k in (1, 2, 3):
        want = torch.exp(1j * k * torch.angle(r))
        torch.testing.assert_close(torch.complex(cos[0, k], sin[0, k]).to(want.dtype), want, rtol=0, atol=1e-4)


def _resonator(n_fft: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A two-pole resonance at 1 kHz (radius 0.95) at 16 kHz, 1 / ((1 - p z^-1)(1 - p* z^-1)), a minimum-phase
    filter: its log magnitude and its phase, [F] each."""
    w = torch.linspace(0, math.pi, n_fft // 2 + 1, dtype=torch.float64)
    pole = 0.95 * torch.exp(torch.tensor(1j * 2 * math.pi * 1000 / 16000))
    z = torch.exp(-1j * w)
    denominator = (1 - pole * z) * (1 - pole.conj() * z)
    return -torch.log(denominator.abs()), -torch.angle(denominator)


def test_the_minimum_phase_matrix_gives_a_minimum_phase_filter_its_own_phase() -> None:
    """With every cepstral bin kept, the matrix gives a minimum-phase filter its own phase from its magnitude alone
    (up to the cepstrum's aliasing, tiny at n_fft 1024)."""
    n_fft = 1024
    log_gain, want = _resonator(n_fft)
    theta = minimum_phase_matrix(n_fft, n_fft // 2) @ log_gain
    err = torch.angle(torch.exp(1j * (theta - want)))  # wrapped
    assert float(err.abs().max()) < 1e-3


def test_a_minimum_phase_response_is_causal_and_front_loaded() -> None:
    """Under the minimum phase (30 cepstral bins) the filter's impulse response keeps its magnitude and puts its
    energy at the start (the first 40 of 640 samples hold most of it, the 40 before time 0 almost none); the
    zero-phase one is symmetric about 0."""
    n_fft = 640
    log_gain, _ = _resonator(n_fft)
    quefrency = torch.arange(n_fft)
    kept = (quefrency < 30) | (quefrency > n_fft - 30)  # the first 30 cepstral bins, both halves of the real cepstrum
    smooth = torch.fft.rfft(torch.fft.irfft(log_gain, n=n_fft) * kept).real
    theta = minimum_phase_matrix(n_fft, 30) @ log_gain
    h = torch.fft.irfft(torch.polar(torch.exp(smooth), theta), n=n_fft)
    zero = torch.fft.irfft(torch.exp(smooth).to(torch.complex128), n=n_fft)
    energy, symmetric = h.pow(2), zero.pow(2)
    assert float(energy[:40].sum() / energy.sum()) > 0.9
    assert float(energy[-40:].sum() / energy.sum()) < 0.01  # nothing before time 0 (the circular tail)
    assert float(symmetric[-40:].sum() / symmetric.sum()) > 0.3
    torch.testing.assert_close(torch.fft.rfft(h).abs(), torch.exp(smooth), rtol=1e-6, atol=1e-9)


def test_a_minimum_phase_head_turns_its_harmonics_not_its_noise() -> None:
    """``minimum_phase`` changes only the harmonic part: with the noise filter silenced the output differs from
    the plain head's at the same weights, with the harmonic filter silenced it does not; it adds no weights."""
    torch.manual_seed(3)
    plain, turned = HarmonicHead(16, 20, 16000), HarmonicHead(16, 20, 16000, minimum_phase=8)
    turned.load_state_dict(plain.state_dict())
    x = torch.randn(1, 12, 16)
    with torch.no_grad():
        for head in (plain, turned):
            head.proj.bias[head.bins : 2 * head.bins] = -30.0  # noise gains ~0
        assert float((turned(x).audio - plain(x).audio).abs().max()) > 1e-3
        for head in (plain, turned):
            head.proj.bias[head.bins : 2 * head.bins] = 0.0
            head.proj.bias[: head.bins] = -30.0  # harmonic gains ~0
        torch.testing.assert_close(turned(x).audio, plain(x).audio, rtol=0, atol=1e-6)


def test_minimum_phase_needs_a_harmonic_head_without_phase_terms() -> None:
    with pytest.raises(ValueError, match="minimum_phase"):
        dataclasses.replace(TINY, minimum_phase=8).check()
    with pytest.raises(ValueError, match="minimum_phase"):
        dataclasses.replace(HARMONIC, minimum_phase=8, phase_terms=2).check()
    with pytest.raises(ValueError, match="minimum_phase"):
        dataclasses.replace(HARMONIC, minimum_phase=10_000).check()
    dataclasses.replace(HARMONIC, minimum_phase=8).check()
    assert ModelConfig.from_json(HARMONIC.to_json()).minimum_phase == 0


def test_phase_terms_need_a_harmonic_head() -> None:
    with pytest.raises(ValueError, match="phase_terms"):
        dataclasses.replace(TINY, phase_terms=2).check()
    dataclasses.replace(HARMONIC, phase_terms=2).check()
    assert ModelConfig.from_json(HARMONIC.to_json()).phase_terms == 0
