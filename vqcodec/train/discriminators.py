"""Adversarial training parts: a multi-resolution spectrogram discriminator and its losses.

Regression losses on spectra reward the mean of what the decoder cannot tell apart, which is a smeared
spectrum; a discriminator rewards a *plausible* one (sharp harmonics, noise that sounds like noise). The
discriminator judges log-magnitude spectrograms at several resolutions with small 2-D convolutions, as in
UnivNet (Jang et al. 2021) and Vocos (Siuzdak 2023); spectrograms rather than waveforms because a
spectrogram at hop 128-512 is 100-500 times shorter than the waveform, which is what a CPU can afford.
The generator also matches the discriminator's features on real and decoded audio (MelGAN's feature
matching, Kumar et al. 2019), which steadies training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


class SpectrogramDiscriminator(nn.Module):
    """One resolution: log-magnitude STFT ``[B, 1, F, N]`` through strided 2-D convolutions.

    Args:
        n_fft: window and FFT size; hop is a quarter of it.
        channels: width of every layer.
    """

    def __init__(self, n_fft: int, channels: int = 16):
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        c = channels
        self.convs = nn.ModuleList(
            [
                weight_norm(nn.Conv2d(1, c, (3, 9), padding=(1, 4))),
                weight_norm(nn.Conv2d(c, c, (3, 9), stride=(1, 2), padding=(1, 4))),
                weight_norm(nn.Conv2d(c, c, (3, 9), stride=(1, 2), padding=(1, 4))),
                weight_norm(nn.Conv2d(c, c, (3, 9), stride=(1, 2), padding=(1, 4))),
                weight_norm(nn.Conv2d(c, c, (3, 3), padding=(1, 1))),
            ]
        )
        self.out = weight_norm(nn.Conv2d(c, 1, (3, 3), padding=(1, 1)))

    def spectrogram(self, x: torch.Tensor) -> torch.Tensor:
        """[B, 1, T] -> [B, 1, N, F] log magnitude (time first, so strides shrink frequency)."""
        spec = torch.stft(x.squeeze(1), self.n_fft, self.n_fft // 4, window=self.window, return_complex=True)
        return torch.log(spec.abs().clamp(min=1e-5)).transpose(1, 2).unsqueeze(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """[B, 1, T] -> logits [B, 1, N, F'] and the feature maps after each hidden layer."""
        h, features = self.spectrogram(x), []
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.1)
            features.append(h)
        return self.out(h), features


class MultiResolutionDiscriminator(nn.Module):
    """Several :class:`SpectrogramDiscriminator` at different FFT sizes (time vs frequency resolution)."""

    def __init__(self, n_ffts: tuple[int, ...] = (512, 1024, 2048), channels: int = 16):
        super().__init__()
        self.discriminators = nn.ModuleList(SpectrogramDiscriminator(n, channels) for n in n_ffts)

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        """[B, 1, T] -> per resolution (logits, features)."""
        return [d(x) for d in self.discriminators]


def discriminator_loss(real: list, fake: list) -> torch.Tensor:
    """Hinge loss of the discriminator: real logits pushed above 1, decoded ones below -1."""
    loss = real[0][0].new_zeros(())
    for (r, _), (f, _) in zip(real, fake, strict=True):
        loss = loss + F.relu(1 - r).mean() + F.relu(1 + f).mean()
    return loss / len(real)


def generator_losses(real: list, fake: list) -> tuple[torch.Tensor, torch.Tensor]:
    """Hinge adversarial loss of the generator, and feature matching: L1 between the discriminator's
    features on real and decoded audio, each layer relative to the real features' mean magnitude (so
    every layer and resolution counts alike)."""
    adv, feat = fake[0][0].new_zeros(()), fake[0][0].new_zeros(())
    n_feat = 0
    for (_, rf), (f, ff) in zip(real, fake, strict=True):
        adv = adv + F.relu(1 - f).mean()
        for a, b in zip(rf, ff, strict=True):
            feat = feat + (a.detach() - b).abs().mean() / (a.detach().abs().mean() + 1e-5)
            n_feat += 1
    return adv / len(fake), feat / max(1, n_feat)
