"""The two-level quantizer hierarchy of VQ-VAE-2 (Razavi et al. 2019), for 1-D audio latents.

    bottom latents h_b --TopEncoder--> h_t --top RVQ--> q_t --TopDecoder--> d_t   (decoded top)
    [h_b ; d_t] --condition--> bottom RVQ --> q_b
    the waveform decoder receives [q_b ; d_t]

The bottom quantizer only has to code what the decoded top leaves out: it is conditioned on d_t, and
d_t is computed from the top *codes*, so encoder and decoder see the same conditioning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from vqcodec.nn.decoder import TopDecoder
from vqcodec.nn.encoder import TopEncoder
from vqcodec.nn.quantizer import Quantizer


@dataclass
class HierarchyOutput:
    """Attributes:
    bottom: [B, D, T_b] quantized bottom latents.
    top: [B, D, T_b] decoded top, at the bottom rate.
    top_codes: [B, n_top, T_t]; bottom_codes: [B, n_bottom, T_b].
    commit_loss, codebook_loss: scalars summed over both levels.
    metrics: per level (``"top"``, ``"bottom"``), its quantizer's health (see
        :class:`vqcodec.nn.quantizer.QuantizerOutput`).
    bottom_kept: [B] int64 bottom codebooks each item's ``bottom`` sums (None: all of ``bottom_codes``).
    """

    bottom: torch.Tensor
    top: torch.Tensor
    top_codes: torch.Tensor
    bottom_codes: torch.Tensor
    commit_loss: torch.Tensor
    codebook_loss: torch.Tensor
    metrics: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    bottom_kept: torch.Tensor | None = None


class Hierarchy(nn.Module):
    """Top and bottom levels, each with its own quantizer (a residual stack of codebooks by default)."""

    def __init__(
        self,
        top_encoder: TopEncoder,
        top_quantizer: Quantizer,
        top_decoder: TopDecoder,
        bottom_quantizer: Quantizer,
        dim: int,
    ):
        super().__init__()
        self.top_encoder = top_encoder
        self.top_quantizer = top_quantizer
        self.top_decoder = top_decoder
        self.condition = nn.Conv1d(2 * dim, dim, 1)
        self.bottom_quantizer = bottom_quantizer

    def _bottom_input(self, h_bottom: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
        return self.condition(torch.cat([h_bottom, top], dim=1))

    def forward(self, h_bottom: torch.Tensor) -> HierarchyOutput:
        """[B, D, T_b] (T_b a multiple of the top stride) -> HierarchyOutput."""
        qt = self.top_quantizer(self.top_encoder(h_bottom))
        top = self.top_decoder(qt.quantized)
        qb = self.bottom_quantizer(self._bottom_input(h_bottom, top))
        return HierarchyOutput(
            qb.quantized,
            top,
            qt.codes,
            qb.codes,
            qt.commit_loss + qb.commit_loss,
            qt.codebook_loss + qb.codebook_loss,
            {"top": qt.metrics, "bottom": qb.metrics},
            qb.kept,
        )

    def encode(self, h_bottom: torch.Tensor, n_top: int, n_bottom: int) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, D, T_b] -> top codes [B, n_top, T_t], bottom codes [B, n_bottom, T_b]."""
        top_codes = self.top_quantizer.encode(self.top_encoder(h_bottom), n_top)
        top = self.top_decoder(self.top_quantizer.decode(top_codes))
        bottom_codes = self.bottom_quantizer.encode(self._bottom_input(h_bottom, top), n_bottom)
        return top_codes, bottom_codes

    def quantizer_inputs(self, h_bottom: torch.Tensor, n_top: int) -> tuple[torch.Tensor, torch.Tensor]:
        """What each level's quantizer is given when the top is coded with its first ``n_top`` codebooks:
        [B, D, T_b] -> the top's input [B, D, T_t] and the bottom's [B, D, T_b] (conditioned on that top)."""
        z_top = self.top_encoder(h_bottom)
        top = self.top_decoder(self.top_quantizer.decode(self.top_quantizer.encode(z_top, n_top)))
        return z_top, self._bottom_input(h_bottom, top)

    def decode(self, top_codes: torch.Tensor, bottom_codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes -> quantized bottom [B, D, T_b] and decoded top [B, D, T_b]."""
        top = self.top_decoder(self.top_quantizer.decode(top_codes))
        return self.bottom_quantizer.decode(bottom_codes), top
