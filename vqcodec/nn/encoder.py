"""Strided 1-D convolutional encoders: waveform -> bottom latents, bottom latents -> top latents."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torchaudio.functional import melscale_fbanks

from vqcodec.nn.dft import dft_basis
from vqcodec.nn.layers import ConvNeXtBlock, Downsample, ResUnit, full_precision


class LogMel(nn.Module):
    """Waveform to log mel energies, one frame per hop: ``[B, 1, T]`` -> ``[B, n_mels, T / hop]``.

    Frame k is a Hann-windowed DFT of ``2 hop`` samples centred on the middle of hop block k, the block the
    encoder's frame k codes (zero padding at the ends). The DFT is a convolution with a fixed basis and the
    mel bands a matrix product, so the ONNX export runs it as it is. Computed in float32 under autocast.
    """

    def __init__(self, sample_rate: int, hop: int, n_mels: int):
        super().__init__()
        self.hop, n_fft = hop, 2 * hop
        cos, sin = dft_basis(n_fft)
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)[None]
        basis = torch.cat([cos * window, -sin * window]).float()[:, None]  # [2F, 1, n_fft]
        self.register_buffer("basis", basis, persistent=False)
        fbanks = melscale_fbanks(n_fft // 2 + 1, 0.0, sample_rate / 2, n_mels, sample_rate)  # [F, n_mels]
        self.register_buffer("fbanks", fbanks.T.contiguous(), persistent=False)  # [n_mels, F]

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """[B, 1, T] (T a multiple of hop) -> [B, n_mels, T / hop], roughly in [-3, 3]."""
        with full_precision(wav) as x:
            spec = F.conv1d(x, self.basis, stride=self.hop, padding=self.hop // 2)  # [B, 2F, T / hop]
            re, im = spec.chunk(2, dim=1)
            power = torch.matmul(self.fbanks, re * re + im * im)  # [B, n_mels, T / hop]
            return (torch.log(power + 1e-6) + 4.0) / 5.0


class SpectralInput(nn.Module):
    """Log mel energies added to the convolutional encoder's latents: a waveform encoder's first layers see
    a few milliseconds at a time, while formants need tens; this hands it a spectrum of 2 hops per frame.

    ``[B, 1, T]`` -> ``[B, latent_dim, T / hop]``, a small network over the log mels (kernel 3 frames).
    """

    def __init__(self, sample_rate: int, hop: int, n_mels: int, latent_dim: int):
        super().__init__()
        self.mel = LogMel(sample_rate, hop, n_mels)
        self.net = nn.Sequential(
            nn.Conv1d(n_mels, latent_dim, 3, padding=1), nn.GELU(), nn.Conv1d(latent_dim, latent_dim, 1)
        )

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.net(self.mel(wav))

    @torch.no_grad()
    def silence(self) -> None:
        """Make the branch add nothing (its last layer zero), so a trained encoder it joins codes as before
        and training puts it to use."""
        self.net[-1].weight.zero_()
        self.net[-1].bias.zero_()


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
        n_mels: log mel bands added to the latents by a :class:`SpectralInput` (0: none).
        sample_rate: of the input (for the mel bands).
    """

    def __init__(
        self,
        channels: tuple[int, ...],
        strides: tuple[int, ...],
        latent_dim: int,
        n_blocks: int,
        n_mels: int = 0,
        sample_rate: int = 16000,
    ):
        super().__init__()
        hop = math.prod(strides)
        self.spectral = SpectralInput(sample_rate, hop, n_mels, latent_dim) if n_mels else None
        layers: list[nn.Module] = [Downsample(1, channels[0], strides[0], activate=False)]
        for width, out_dim, stride in zip(channels[:-1], channels[1:], strides[1:], strict=True):
            layers += [ResUnit(width), Downsample(width, out_dim, stride)]
        width = channels[-1]
        layers += [nn.Conv1d(width, latent_dim, 3, padding=1)]
        layers += [ConvNeXtBlock(latent_dim) for _ in range(n_blocks)]
        self.net = nn.Sequential(*layers)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """[B, 1, T] -> [B, latent_dim, T / hop]."""
        h = self.net(wav)
        return h if self.spectral is None else h + self.spectral(wav)


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
