"""Excitation signals for a source-filter head: a band-limited harmonic source and a reproducible noise.

Both are made at the sample rate from frame-rate controls and never receive gradients: the decoder learns
the filters that shape them (neural source-filter, Wang et al. 2019; DDSP, Engel et al. 2020). The
harmonic source's phase is the running integral of F0, so every harmonic is phase-coherent from frame to
frame by construction -- the thing a per-frame phase prediction failed to learn (its overlap-add
cancelled the harmonics above ~500 Hz and cost 5 dB of level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Pitch:
    """A fundamental-frequency track (from a pitch tracker in training, or predicted by a head).

    Attributes:
        f0: [B, N] Hz on frames at ``k * hop`` samples, 0 where unvoiced.
        voiced: [B, N] bool.
        phase: [B, N] radians or None: the voice's fundamental phase at each frame centre, as a sine's
            (:func:`fundamental_phase`); given, a source-filter head locks its source to it on voiced frames
            (:func:`locked_phase`), else the source runs free.
    """

    f0: torch.Tensor
    voiced: torch.Tensor
    phase: torch.Tensor | None = None


def upsample_frames(x: torch.Tensor, hop: int) -> torch.Tensor:
    """Frame-rate controls ``[B, N]`` to the sample rate ``[B, N * hop]`` by linear interpolation."""
    return F.interpolate(x.unsqueeze(1), scale_factor=hop, mode="linear", align_corners=False).squeeze(1)


NYQUIST_FADE = 0.5  # the highest harmonic fades out over its last half f0 below Nyquist


def harmonic_phase(f0: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """The fundamental's free-running phase of :func:`harmonic_source`, ``[B, T]`` float64 in ``[0, 2 pi)``: the
    running integral of ``f0`` ``[B, T]`` (Hz, clamped to at least 1), accumulated in float64 and wrapped."""
    step = f0.clamp(min=1.0).double() * (2 * math.pi / sample_rate)
    return torch.cumsum(step, dim=-1).remainder(2 * math.pi)


def locked_phase(free: torch.Tensor, lock: torch.Tensor, hop: int) -> torch.Tensor:
    """A free-running phase ``[B, T]`` (:func:`harmonic_phase`) pulled onto ``lock`` ``[B, N]`` (radians to add
    at the frame centres ``k * hop``): ``lock`` is unwrapped along the frames and interpolated linearly
    between their centres (held past the last), so the source's frequency bends by at most half a cycle per
    frame and its phase passes through ``free + lock`` at every centre. Returns ``[B, T]`` float64."""
    step = torch.diff(lock.double(), dim=-1)
    step = (step + math.pi).remainder(2 * math.pi) - math.pi  # the shortest way round
    first = lock[:, :1].double()
    unwrapped = torch.cat([first, first + torch.cumsum(step, -1)], -1)  # [B, N]
    t = torch.arange(free.shape[-1], dtype=torch.float64, device=free.device) / hop  # in frames
    k = t.floor().long().clamp(max=lock.shape[-1] - 1)
    frac = (t - k).clamp(max=1.0)
    nxt = (k + 1).clamp(max=lock.shape[-1] - 1)
    return free + unwrapped[:, k] + (unwrapped[:, nxt] - unwrapped[:, k]) * frac


def fundamental_phase(x: torch.Tensor, f0: torch.Tensor, hop: int, sample_rate: int, width: int = 512) -> torch.Tensor:
    """The phase of the fundamental of ``x`` ``[B, T]`` at each frame centre ``k * hop``, as the phase of a
    sine (what :func:`harmonic_source` sums): the angle of ``x`` under a ``width``-sample Hann window centred
    there, heterodyned by that frame's ``f0`` ``[B, N]`` (Hz; frames at 0 give 0), plus pi / 2. The window
    spans two periods of a 62.5 Hz voice, where the second harmonic falls on its first null.
    Returns ``[B, N]`` radians, ``N = f0.shape[1]``, the frames past ``x``'s end zero-padded."""
    n = f0.shape[1]
    pad = width // 2
    frames = F.pad(x.double(), (pad, pad + max(0, n * hop - x.shape[-1]))).unfold(-1, width, hop)[:, :n]  # [B, N, W]
    m = torch.arange(width, dtype=torch.float64, device=x.device) - pad  # samples from the centre
    window = torch.hann_window(width, periodic=False, dtype=torch.float64, device=x.device)
    carrier = torch.exp(-2j * math.pi * f0.double()[..., None] * m / sample_rate)  # [B, N, W]
    c = (frames * window * carrier).sum(-1)
    return torch.where(f0 > 0, torch.angle(c) + math.pi / 2, torch.zeros_like(c.real))


def harmonic_source(f0: torch.Tensor, sample_rate: int, phase: torch.Tensor | None = None) -> torch.Tensor:
    """Sum of the harmonics of ``f0`` strictly below Nyquist, of unit amplitude but for the highest, which
    fades out over the last ``NYQUIST_FADE`` f0 below Nyquist.

    Args:
        f0: [B, T] instantaneous fundamental in Hz (positive).
        phase: [B, T] the fundamental's phase (radians, float64); None: :func:`harmonic_phase` of ``f0``.
    Returns:
        [B, T] samples.

    With K harmonics and phase phi, sum_{k=1..K} sin(k phi) = sin(K phi / 2) sin((K + 1) phi / 2) / sin(phi / 2)
    (a Dirichlet-kernel identity), so the cost does not grow with the number of harmonics. The phase is
    accumulated in float64 and wrapped, or float32 would lose the fine phase of a long signal. The fade makes
    the output continuous in f0: with a hard count, an F0 whose harmonic sits on Nyquist switched a whole
    harmonic on or off at a rounding difference (torch against its ONNX graph, or one CPU against another).
    """
    f0 = f0.clamp(min=1.0)
    phase = harmonic_phase(f0, sample_rate) if phase is None else phase.remainder(2 * math.pi)
    room = sample_rate / 2 / f0.double()  # harmonics that fit below Nyquist, as a real number
    k = (torch.ceil(room) - 1).clamp(min=1)  # the highest one strictly below it
    fade = ((room - k) / NYQUIST_FADE).clamp(0.0, 1.0)  # 0 as its frequency reaches Nyquist
    half = torch.sin(phase / 2)
    safe = torch.where(half.abs() < 1e-6, torch.ones_like(half), half)
    below = torch.sin((k - 1) * phase / 2) * torch.sin(k * phase / 2) / safe  # harmonics 1 .. K - 1
    below = torch.where(half.abs() < 1e-6, torch.zeros_like(below), below)
    return (below + fade * torch.sin(k * phase)).float()


def hashed_noise(length: int, offset: int | torch.Tensor, batch: int, device: torch.device) -> torch.Tensor:
    """Uniform white noise of unit variance, a pure function of the absolute sample index.

    Decoding the same samples gives the same noise whether a file is decoded whole, in windows or in a
    batch (``offset`` is the first sample's index), so decoding stays deterministic without a generator.

    Returns:
        [batch, length].
    """
    n = torch.arange(length, device=device, dtype=torch.int64) + offset
    h = (n * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF  # multiplicative hash, then xorshift mixing
    h = (h ^ (h >> 15)) * 0x2C1B3C6D & 0xFFFFFFFF
    h = (h ^ (h >> 12)) * 0x297A2D39 & 0xFFFFFFFF
    h = h ^ (h >> 15)
    u = h.double() / 2**32  # [0, 1)
    return ((u - 0.5) * math.sqrt(12)).float().expand(batch, length)
