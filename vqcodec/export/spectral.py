"""Short-time Fourier transforms as convolutions with a fixed DFT basis: what ONNX can run.

ONNX has no inverse STFT and no complex numbers, so the export twins of the heads keep spectra as real and
imaginary halves ``[B, 2F, N]`` and transform with these. Both match ``torch.stft`` / ``torch.istft`` with a
Hann window and ``center=True`` (reflect padding), to float32 rounding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vqcodec.nn.dft import dft_basis


class ConvSTFT(nn.Module):
    """``[B, T]`` -> ``[B, 2F, T / hop + 1]`` (real parts, then imaginary), as ``torch.stft(center=True)``."""

    def __init__(self, window: torch.Tensor, hop: int):
        super().__init__()
        self.hop, self.n_fft = hop, len(window)
        cos, sin = dft_basis(self.n_fft)
        w = window.double()[None]
        basis = torch.cat([cos * w, -sin * w])  # [2F, n_fft]: X_k = sum_n x_n w_n e^{-2 pi i k n / N}
        self.register_buffer("basis", basis.float()[:, None], persistent=False)  # [2F, 1, n_fft]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.n_fft // 2
        x = F.pad(x[:, None], (pad, pad), mode="reflect")  # [B, 1, T + n_fft]
        return F.conv1d(x, self.basis, stride=self.hop)


class ConvISTFT(nn.Module):
    """``[B, 2F, N]`` spectra -> ``[B, N * hop]`` samples, as ``torch.istft(center=True, length=N * hop)``.

    Each frame's inverse real DFT, windowed, is one column of a transposed convolution (overlap-add);
    the sum is divided by the overlap-added squared window, as ``istft`` divides it::

        x_n = (1 / N) (Re X_0 + Re X_{N/2} (-1)^n + 2 sum_{0<k<N/2} Re X_k cos(2 pi k n / N) - Im X_k sin(...))

    (``irfft`` ignores the imaginary parts of the DC and Nyquist bins; so do the zero rows of sin there).
    """

    def __init__(self, window: torch.Tensor, hop: int):
        super().__init__()
        self.hop, self.n_fft = hop, len(window)
        cos, sin = dft_basis(self.n_fft)
        scale = torch.full((self.n_fft // 2 + 1, 1), 2.0, dtype=torch.float64)
        scale[0], scale[-1] = 1.0, 1.0
        w = window.double()[None]
        basis = torch.cat([cos * scale * w, -sin * scale * w]) / self.n_fft  # [2F, n_fft]
        self.register_buffer("basis", basis.float()[:, None], persistent=False)  # [2F, 1, n_fft]
        self.register_buffer("window_sq", window.pow(2)[None, None], persistent=False)  # [1, 1, n_fft]

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        frames, pad = spec.shape[-1], self.n_fft // 2
        y = F.conv_transpose1d(spec, self.basis, stride=self.hop)  # [B, 1, (N - 1) hop + n_fft]
        ones = torch.ones_like(spec[:1, :1])  # [1, 1, N]
        envelope = F.conv_transpose1d(ones, self.window_sq, stride=self.hop)  # [1, 1, (N - 1) hop + n_fft]
        # center=True: frame k is centred on sample k * hop, so the signal starts n_fft / 2 into the sum
        y = y[..., pad : pad + frames * self.hop] / envelope[..., pad : pad + frames * self.hop]
        return y[:, 0]
