"""Tracked pitch in torch's shapes, for F0 supervision and oracles: audio tensors in, :class:`Pitch` out, from
Praat's autocorrelation tracker (:mod:`vqcodec.pitch.tracker`, where the choice of tracker is explained)."""

from __future__ import annotations

import torch

from vqcodec.nn.excitation import Pitch
from vqcodec.pitch.target import PitchSpec
from vqcodec.pitch.tracker import track_rows


def track(wav: torch.Tensor, sample_rate: int, hop: int) -> Pitch:
    """[B, 1, T] or [B, T] audio -> Pitch on ``T // hop`` frames."""
    x = wav.reshape(wav.shape[0], -1).detach().cpu().double().numpy()
    f0 = torch.from_numpy(track_rows(x, sample_rate, hop)).float()
    return Pitch(f0, f0 > 0)


def coded(wav: torch.Tensor, sample_rate: int, hop: int, bits: int, upsample: int) -> Pitch:
    """The pitch a model with a pitch stream decodes with: [B, 1, T] audio tracked on frames of ``hop``,
    quantized to ``bits`` and brought to the decoder's ``upsample`` times finer frames (``T // hop * upsample``)."""
    return pitch_of(wav, PitchSpec(sample_rate, hop, bits, upsample))


def pitch_of(wav: torch.Tensor, spec: PitchSpec) -> Pitch:
    """[B, 1, T] or [B, T] audio -> the Pitch ``spec`` asks for, on the device of ``wav``."""
    f0 = torch.from_numpy(spec(wav.reshape(wav.shape[0], -1).detach().cpu().double().numpy())).to(wav.device)
    return Pitch(f0, f0 > 0)
