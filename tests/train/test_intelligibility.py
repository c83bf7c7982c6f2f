"""Tests for vqcodec.train.intelligibility: 1 - STOI as a loss. Zero for the same signal, blind to a level
both share, close to pystoi's STOI, worse as noise grows, and a gradient for the decoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vqcodec.analysis.synthetic import speech_like
from vqcodec.train.intelligibility import IntelligibilityLoss

SR = 16000


def _speechlike(seconds: float = 2.0, seed: int = 0) -> torch.Tensor:
    """The package's synthetic speech: [1, 1, T]."""
    return torch.from_numpy(speech_like(seconds, SR, seed)).float()[None, None]


def _noisy(x: torch.Tensor, level: float, seed: int = 1) -> torch.Tensor:
    return x + level * x.std() * torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))


def test_zero_for_the_same_signal_and_blind_to_level() -> None:
    loss, x = IntelligibilityLoss(SR), _speechlike()
    assert abs(float(loss(x, x))) < 1e-4
    y = _noisy(x, 0.5)
    assert abs(float(loss(3.0 * y, x)) - float(loss(y, x))) < 1e-4  # a correlation: the decoded level is free


def test_close_to_pystoi_and_worse_with_more_noise() -> None:
    pystoi = pytest.importorskip("pystoi")
    loss, x = IntelligibilityLoss(SR), _speechlike()
    values = []
    for level in (0.3, 1.0, 3.0):
        y = _noisy(x, level)
        ours = float(loss(y, x))
        reference = 1.0 - pystoi.stoi(x[0, 0].numpy().astype(np.float64), y[0, 0].numpy().astype(np.float64), SR)
        assert abs(ours - reference) < 0.02  # the port differs from pystoi in its resampler only
        values.append(ours)
    assert values[0] < values[1] < values[2]


def test_batch_mean_and_gradient() -> None:
    loss, x = IntelligibilityLoss(SR), torch.cat([_speechlike(seed=0), _speechlike(seed=3)])  # [2, 1, T]
    y = _noisy(x, 1.0).requires_grad_(True)
    both = loss(y, x)
    one = [float(loss(y[i : i + 1], x[i : i + 1])) for i in range(2)]
    assert abs(float(both) - sum(one) / 2) < 1e-5
    both.backward()
    assert y.grad is not None and torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0
