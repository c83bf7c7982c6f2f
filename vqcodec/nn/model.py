"""The VQ-VAE-2 codec model: parts injected, presets built by ``from_config``."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from vqcodec.errors import UserError
from vqcodec.nn.config import ModelConfig
from vqcodec.nn.decoder import Decoder, TopDecoder
from vqcodec.nn.encoder import Encoder, TopEncoder
from vqcodec.nn.excitation import Pitch
from vqcodec.nn.heads import make_head
from vqcodec.nn.hierarchy import Hierarchy
from vqcodec.nn.quantizer import ResidualVQ
from vqcodec.pitch.quantize import frame_f0, track_codes


@dataclass
class ModelOutput:
    """Attributes:
    audio: [B, 1, T] reconstruction.
    top_codes: [B, n_top, T_t]; bottom_codes: [B, n_bottom, T_b].
    commit_loss, codebook_loss: scalars.
    latents: [B, D, T_b] bottom-level encoder output (for dead-code restarts).
    f0, voicing: [B, N] per decoder frame, predicted F0 in Hz and voicing logits (source-filter heads only).
    metrics: per level, its quantizer's health (code counts, restarts, perplexity; see QuantizerOutput).
    bottom, top: [B, D, T_b] each, what the decoder was given: the quantized bottom (each item's kept codebooks,
        straight-through gradient to the encoder) and the decoded top.
    """

    audio: torch.Tensor
    top_codes: torch.Tensor
    bottom_codes: torch.Tensor
    commit_loss: torch.Tensor
    codebook_loss: torch.Tensor
    latents: torch.Tensor
    f0: torch.Tensor | None = None
    voicing: torch.Tensor | None = None
    metrics: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    bottom: torch.Tensor | None = None
    top: torch.Tensor | None = None


def given_codebooks(codes: torch.Tensor) -> torch.Tensor:
    """[B, q, T] codes -> [B] int64, q for every item (what a decoder told its rate is given; traceable)."""
    return torch.ones_like(codes[:, :, 0]).sum(1)


class VQCodecModel(nn.Module):
    """Encoder -> two-level quantizer hierarchy -> decoder, on mono audio at ``config.sample_rate``.

    Inputs must be a whole number of top frames long (``config.top_hop`` samples); the codec API pads.
    """

    def __init__(self, config: ModelConfig, encoder: Encoder, hierarchy: Hierarchy, decoder: Decoder):
        super().__init__()
        self.config = config
        self.encoder = encoder
        self.hierarchy = hierarchy
        self.decoder = decoder

    @classmethod
    def from_config(cls, config: ModelConfig) -> "VQCodecModel":
        c = config
        encoder = Encoder(c.encoder_channels, c.strides, c.latent_dim, c.encoder_blocks, c.encoder_mels, c.sample_rate)
        restarts = {
            "usage_decay": c.usage_decay,
            "restart_every": c.restart_every,
            "restart_threshold": c.restart_threshold,
            "residual_fit": c.residual_fit,
            "residual_readout": c.residual_readout,
            "bypass": c.bypass,
        }
        top_from, bottom_from = c.readout_from or (1, 1)
        hierarchy = Hierarchy(
            TopEncoder(c.latent_dim, c.top_strides, c.top_blocks),
            ResidualVQ(
                c.latent_dim, c.n_top, c.codebook_size, c.codebook_dim, c.top_dropout, readout_from=top_from, **restarts
            ),
            TopDecoder(c.latent_dim, c.top_strides, c.top_blocks),
            ResidualVQ(
                c.latent_dim,
                c.n_bottom,
                c.codebook_size,
                c.codebook_dim,
                c.bottom_dropout,
                readout_from=bottom_from,
                **restarts,
            ),
            c.latent_dim,
        )
        head = make_head(
            c.head, c.decoder_dim, c.hop // c.decoder_upsample, c.sample_rate, c.phase_terms, c.minimum_phase
        )
        rates = c.n_bottom if c.rate_embedding else 0
        decoder = Decoder(c.latent_dim, c.decoder_dim, c.decoder_blocks, c.decoder_upsample, head, rates)
        return cls(config, encoder, hierarchy, decoder)

    def _check_length(self, wav: torch.Tensor) -> None:
        if wav.dim() != 3 or wav.shape[1] != 1 or wav.shape[-1] % self.config.top_hop:
            raise UserError(f"expected [B, 1, k*{self.config.top_hop}] audio, got {tuple(wav.shape)}")

    def forward(self, wav: torch.Tensor, pitch: Pitch | None = None) -> ModelOutput:
        """[B, 1, T] -> ModelOutput (training and evaluation pass); ``pitch``: tracked F0 that drives a
        source-filter head's excitation instead of its prediction (teacher forcing in training)."""
        self._check_length(wav)
        latents = self.encoder(wav)
        h = self.hierarchy(latents)
        kept = h.bottom_kept if h.bottom_kept is not None else given_codebooks(h.bottom_codes)
        out = self.decoder(h.bottom, h.top, pitch=pitch, kept=kept)
        return ModelOutput(
            out.audio.unsqueeze(1),
            h.top_codes,
            h.bottom_codes,
            h.commit_loss,
            h.codebook_loss,
            latents,
            out.f0,
            out.voicing,
            h.metrics,
            h.bottom,
            h.top,
        )

    def encode(self, wav: torch.Tensor, n_top: int, n_bottom: int) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, 1, T] -> top codes [B, n_top, T / top_hop], bottom codes [B, n_bottom, T / hop]."""
        self._check_length(wav)
        return self.hierarchy.encode(self.encoder(wav), n_top, n_bottom)

    def decode(
        self,
        top_codes: torch.Tensor,
        bottom_codes: torch.Tensor,
        pitch_codes: torch.Tensor | None = None,
        offset: int = 0,
        *,
        pitch: Pitch | None = None,
    ) -> torch.Tensor:
        """Codes -> [B, 1, T_b * hop] audio; ``offset``: index of the first sample in the whole signal
        (a source-filter head's noise is a function of it, so windows decode as the whole would).
        ``pitch_codes`` [B, 1, T_b] (a model with a pitch stream) drive the source; without them the
        predicted F0 does. ``pitch``, on the decoder's frames, drives it instead of either (an F0 tracked on
        the reference, a phase lock: what an oracle would send). The audio is scaled by the calibrated
        ``config.output_gain``."""
        if pitch is not None and pitch_codes is not None:
            raise UserError("give pitch codes or a pitch, not both")
        bottom, top = self.hierarchy.decode(top_codes, bottom_codes)
        pitch = self.pitch(pitch_codes) if pitch is None else pitch
        audio = self.decoder(bottom, top, offset, pitch, given_codebooks(bottom_codes)).audio.unsqueeze(1)
        return audio * self.config.output_gain if self.config.output_gain_db else audio

    def pitch(self, pitch_codes: torch.Tensor | None) -> Pitch | None:
        """Pitch codes [B, 1, T_b] -> the F0 on the decoder's frames, [B, T_b * decoder_upsample] (None: None)."""
        if pitch_codes is None:
            return None
        c = self.config
        if not c.pitch_bits:
            raise UserError("this model has no pitch stream")
        f0 = frame_f0(pitch_codes[:, 0].cpu().numpy(), c.pitch_bits, c.decoder_upsample)
        f0 = torch.from_numpy(f0).to(pitch_codes.device)
        return Pitch(f0, f0 > 0)

    def track_pitch(self, wav: torch.Tensor) -> torch.Tensor:
        """[B, 1, T] -> pitch codes [B, 1, T / hop] (a model with a pitch stream): F0 tracked and quantized."""
        c = self.config
        codes = track_codes(wav[:, 0].detach().cpu().numpy(), c.sample_rate, c.hop, c.pitch_bits)
        return torch.from_numpy(codes).unsqueeze(1).to(wav.device)
