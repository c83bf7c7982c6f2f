"""Tests for vqcodec.train.losses' phase distance: zero for the same phase at any level, about 2 for
unrelated signals, largest for a sign flip, and no pull on the level."""

from __future__ import annotations

import torch

from vqcodec.train.losses import PhaseLoss


def _signal(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 1, 4000, generator=g)


def test_phase_loss_sees_phase_not_level() -> None:
    loss, x = PhaseLoss(), _signal(0)
    assert float(loss(0.3 * x, x)) < 1e-6
    assert 1.8 < float(loss(_signal(1), x)) < 2.2  # unrelated phases: E|u - v|^2 = 2
    assert float(loss(-x, x)) > 3.9  # every bin turned over: |u - (-u)|^2 = 4


def test_phase_loss_does_not_pull_the_level_down() -> None:
    """A complex MSE under an uncertain phase is lowest for a quieter output; this loss gives the level no
    gradient at all."""
    x = _signal(0)
    gain = torch.tensor(0.5, requires_grad=True)
    PhaseLoss()(gain * _signal(1), x).backward()
    assert abs(float(gain.grad)) < 1e-6
