"""The real DFT as a fixed basis: what convolutions turn into STFTs that ONNX can run (see
:mod:`vqcodec.export.spectral` and the encoder's spectral input, :class:`vqcodec.nn.encoder.LogMel`)."""

from __future__ import annotations

import math

import torch


def dft_basis(n_fft: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of 2 pi k n / n_fft, ``[F, n_fft]`` each in float64, F = n_fft / 2 + 1."""
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)[:, None]
    n = torch.arange(n_fft, dtype=torch.float64)[None]
    angle = 2 * math.pi * k * n / n_fft
    return torch.cos(angle), torch.sin(angle)
