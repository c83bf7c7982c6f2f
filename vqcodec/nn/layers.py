"""Small building blocks shared by the encoder, the hierarchy and the decoder."""

from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn


@contextmanager
def full_precision(x: torch.Tensor):
    """Leave any autocast region and yield ``x`` as float32.

    For the parts that must not run in bfloat16 under mixed-precision training: the quantizers (cosine
    lookup; restarts copy latents into float32 codebooks) and the inverse STFT (``torch.polar`` and
    ``istft`` take no bfloat16). A no-op outside autocast.
    """
    with torch.autocast(device_type=x.device.type, enabled=False):
        yield x.float()


class ConvNeXtBlock(nn.Module):
    """ConvNeXt block on a 1-D sequence (Liu et al. 2022, as used by Vocos).

    A depthwise conv mixes time, a per-frame MLP mixes channels; LayerNorm is per frame, so nothing
    couples distant frames (chunked coding stays close to whole-file coding).
    """

    def __init__(self, dim: int, kernel_size: int = 7, expansion: int = 3):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.pw1 = nn.Linear(dim, expansion * dim)
        self.pw2 = nn.Linear(expansion * dim, dim)
        self.scale = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, T] -> [B, C, T]."""
        h = self.dwconv(x).transpose(1, 2)  # [B, T, C]
        h = self.pw2(F.gelu(self.pw1(self.norm(h))))
        return x + (self.scale * h).transpose(1, 2)


class ResUnit(nn.Module):
    """Dilated residual conv unit at the sample-rate end of the encoder (SEANet style, kept thin)."""

    def __init__(self, dim: int, dilation: int = 1):
        super().__init__()
        self.conv1 = nn.Conv1d(dim, dim, 7, padding=3 * dilation, dilation=dilation)
        self.conv2 = nn.Conv1d(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, T] -> [B, C, T]."""
        return x + self.conv2(F.elu(self.conv1(F.elu(x))))


class Downsample(nn.Module):
    """Strided conv that maps T samples to exactly T / stride frames (T must be a multiple of stride).

    Kernel 2s with s/2 padding on each side (ceil on the left when s is odd):
    out = (T + s - 2s) / s + 1 = T / s.
    """

    def __init__(self, in_dim: int, out_dim: int, stride: int, activate: bool = True):
        super().__init__()
        self.pad = ((stride + 1) // 2, stride // 2)
        self.act = nn.ELU() if activate else nn.Identity()
        self.conv = nn.Conv1d(in_dim, out_dim, 2 * stride, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C_in, T] -> [B, C_out, T / stride]."""
        # Frame j's kernel is centred on its own s samples, so it sees s/2 of each neighbour, and a window
        # that starts on a frame boundary gives the frames the whole signal gives there (s = 4):
        #
        #   padded:   p p | x0 x1 x2 x3 | x4 x5 x6 x7 | ... | p p
        #   frame 0:  [p  p  x0 x1 x2 x3 x4 x5]           kernel 2s = 8, hop s = 4
        #   frame 1:              [x2 x3 x4 x5 x6 x7 x8 x9]
        return self.conv(F.pad(self.act(x), self.pad))


class Upsample(nn.Module):
    """Transposed conv mapping T frames to exactly T * stride frames.

    Kernel 2s, padding p: out = (T - 1) s - 2p + 2s; with 2p = s this is T s. Odd strides trim one extra
    frame on the right.
    """

    def __init__(self, in_dim: int, out_dim: int, stride: int):
        super().__init__()
        self.stride = stride
        self.conv = nn.ConvTranspose1d(in_dim, out_dim, 2 * stride, stride=stride, padding=stride // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C_in, T] -> [B, C_out, T * stride]."""
        y = self.conv(x)  # [B, C_out, T s] (T s + 1 for odd s: padding s // 2 trims one sample too few)
        return y[..., : x.shape[-1] * self.stride]
