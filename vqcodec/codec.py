"""The codec API: audio at any rate and channel count <-> typed codes, in bounded memory.

Channels are coded independently (a stereo file costs twice the bits of a mono one and keeps its
image); each is resampled to the model's rate. Long signals are coded in windows of ``chunk_frames`` top
frames with ``context_frames`` of real signal on each side, so memory does not grow with the length.
Every window extends ``context_frames`` past its last kept frame (into zeros past the end of the
signal), whether the signal is coded alone, in a batch or in chunks, so all three see the same input
around every kept frame and give the same codes (up to floating-point ties): the context is the model's
receptive field, measured (:mod:`vqcodec.nn.receptive_field`; 12 top frames for the default model).
The pitch stream is tracked on blocks fixed in each signal instead (:mod:`vqcodec.pitch.blocks`): Praat's
tracker sees all it is given, so its windows must not depend on the batch or the split.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
import torch

from vqcodec.checks import check_codes
from vqcodec.codes import Codes
from vqcodec.errors import UserError
from vqcodec.io.limits import MAX_CHANNELS, check_audio
from vqcodec.io.weights import weights_hash
from vqcodec.nn.model import VQCodecModel
from vqcodec.nn.receptive_field import context_frames as measured_context
from vqcodec.pitch.blocks import BLOCK_FRAMES, PitchBlocks
from vqcodec.rates import DEFAULT_KBPS, Rung, ladder, rung
from vqcodec.resample import Fetch, resample_window, window_of
from vqcodec.windows import (
    ROWS_PER_CALL,
    decode_span,
    decode_windows,
    encode_span,
    kept_windows,
    resampled_length,
    window_frames,
)

__all__ = ["DEFAULT_KBPS", "ArraySource", "Codec", "Rung"]


class ArraySource:
    """An in-memory ``[C, T]`` signal read by windows, zeros outside ``[0, T)``.

    Raises:
        UserError (a ValueError): the array is not ``[T]`` or ``[C, T]`` (a 2-D array with more rows than columns is
            taken for soundfile's ``[T, C]`` and refused), holds NaN or infinite samples, is not numeric, or
            breaks a limit of :mod:`vqcodec.io.limits`.
    """

    def __init__(self, wav: np.ndarray | torch.Tensor, sample_rate: int):
        x = torch.as_tensor(wav) if torch.is_tensor(wav) else torch.from_numpy(np.asarray(wav))
        x = x[None] if x.dim() == 1 else x
        _check_shape(tuple(x.shape))
        if sample_rate != int(sample_rate):
            raise UserError(f"sample rate must be a whole number of Hz, got {sample_rate}")
        check_audio(int(sample_rate), *x.shape)
        x = _to_float(x)
        if not torch.isfinite(x).all():
            raise UserError("audio holds NaN or infinite samples")
        self.wav, self.sample_rate = x.cpu(), int(sample_rate)
        self.channels, self.num_samples = x.shape

    def read(self, start: int, stop: int) -> torch.Tensor:
        """[C, stop - start], zero-filled outside the signal."""
        return window_of(self.wav, start, stop)


def _check_shape(shape: tuple[int, ...]) -> None:
    """Refuse shapes that are not [C, T], or whose reading as [C, T] is doubtful."""
    how = "pass [C, T] or [T] (soundfile.read gives [T, C]: pass x.T)"
    if len(shape) != 2 or shape[0] == 0 or shape[1] == 0:
        raise UserError(f"expected audio shaped [T] or [C, T] with C, T > 0, got {shape}; {how}")
    if shape[0] > shape[1]:
        raise UserError(f"audio shaped {shape} would be {shape[0]} channels of {shape[1]} samples; {how}")
    if shape[0] > MAX_CHANNELS:
        raise UserError(f"audio shaped {shape} has {shape[0]} channels, at most {MAX_CHANNELS} are supported; {how}")


def _to_float(x: torch.Tensor) -> torch.Tensor:
    """float32 in [-1, 1]: floats as they are, integers scaled by their type's range (int16 by 32768;
    unsigned types centred, uint8 on 128, as in WAV files)."""
    if x.is_floating_point():
        return x.float()
    if x.dtype == torch.bool or x.is_complex():
        raise UserError(f"audio of type {x.dtype} is not supported: pass floats in [-1, 1] or integer PCM")
    info = torch.iinfo(x.dtype)
    half = (info.max - info.min + 1) / 2
    centre = 0 if x.dtype.is_signed else half
    return ((x.double() - centre) / half).float()


def _window(fetch: Fetch, length: int, start: int, stop: int) -> torch.Tensor:
    """``fetch`` over ``[start, stop)`` with everything outside ``[0, length)`` zero. Only the part inside is
    fetched: a window reaching far past a short signal (its context) costs what the signal costs, not what
    the window would hold at the source's rate and channels."""
    lo = min(max(start, 0), stop)
    hi = max(lo, min(stop, length))
    return torch.nn.functional.pad(fetch(lo, hi), (lo - start, stop - hi))  # [C, stop - start]


class Codec:
    """A trained model plus the bookkeeping that turns real audio into codes and back.

    Args:
        model: the VQ-VAE-2 model (put in eval mode).
        chunk_frames: top frames coded per window (20 s for the default model).
        context_frames: top frames of context on each side of a window; by default the model's receptive
            field, measured, so that windows code exactly as the whole signal.
        device: where the model runs.
    """

    def __init__(
        self,
        model: VQCodecModel,
        chunk_frames: int = 250,
        context_frames: int | None = None,
        device: str | torch.device = "cpu",
    ):
        self.model = model.eval().to(device)
        self.config = model.config
        self.context_frames = measured_context(self.config) if context_frames is None else context_frames
        self.chunk_frames, self.device = chunk_frames, torch.device(device)
        self.name, self.hash = self.config.name, weights_hash(model)
        self.ratios = tuple(self.config.top_hop // s.hop for s in self.config.streams)  # frames per top frame

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    def ladder(self) -> list[Rung]:
        """Every rate this model serves: all top codebooks, 1 to n_bottom bottom codebooks."""
        return ladder(self.config)

    def rung(self, kbps: float | None = None) -> Rung:
        """The highest rung at or below ``kbps``; by default 3 kbps, or the lowest rung if that is higher."""
        return rung(self.config, kbps)

    def encode(self, wav: np.ndarray | torch.Tensor, sample_rate: int, bitrate: float | None = None) -> Codes:
        """Audio ``[T]`` or ``[C, T]`` at ``sample_rate`` -> Codes (``bitrate`` in kbps per channel)."""
        return self.encode_sources([ArraySource(wav, sample_rate)], bitrate)[0]

    def encode_batch(
        self, wavs: Sequence[np.ndarray | torch.Tensor], sample_rate: int, bitrate: float | None = None
    ) -> list[Codes]:
        """Several recordings of any lengths at once; each gets its own codes and exact length."""
        return self.encode_sources([ArraySource(w, sample_rate) for w in wavs], bitrate)

    def encode_sources(self, sources: Sequence, bitrate: float | None = None) -> list[Codes]:
        """Sources with ``read(start, stop)``, ``sample_rate``, ``channels``, ``num_samples`` -> Codes."""
        rung = self.rung(bitrate)
        lengths = [resampled_length(s.num_samples, s.sample_rate, self.sample_rate) for s in sources]
        fetches = [self._fetch_model_rate(s, n) for s, n in zip(sources, lengths, strict=True)]
        frames = [-(-n // self.config.top_hop) for n in lengths]
        pitches = [self._pitch_blocks(f, n, s.channels) for f, n, s in zip(fetches, frames, sources, strict=True)]
        parts: list[list[tuple[torch.Tensor, ...]]] = [[] for _ in sources]
        step = window_frames(self.chunk_frames, sum(s.channels for s in sources))
        for a, b in kept_windows(max(frames), step):
            live = [i for i, f in enumerate(frames) if a < f]
            for i, levels in zip(live, self._encode_window([fetches[i] for i in live], a, b, rung), strict=True):
                pitch = () if pitches[i] is None else (torch.from_numpy(pitches[i].codes(a, b)),)
                parts[i].append((*levels, *pitch))
        return [self._codes(src, p, f) for src, p, f in zip(sources, parts, frames, strict=True)]

    def _pitch_blocks(self, fetch: Fetch, frames: int, channels: int) -> PitchBlocks | None:
        """The source's pitch codes, tracked on blocks fixed in the signal (a model with a pitch stream)."""
        c = self.config
        if not c.pitch_bits:
            return None
        read = lambda start, stop: fetch(start, stop).numpy()  # noqa: E731
        block = window_frames(BLOCK_FRAMES, channels)
        return PitchBlocks(read, frames, block, c.sample_rate, c.top_hop, c.hop, c.pitch_bits)

    def _fetch_model_rate(self, source, length: int) -> Fetch:
        """Reader of the source resampled to the model rate, zero outside ``[0, length)``."""

        def fetch(start: int, stop: int) -> torch.Tensor:
            return resample_window(source.read, source.sample_rate, self.sample_rate, start, stop)

        return lambda start, stop: _window(fetch, length, start, stop)

    @torch.inference_mode()
    def _encode_window(
        self, fetches: list[Fetch], a: int, b: int, rung: Rung
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Codes of top frames ``[a, b)`` for each source, one tensor per level: ``[C, n_q, r (b - a)]`` for
        a level of ``r`` frames per top frame (top ``[C, n_top, b-a]``, bottom ``[C, n_bottom, r(b-a)]``).
        The pitch stream is not tracked here but on blocks fixed in each signal (:class:`PitchBlocks`)."""
        hop = self.config.top_hop
        w0, w1 = encode_span(a, b, self.context_frames)
        xs = [f(w0 * hop, w1 * hop) for f in fetches]  # each [C_i, n]
        x = torch.cat(xs).unsqueeze(1).to(self.device)  # [sum C_i, 1, n]
        calls = [self.model.encode(rows, *rung.codebooks) for rows in x.split(ROWS_PER_CALL)]
        levels = [torch.cat(level) for level in zip(*calls, strict=True)]  # each [sum C_i, n_q, frames]
        # a level with r frames per top frame keeps frames r(a - w0) .. r(b - w0) of the window
        kept = [lv[..., r * (a - w0) : r * (b - w0)].cpu() for lv, r in zip(levels, self.ratios[:2], strict=True)]
        sizes = [len(x) for x in xs]
        return list(zip(*(lv.split(sizes) for lv in kept), strict=True))

    def _codes(self, source, parts: list[tuple[torch.Tensor, ...]], frames: int) -> Codes:
        streams = [torch.cat([p[i] for p in parts], dim=-1)[..., : frames * r] for i, r in enumerate(self.ratios)]
        top, bottom, *pitch = streams
        return Codes(top, bottom, source.sample_rate, source.num_samples, self.name, self.hash, *pitch)

    def check(self, codes: Codes) -> None:
        """Refuse codes made by another model, or that this model could not have made (:func:`check_codes`)."""
        made_by = (codes.model_name, codes.model_hash)
        check_codes(self.config, self.hash, codes.streams, made_by, codes.sample_rate, codes.num_samples)

    def decode(self, codes: Codes) -> torch.Tensor:
        """Codes -> ``[C, num_samples]`` float32 audio at ``codes.sample_rate``."""
        return torch.cat(list(self.decode_chunks(codes)), dim=-1)

    def decode_chunks(self, codes: Codes) -> Iterator[torch.Tensor]:
        """The decoded audio in consecutive ``[C, n]`` pieces (bounded memory for long recordings)."""
        self.check(codes)
        length = resampled_length(codes.num_samples, codes.sample_rate, self.sample_rate)
        step = window_frames(self.chunk_frames, codes.channels)
        pitch = None if codes.pitch is None else codes.pitch.numpy()
        windows = decode_windows(codes.top.shape[-1], step, pitch)
        fetch = self._decoded_model_rate(codes, length, windows)
        to_output = self.config.top_hop * codes.sample_rate  # top frames -> output samples, times the model rate
        for a, b in windows:
            start, stop = a * to_output // self.sample_rate, min(b * to_output // self.sample_rate, codes.num_samples)
            if start < stop:
                yield resample_window(fetch, self.sample_rate, codes.sample_rate, start, stop).clamp(-1, 1)

    def _decoded_model_rate(self, codes: Codes, length: int, windows: list[tuple[int, int]]) -> Fetch:
        """Reader of the decoded signal at the model rate, zero outside ``[0, length)``: each sample as the
        decoding window that keeps it decodes it, also where a resampler's margin reaches into a neighbour
        window (decoded on its own span, a harmonic source's phase would start elsewhere), as the light
        runtime decodes, so a file decodes alike on both at any rate."""
        hop = self.config.top_hop
        decoded = lru_cache(maxsize=3)(lambda a, b: self._decode_window(codes, a, b))  # a window and its neighbours

        def fetch(start: int, stop: int) -> torch.Tensor:
            out = torch.zeros(codes.channels, stop - start)
            for a, b in windows:
                lo, hi = max(start, a * hop), min(stop, b * hop)
                if lo < hi:
                    out[:, lo - start : hi - start] = decoded(a, b)[:, lo - a * hop : hi - a * hop]
            return out

        return lambda start, stop: _window(fetch, length, start, stop)

    @torch.inference_mode()
    def _decode_window(self, codes: Codes, a: int, b: int) -> torch.Tensor:
        """Top frames ``[a, b)`` decoded with their context: ``[C, (b - a) * top_hop]``."""
        hop = self.config.top_hop
        a0, b0 = decode_span(a, b, codes.top.shape[-1], self.context_frames)
        streams = [
            lv[..., r * a0 : r * b0].to(self.device)
            for lv, r in zip(codes.streams, self.ratios[: len(codes.streams)], strict=True)
        ]
        y = self.model.decode(*streams, offset=a0 * hop)[:, 0].cpu()
        return y[:, (a - a0) * hop : (b - a0) * hop]
