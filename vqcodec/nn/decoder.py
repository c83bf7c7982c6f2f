"""Frame-rate decoders: the top level's decoder and the waveform decoder, which takes the head that turns
its frames into samples as a part (:mod:`vqcodec.nn.heads`)."""

from __future__ import annotations

import torch
from torch import nn

from vqcodec.nn.excitation import Pitch
from vqcodec.nn.heads import Head, HeadOutput
from vqcodec.nn.layers import ConvNeXtBlock, Upsample


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


class Decoder(nn.Module):
    """Bottom codes (and decoded top) to waveform, with all compute at frame rate.

    Args:
        latent_dim: width of the bottom latent and of the decoded top.
        dim: decoder width.
        n_blocks: ConvNeXt blocks, half before and half after the upsampling.
        upsample: decoder frames per bottom frame.
        head: decoder frames of width ``dim`` to samples (any :class:`vqcodec.nn.heads.Head`).
        rates: 0, the decoder is not told its rate; else the bottom stack's depth: the decoder learns, per
            number of bottom codebooks given, a gain and a shift per channel applied to its frames before each
            half of its blocks (``h (1 + g) + RATE_SHIFT b``), so that it need not hedge between a coarse code
            and a fine one that look alike. Both start at zero, so a model grown from one without them decodes
            as it did.
    """

    def __init__(self, latent_dim: int, dim: int, n_blocks: int, upsample: int, head: Head, rates: int = 0):
        super().__init__()
        self.inp = nn.Conv1d(2 * latent_dim, dim, 3, padding=1)
        self.rate_pre = self.rate_post = None
        if rates:
            self.rate_pre, self.rate_post = nn.Embedding(rates + 1, 2 * dim), nn.Embedding(rates + 1, 2 * dim)
            nn.init.zeros_(self.rate_pre.weight)
            nn.init.zeros_(self.rate_post.weight)
        self.pre = nn.Sequential(*[ConvNeXtBlock(dim) for _ in range(n_blocks // 2)])
        self.up = Upsample(dim, dim, upsample) if upsample > 1 else nn.Identity()
        self.post = nn.Sequential(*[ConvNeXtBlock(dim) for _ in range(n_blocks - n_blocks // 2)])
        self.norm = nn.LayerNorm(dim)
        self.head = head

    def forward(
        self,
        q_bottom: torch.Tensor,
        top: torch.Tensor,
        offset: int = 0,
        pitch: Pitch | None = None,
        kept: torch.Tensor | None = None,
    ) -> HeadOutput:
        """q_bottom, top: [B, latent_dim, T_b] -> HeadOutput with [B, T_b * hop] audio; ``offset``: index of
        the first output sample in the whole signal; ``pitch``: see :meth:`vqcodec.nn.heads.HarmonicHead.forward`;
        ``kept``: see :meth:`frames`."""
        return self.head(self.frames(q_bottom, top, kept), offset, pitch)

    @torch.no_grad()
    def grown_from(self, n_blocks: int) -> None:
        """Make the blocks past those of an ``n_blocks``-block decoder identities (layer scale 0), after the
        trained decoder's weights were loaded into the first ones: the grown decoder decodes exactly as the
        trained one did, and training puts the new blocks to use (each block's scale gets a gradient)."""
        for blocks, kept in ((self.pre, n_blocks // 2), (self.post, n_blocks - n_blocks // 2)):
            for block in list(blocks)[kept:]:
                block.scale.zero_()

    def frames(self, q_bottom: torch.Tensor, top: torch.Tensor, kept: torch.Tensor | None = None) -> torch.Tensor:
        """q_bottom, top: [B, latent_dim, T_b] -> the head's input frames [B, T_b * upsample, dim]; ``kept``
        [B] int64: how many bottom codebooks ``q_bottom`` sums (needed by a decoder told its rate; else
        ignored)."""
        h = self.inp(torch.cat([q_bottom, top], dim=1))
        if self.rate_pre is not None:
            if kept is None:
                raise ValueError("this decoder is told its rate: give the number of bottom codebooks kept")
            h = _condition(h, self.rate_pre(kept))
        h = self.up(self.pre(h))
        if self.rate_post is not None:
            h = _condition(h, self.rate_post(kept))
        return self.norm(self.post(h).transpose(1, 2))


# The shift's unit. Adam moves a parameter by about the learning rate per step whatever its gradient's size,
# so a shift stored in units of 1 would take ~10^5 steps to reach the frames' scale (per-channel spread about
# 10 at the decoder's input in the trained speech models); stored in units of 10 it moves as fast as the gain.
RATE_SHIFT = 10.0


def _condition(h: torch.Tensor, rate: torch.Tensor) -> torch.Tensor:
    """Frames [B, C, T] and a rate's gains and shifts [B, 2C] -> h (1 + g) + RATE_SHIFT b, [B, C, T]."""
    gain, shift = rate[:, :, None].chunk(2, dim=1)
    return h * (1 + gain) + RATE_SHIFT * shift
