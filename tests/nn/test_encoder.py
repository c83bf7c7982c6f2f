"""Tests for vqcodec.nn.encoder's spectral input: its log mels are the STFT's, frame k sits on hop block k,
a model with it builds, and old files (no such field) load without it."""

from __future__ import annotations

import dataclasses
import json

import torch
from conftest import TINY, TINY_PITCH, make_model
from torchaudio.functional import melscale_fbanks

from vqcodec.nn.config import ModelConfig
from vqcodec.nn.encoder import LogMel

SPECTRAL = dataclasses.replace(TINY_PITCH, name="tinys", encoder_mels=16)


def test_log_mels_are_those_of_the_stft() -> None:
    hop, n_mels = 80, 16
    x = 0.3 * torch.randn(2, 1, 12 * hop, generator=torch.Generator().manual_seed(0))
    got = LogMel(16000, hop, n_mels)(x)  # [B, n_mels, 12]
    padded = torch.nn.functional.pad(x[:, 0], (hop // 2, hop // 2))
    spec = torch.stft(padded, 2 * hop, hop, window=torch.hann_window(2 * hop), center=False, return_complex=True)
    fb = melscale_fbanks(hop + 1, 0.0, 8000.0, n_mels, 16000)  # [F, n_mels]
    want = (torch.log(torch.einsum("bfn,fm->bmn", spec.abs() ** 2, fb) + 1e-6) + 4.0) / 5.0
    assert got.shape == (2, n_mels, 12)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_frame_k_hears_hop_block_k() -> None:
    """A click in hop block 5 lights up frame 5 most (the frames the encoder's latents are on)."""
    hop = 80
    x = torch.zeros(1, 1, 12 * hop)
    x[..., 5 * hop + hop // 2] = 1.0
    energy = LogMel(16000, hop, 16)(x).mean(1)[0]  # [12]
    assert int(energy.argmax()) == 5


def test_a_model_with_a_spectral_input_codes_and_decodes() -> None:
    model = make_model(SPECTRAL, seed=2).eval()
    assert model.encoder.spectral is not None and make_model(TINY_PITCH).encoder.spectral is None
    x = 0.3 * torch.randn(1, 1, 3 * SPECTRAL.top_hop)
    with torch.no_grad():
        top, bottom = model.encode(x, SPECTRAL.n_top, SPECTRAL.n_bottom)
        assert bottom.shape == (1, SPECTRAL.n_bottom, 3 * SPECTRAL.top_hop // SPECTRAL.hop)
        assert model.decode(top, bottom).shape == x.shape


def test_silenced_spectral_input_adds_nothing() -> None:
    model = make_model(SPECTRAL, seed=2).eval()
    x = 0.3 * torch.randn(1, 1, 2 * SPECTRAL.top_hop)
    model.encoder.spectral.silence()
    with torch.no_grad():
        assert torch.equal(model.encoder(x), model.encoder.net(x))


def test_files_without_the_field_load_without_a_spectral_input() -> None:
    raw = json.loads(TINY.to_json())
    del raw["encoder_mels"]
    assert ModelConfig.from_dict(raw).encoder_mels == 0
