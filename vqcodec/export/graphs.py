"""The model's two halves as traceable modules that ONNX can run: audio -> codes and codes -> audio.

They hold the trained model's own modules and call its own methods; only what ONNX lacks is done
another way: the heads' STFTs are convolutions with a DFT basis (:mod:`vqcodec.export.spectral`), spectra
are real and imaginary halves instead of complex tensors, and a level's codes may hold fewer codebooks
than its stack (padded with -1 inside the graph, and -1 decodes to zero), so one graph serves every rung.
A model with a pitch stream takes its F0 as one more input, ``pitch_f0``, whose sign says how to use it
(:func:`pitch_drive`), so one graph decodes files with the stream and codes without it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vqcodec.export.spectral import ConvISTFT, ConvSTFT
from vqcodec.nn.heads import HarmonicHead, Head, ISTFTHead
from vqcodec.nn.model import VQCodecModel, given_codebooks
from vqcodec.nn.quantizer import ResidualVQ


class EncoderGraph(nn.Module):
    """``[B, 1, T]`` audio (T a multiple of ``top_hop``) -> codes of every codebook of each level,
    ``[B, n_q, T / hop_level]`` int64 per level. A rung keeps a prefix of each stack: a residual stack's
    first codes do not depend on the codebooks after them, so cutting these equals coding with fewer."""

    def __init__(self, model: VQCodecModel):
        super().__init__()
        self.model = model

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.model.encode(audio, *self.model.config.codebooks)


def decode_prefix(stack: ResidualVQ, codes: torch.Tensor) -> torch.Tensor:
    """``[B, q, T]`` codes of the first q codebooks -> ``[B, D, T]``, q not known when tracing.

    The codes are padded with -1 to the whole stack; a -1 looks up code 0 and its output is zeroed, so
    the sum equals :meth:`ResidualVQ.decode` of the q given codebooks.
    """
    full = F.pad(codes, (0, 0, 0, stack.n_codebooks - codes.shape[1]), value=-1)  # [B, n, T]
    out = None
    for i, layer in enumerate(stack.layers):
        given = full[:, i] >= 0  # [B, T]
        d = layer.decode(full[:, i].clamp(min=0)) * given[:, None].to(torch.float32)  # [B, D, T]
        out = d if out is None else out + d
    return out


def pitch_drive(
    f0: torch.Tensor, voicing: torch.Tensor, given: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """:meth:`HarmonicHead.drive` with the pitch stream's F0 as one tensor, [B, N] each.

    ``given`` > 0: that F0 drives the source, voiced; 0: unvoiced (the predicted F0, voicing 0), as
    ``drive(f0, voicing, Pitch(given, given > 0))``; < 0 (codes without a pitch stream): the predicted F0 and
    voicing probability, as ``drive(f0, voicing, None)``. None: the graph of a model without the stream.
    """
    f0, voiced = HarmonicHead.drive(f0, voicing, None)
    if given is None:
        return f0, voiced
    return torch.where(given > 0, given, f0), torch.where(given < 0, voiced, (given > 0).to(voiced.dtype))


class HarmonicGraph(nn.Module):
    """:class:`HarmonicHead` in real arithmetic: frames ``[B, N, dim]`` (and the pitch stream's F0 ``[B, N]``,
    see :func:`pitch_drive`) -> ``[B, N * hop]``."""

    def __init__(self, head: HarmonicHead):
        super().__init__()
        self.head = head
        self.stft, self.istft = ConvSTFT(head.window, head.hop), ConvISTFT(head.window, head.hop)

    def forward(self, x: torch.Tensor, offset: torch.Tensor, pitch_f0: torch.Tensor | None = None) -> torch.Tensor:
        h, bins = self.head, self.head.bins
        gains, f0, voicing = h.controls(x)  # [B, 2F, N], [B, N], [B, N]
        b, n = f0.shape
        driven, voiced = pitch_drive(f0, voicing, pitch_f0)
        track = h.source_phase(driven) if h.phase_terms else None  # shared by the source and the rotation
        spec = self.stft(h.sources(driven, voiced, offset, track))[..., :n]  # [2B, 2F, N]
        harmonic, noise = spec[:b], spec[b:]  # [B, 2F, N] each: real parts, then imaginary
        if h.phase_terms:
            cos, sin = h.rotation(x, driven, track)  # [B, F, N] each
            re, im = harmonic[:, :bins], harmonic[:, bins:]
            harmonic = torch.cat([re * cos - im * sin, re * sin + im * cos], 1)
        elif h.minimum_phase:
            cos, sin = h.filter_phase(gains)  # [B, F, N] each
            re, im = harmonic[:, :bins], harmonic[:, bins:]
            harmonic = torch.cat([re * cos - im * sin, re * sin + im * cos], 1)
        gains = torch.cat([gains[:, :bins], gains[:, :bins]], 1), torch.cat([gains[:, bins:], gains[:, bins:]], 1)
        return self.istft(gains[0] * harmonic + gains[1] * noise)


class ISTFTGraph(nn.Module):
    """:class:`ISTFTHead` in real arithmetic: frames ``[B, N, dim]`` -> ``[B, N * hop]``."""

    def __init__(self, head: ISTFTHead):
        super().__init__()
        self.head = head
        self.istft = ConvISTFT(head.window, head.hop)

    def forward(self, x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        mag, phase = self.head.polar(x)  # [B, F, N] each
        return self.istft(torch.cat([mag * torch.cos(phase), mag * torch.sin(phase)], 1))


def head_graph(head: Head) -> nn.Module:
    """The export twin of a decoder head."""
    if isinstance(head, HarmonicHead):
        return HarmonicGraph(head)
    if isinstance(head, ISTFTHead):
        return ISTFTGraph(head)
    raise TypeError(f"no ONNX export for a {type(head).__name__}")


class DecoderGraph(nn.Module):
    """Codes of each level ``[B, q, T_level]`` (1 <= q <= its stack), ``offset`` (int64 scalar: the index
    of the first output sample in the whole signal, which seeds a harmonic head's noise) and, for a model with
    a pitch stream, ``pitch_f0`` (float32 ``[B, T_b * decoder_upsample]``, see :func:`pitch_drive`) ->
    ``[B, 1, T]`` audio at the model rate, as :meth:`VQCodecModel.decode`."""

    def __init__(self, model: VQCodecModel):
        super().__init__()
        self.model = model
        self.head = head_graph(model.decoder.head)

    def forward(
        self,
        top_codes: torch.Tensor,
        bottom_codes: torch.Tensor,
        offset: torch.Tensor,
        pitch_f0: torch.Tensor | None = None,
    ) -> torch.Tensor:
        h = self.model.hierarchy
        top = h.top_decoder(decode_prefix(h.top_quantizer, top_codes))  # [B, D, T_b]
        bottom = decode_prefix(h.bottom_quantizer, bottom_codes)
        frames = self.model.decoder.frames(bottom, top, given_codebooks(bottom_codes))  # [B, N, dim]
        drive = (offset,) if pitch_f0 is None else (offset, pitch_f0)  # only a harmonic head takes the F0
        audio = self.head(frames.float(), *drive)[:, None]
        gain = self.model.config.output_gain_db
        return audio * self.model.config.output_gain if gain else audio
