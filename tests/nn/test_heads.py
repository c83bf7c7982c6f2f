"""Tests for vqcodec.nn.decoder's heads: the harmonic head's shapes and ranges, deterministic windowed
decoding, adoption of a trained inverse-STFT head, and old model files loading with the default head."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from conftest import TINY, make_model

from vqcodec.nn.config import ModelConfig
from vqcodec.nn.heads import HarmonicHead, ISTFTHead, make_head
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
    from vqcodec.analysis.pitch import Pitch

    model = make_model(HARMONIC).eval()
    x = _audio(4)
    with torch.no_grad():
        free = model(x)
        given = torch.full_like(free.f0, 150.0)
        forced = model(x, Pitch(given, given > 0))
    assert torch.equal(forced.f0, free.f0) and torch.equal(forced.voicing, free.voicing)
    assert not torch.allclose(forced.audio, free.audio)
