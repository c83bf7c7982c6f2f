"""Tests for vqcodec.train.discriminators: shapes, the hinge losses' fixed points, feature matching at zero for
identical inputs, and gradients reaching the generator's audio."""

from __future__ import annotations

import torch

from vqcodec.train.discriminators import MultiResolutionDiscriminator, discriminator_loss, generator_losses


def test_every_resolution_gives_logits_and_features() -> None:
    disc = MultiResolutionDiscriminator((256, 512), channels=4)
    outs = disc(torch.randn(2, 1, 4096))
    assert len(outs) == 2
    for logits, features in outs:
        assert logits.shape[0] == 2 and logits.shape[1] == 1 and len(features) == 5


def test_hinge_losses_vanish_when_the_discriminator_is_sure() -> None:
    real = [(torch.full((2, 1, 3, 3), 2.0), [])]
    fake = [(torch.full((2, 1, 3, 3), -2.0), [])]
    assert float(discriminator_loss(real, fake)) == 0.0
    adv, _ = generator_losses(real, fake)
    assert float(adv) == 3.0  # relu(1 - (-2))


def test_feature_matching_is_zero_on_real_audio_and_drives_the_decoded_signal() -> None:
    disc = MultiResolutionDiscriminator((256,), channels=4)
    x = torch.randn(2, 1, 2048)
    _, feat = generator_losses(disc(x), disc(x))
    assert feat.item() == 0.0
    y = (0.5 * x).requires_grad_()
    adv, feat = generator_losses(disc(x), disc(y))
    (adv + feat).backward()
    assert feat.item() > 0 and y.grad is not None and float(y.grad.abs().sum()) > 0
