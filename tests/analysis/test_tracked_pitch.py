"""Tests for vqcodec.analysis.tracked_pitch: the tracker finds a known F0 on our frame grid, and silence is unvoiced."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vqcodec.analysis.tracked_pitch import track

SR, HOP = 16000, 160


def _voice(f0: float, seconds: float = 1.0) -> torch.Tensor:
    """A glottal-like tone: ten harmonics with falling amplitudes."""
    t = np.arange(int(SR * seconds)) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 11))
    return torch.tensor(0.1 * x, dtype=torch.float32)


@pytest.mark.parametrize("f0", [110.0, 210.0])
def test_tracks_a_steady_voice(f0: float) -> None:
    pitch = track(_voice(f0)[None, None], SR, HOP)
    assert pitch.f0.shape == (1, SR // HOP) and pitch.voiced.shape == (1, SR // HOP)
    inner = pitch.voiced[0, 10:-10]
    assert bool(inner.all())
    assert torch.allclose(pitch.f0[0, 10:-10], torch.full((SR // HOP - 20,), f0), rtol=0.01)


def test_silence_and_voice_in_one_batch() -> None:
    batch = torch.stack([torch.zeros(SR), _voice(150.0)])[:, None]
    pitch = track(batch, SR, HOP)
    assert not bool(pitch.voiced[0].any()) and float(pitch.f0[0].abs().sum()) == 0
    assert float(pitch.voiced[1].float().mean()) > 0.8


def test_too_short_is_unvoiced() -> None:
    pitch = track(_voice(150.0, 0.02)[None], SR, HOP)
    assert pitch.f0.shape == (1, 2) and not bool(pitch.voiced.any())
