"""Strided 1-D convolutional encoders: waveform -> bottom latents, bottom latents -> top latents."""

from __future__ import annotations

import torch
from torch import nn

from vqcodec.nn.layers import ConvNeXtBlock, Downsample, ResUnit


class Encoder(nn.Module):
    """Waveform to bottom-level latents.

    A strided stem turns the waveform into short patches at once (convolutions over thin channels at the
    sample rate are what makes waveform encoders slow on CPUs), then a residual unit and a strided conv
    per stage down to the frame rate, then ConvNeXt blocks at the frame rate, where compute is cheap.

    Args:
        channels: width after each stage, the stem's included.
        strides: one per stage (stem first); their product is the hop in samples.
        latent_dim: output width.
        n_blocks: ConvNeXt blocks at the frame rate.
    """

    def __init__(self, channels: tuple[int, ...], strides: tuple[int, ...], latent_dim: int, n_blocks: int):
        super().__init__()
        layers: list[nn.Module] = [Downsample(1, channels[0], strides[0], activate=False)]
        for width, out_dim, stride in zip(channels[:-1], channels[1:], strides[1:], strict=True):
            layers += [ResUnit(width), Downsample(width, out_dim, stride)]
        width = channels[-1]
        layers += [nn.Conv1d(width, latent_dim, 3, padding=1)]
        layers += [ConvNeXtBlock(latent_dim) for _ in range(n_blocks)]
        self.net = nn.Sequential(*layers)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """[B, 1, T] -> [B, latent_dim, T / hop]."""
        return self.net(wav)


class TopEncoder(nn.Module):
    """Bottom latents to top latents at a coarser rate (VQ-VAE-2's second encoder)."""

    def __init__(self, dim: int, strides: tuple[int, ...], n_blocks: int):
        super().__init__()
        layers: list[nn.Module] = [Downsample(dim, dim, s) for s in strides]
        layers += [ConvNeXtBlock(dim) for _ in range(n_blocks)]
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """[B, D, T_b] -> [B, D, T_b / prod(strides)]."""
        return self.net(h)
