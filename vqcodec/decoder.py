"""Frame-rate decoders: the top level's decoder and the waveform decoder with an inverse-STFT head."""

from __future__ import annotations

import torch
from torch import nn

from vqcodec.layers import ConvNeXtBlock, Upsample, full_precision


class TopDecoder(nn.Module):
    """Quantized top latents to the bottom frame rate: VQ-VAE-2's "decoded top", which conditions the
    bottom quantizer and feeds the waveform decoder."""

    def __init__(self, dim: int, strides: tuple[int, ...], n_blocks: int):
        super().__init__()
        layers: list[nn.Module] = [ConvNeXtBlock(dim) for _ in range(n_blocks)]
        layers += [Upsample(dim, dim, s) for s in reversed(strides)]
        layers += [ConvNeXtBlock(dim)]
        self.net = nn.Sequential(*layers)

    def forward(self, q_top: torch.Tensor) -> torch.Tensor:
        """[B, D, T_t] -> [B, D, T_t * prod(strides)]."""
        return self.net(q_top)


class ISTFTHead(nn.Module):
    """Per-frame log-magnitude and phase, then an inverse STFT (Vocos, Siuzdak 2023).

    The network never works at the sample rate: one frame of ``hop`` samples costs one matrix product.
    ``n_fft = 4 hop`` with a Hann window satisfies the overlap-add condition.
    """

    def __init__(self, dim: int, hop: int):
        super().__init__()
        self.hop, self.n_fft = hop, 4 * hop
        self.proj = nn.Linear(dim, self.n_fft + 2)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, T, dim] frames -> [B, T * hop] samples."""
        with full_precision(x) as x:
            log_mag, phase = self.proj(x).transpose(1, 2).chunk(2, dim=1)  # [B, F, T] each
            mag = torch.exp(log_mag).clamp(max=1e2)
            spec = torch.polar(mag, phase)
            return torch.istft(spec, self.n_fft, self.hop, window=self.window, center=True,
                               length=x.shape[1] * self.hop)


class Decoder(nn.Module):
    """Bottom codes (and decoded top) to waveform, with all compute at frame rate.

    Args:
        latent_dim: width of the bottom latent and of the decoded top.
        dim: decoder width.
        n_blocks: ConvNeXt blocks, half before and half after the upsampling.
        upsample: decoder frames per bottom frame.
        hop: samples per bottom frame.
    """

    def __init__(self, latent_dim: int, dim: int, n_blocks: int, upsample: int, hop: int):
        super().__init__()
        self.inp = nn.Conv1d(2 * latent_dim, dim, 3, padding=1)
        self.pre = nn.Sequential(*[ConvNeXtBlock(dim) for _ in range(n_blocks // 2)])
        self.up = Upsample(dim, dim, upsample) if upsample > 1 else nn.Identity()
        self.post = nn.Sequential(*[ConvNeXtBlock(dim) for _ in range(n_blocks - n_blocks // 2)])
        self.norm = nn.LayerNorm(dim)
        self.head = ISTFTHead(dim, hop // upsample)

    def forward(self, q_bottom: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
        """q_bottom, top: [B, latent_dim, T_b] -> [B, 1, T_b * hop]."""
        h = self.post(self.up(self.pre(self.inp(torch.cat([q_bottom, top], dim=1)))))
        return self.head(self.norm(h.transpose(1, 2))).unsqueeze(1)  # [B, 1, T]
