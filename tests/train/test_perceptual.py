"""Tests for vqcodec.train.perceptual: PESQ's model of hearing as a loss. Zero for the same signal, blind to
the level both share, a dead zone for what cannot be heard, added energy costlier than lost energy, a band
turned down costs, and a gradient for the decoder."""

from __future__ import annotations

import math

import torch

from vqcodec.analysis.synthetic import speech_like
from vqcodec.train.perceptual import PerceptualLoss, bark, threshold_db

SR = 16000


def _tones(*hz: float, seconds: float = 1.0, amp: float = 0.1) -> torch.Tensor:
    t = torch.arange(int(SR * seconds)) / SR
    return sum(amp * torch.sin(2 * math.pi * f * t) for f in hz)[None, None]  # [1, 1, T]


def _speechlike(seed: int = 0) -> torch.Tensor:
    """A second of the package's synthetic speech: [1, 1, T]."""
    return torch.from_numpy(speech_like(1.0, SR, seed))[None, None]


def test_scales() -> None:
    assert abs(float(bark(torch.tensor(1000.0))) - 8.5) < 0.2  # 1 kHz is about 8.5 Bark
    assert float(threshold_db(torch.tensor(3300.0))) < float(
        threshold_db(torch.tensor(100.0))
    )  # most sensitive near 3 kHz


def test_zero_for_the_same_signal_at_any_level() -> None:
    loss, x = PerceptualLoss(), _speechlike()
    assert float(loss(x, x)) < 1e-6
    noisy = x + 0.02 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    assert abs(float(loss(0.25 * noisy, 0.25 * x)) - float(loss(noisy, x))) < 1e-4 * float(loss(noisy, x)) + 1e-7


def test_an_inaudible_difference_costs_nothing() -> None:
    loss, x = PerceptualLoss(), _speechlike()
    g = torch.Generator().manual_seed(2)
    assert float(loss(x + 1e-6 * torch.randn(x.shape, generator=g), x)) < 1e-6
    assert float(loss(x + 1e-2 * torch.randn(x.shape, generator=g), x)) > 1e-4


def test_added_energy_costs_more_than_lost_energy() -> None:
    """Adding a tone where the reference has none costs more than losing a tone of the same level."""
    loss, x = PerceptualLoss(), _tones(500, 2000)
    assert float(loss(_tones(500, 2000, 3000), x)) > 1.2 * float(loss(_tones(500), x))


def test_a_quieter_output_costs() -> None:
    """The level is the reference's: a decoder cannot lower the loss by turning a band down."""
    loss, x = PerceptualLoss(), _speechlike()
    spec = torch.fft.rfft(x)
    hz = torch.fft.rfftfreq(x.shape[-1], 1 / SR)
    for db in (-3.0, -8.0):
        colored = torch.fft.irfft(spec * torch.where((hz > 600) & (hz < 2000), 10 ** (db / 20), 1.0), n=x.shape[-1])
        assert float(loss(colored, x)) > 1e-4


def test_the_decoder_gets_a_gradient() -> None:
    x = _speechlike()
    y = (x + 0.02 * torch.randn(x.shape, generator=torch.Generator().manual_seed(3))).requires_grad_()
    PerceptualLoss()(y, x).backward()
    assert y.grad is not None and torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0


def test_no_nan_where_the_signals_agree() -> None:
    x = _speechlike()
    y = x.clone().requires_grad_()
    PerceptualLoss()(y, x).backward()
    assert torch.isfinite(y.grad).all()
