"""The one window loop: audio at any rate and channel count <-> codes, in bounded memory, on any backend
(:mod:`vqcodec.backends`). No torch here.

Channels are coded independently (a stereo file costs twice the bits of a mono one and keeps its image);
each is resampled to the model's rate (:mod:`vqcodec.pipeline.sinc`, the same sums on every backend). Long
signals are coded in windows of ``chunk_frames`` top frames with the backend's ``context_frames`` of real
signal on each side (:mod:`vqcodec.pipeline.windows`), so memory does not grow with the length. Every window
extends its context past its last kept frame (into zeros past the end of the signal), whether the signal is
coded alone, in a batch or in chunks, so all three see the same input around every kept frame and give the
same codes. The pitch stream is tracked on blocks fixed in each signal instead
(:mod:`vqcodec.pitch.blocks`): Praat's tracker sees all it is given, so its windows must not depend on the
batch or the split.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from vqcodec.codes import Codes
from vqcodec.pipeline.checks import check_codes
from vqcodec.pipeline.rates import Rung, ladder, rung
from vqcodec.pipeline.sinc import resampled_blocks
from vqcodec.pipeline.sources import ArraySource, BlockReader, exact, source_blocks
from vqcodec.pipeline.windows import (
    ROWS_PER_CALL,
    decode_span,
    decode_windows,
    encode_span,
    kept_windows,
    resampled_length,
    window_frames,
)
from vqcodec.pitch.blocks import BLOCK_FRAMES, CONTEXT_FRAMES, PitchBlocks

if TYPE_CHECKING:
    from vqcodec.backends import Backend


class Coder:
    """A backend plus the bookkeeping that turns real audio into codes and back; codes hold numpy arrays.

    Args:
        backend: runs the model's encoder and decoder (:mod:`vqcodec.backends`).
        chunk_frames: top frames coded per window (20 s for the default model).
    """

    def __init__(self, backend: Backend, chunk_frames: int = 250):
        self.backend, self.config, self.chunk_frames = backend, backend.config, chunk_frames
        self.name, self.hash = self.config.name, backend.model_hash
        self.ratios = tuple(self.config.top_hop // s.hop for s in self.config.streams)  # frames per top frame

    @property
    def runtime(self) -> str:
        """The backend's name: "onnx" or "torch"."""
        return self.backend.runtime

    @property
    def context_frames(self) -> int:
        return self.backend.context_frames

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    def ladder(self) -> list[Rung]:
        """Every rate this model serves: all top codebooks, 1 to n_bottom bottom codebooks."""
        return ladder(self.config)

    def rung(self, kbps: float | None = None) -> Rung:
        """The highest rung at or below ``kbps``; by default 3 kbps, or the lowest rung if that is higher."""
        return rung(self.config, kbps)

    # ------------------------------------------------------------------ encoding

    def encode(self, wav: Any, sample_rate: int, bitrate: float | None = None) -> Codes:
        """Audio ``[T]`` or ``[C, T]`` at ``sample_rate`` -> Codes (``bitrate`` in kbps per channel)."""
        return self.encode_sources([self.array_source(wav, sample_rate)], bitrate)[0]

    def encode_batch(self, wavs: Sequence[Any], sample_rate: int, bitrate: float | None = None) -> list[Codes]:
        """Several recordings of any lengths at once; each gets its own codes and exact length."""
        return self.encode_sources([self.array_source(w, sample_rate) for w in wavs], bitrate)

    def array_source(self, wav: Any, sample_rate: int) -> ArraySource:
        """An array in memory as a source (checked: :class:`ArraySource`)."""
        return ArraySource(wav, sample_rate)

    def encode_sources(self, sources: Sequence[Any], bitrate: float | None = None) -> list[Codes]:
        """Sources (:mod:`vqcodec.pipeline.sources`) coded together, each to its own codes and exact length
        (``bitrate`` in kbps per channel). Their channels share each window's call to the encoder."""
        rung = self.rung(bitrate)
        readers, lengths = zip(*(self._model_rate(s) for s in sources), strict=True)
        frames = [-(-n // self.config.top_hop) for n in lengths]
        pitches = [self._pitch_blocks(r, f, s.channels) for r, f, s in zip(readers, frames, sources, strict=True)]
        parts: list[list[list[np.ndarray]]] = [[] for _ in sources]
        step = window_frames(self.chunk_frames, sum(s.channels for s in sources))
        for a, b in kept_windows(max(frames), step):
            live = [i for i, f in enumerate(frames) if a < f]
            for i, levels in zip(live, self._encode_window([readers[i] for i in live], a, b, rung), strict=True):
                pitch = [] if pitches[i] is None else [pitches[i].codes(a, b)]
                parts[i].append([*levels, *pitch])
        return [self._codes(s, p, f) for s, p, f in zip(sources, parts, frames, strict=True)]

    def _model_rate(self, source: Any) -> tuple[BlockReader, int]:
        """The source at the model rate, read forward by windows (and, a little behind them, by pitch blocks),
        zeros past its end; and its length there."""
        channels, sr = source.channels, self.sample_rate
        length = resampled_length(source.num_samples, source.sample_rate, sr)
        # a pitch block's read starts up to CONTEXT_FRAMES before the kept frames of the window that asks for it
        history = (CONTEXT_FRAMES + self.context_frames) * self.config.top_hop if self.config.pitch_bits else 0
        blocks = resampled_blocks(source_blocks(source), source.sample_rate, sr, channels, length)
        return BlockReader(exact(blocks, length, channels), channels, history), length

    def _pitch_blocks(self, reader: BlockReader, frames: int, channels: int) -> PitchBlocks | None:
        """The source's pitch codes, tracked on blocks fixed in it (a model with a pitch stream)."""
        c = self.config
        if not c.pitch_bits:
            return None
        block = window_frames(BLOCK_FRAMES, channels)
        return PitchBlocks(reader.read, frames, block, c.sample_rate, c.top_hop, c.hop, c.pitch_bits)

    def _encode_window(self, readers: list[BlockReader], a: int, b: int, rung: Rung) -> list[list[np.ndarray]]:
        """Codes of top frames ``[a, b)`` for each source, one array per level: ``[C, n_q, r (b - a)]`` for a
        level of ``r`` frames per top frame, coded on the window with its context."""
        hop = self.config.top_hop
        w0, w1 = encode_span(a, b, self.context_frames)
        xs = [r.read(w0 * hop, w1 * hop) for r in readers]  # each [C_i, n]
        x = np.concatenate(xs)[:, None]  # [sum C_i, 1, n]
        calls = [self.backend.encode(x[i : i + ROWS_PER_CALL], rung.codebooks) for i in range(0, len(x), ROWS_PER_CALL)]
        levels = [np.concatenate(level) for level in zip(*calls, strict=True)]  # each [sum C_i, n_q, frames]
        # a level with r frames per top frame keeps frames r(a - w0) .. r(b - w0) of the window
        kept = [lv[..., r * (a - w0) : r * (b - w0)] for lv, r in zip(levels, self.ratios[:2], strict=True)]
        bounds = np.cumsum([len(x) for x in xs])[:-1]
        return [list(part) for part in zip(*(np.split(lv, bounds) for lv in kept), strict=True)]

    def _codes(self, source: Any, parts: list[list[np.ndarray]], frames: int) -> Codes:
        streams = [
            np.concatenate([p[i] for p in parts], axis=-1)[..., : frames * r].astype(np.int64, copy=False)
            for i, r in enumerate(self.ratios)
        ]
        top, bottom, *pitch = streams
        return Codes(top, bottom, source.sample_rate, source.num_samples, self.name, self.hash, *pitch)

    # ------------------------------------------------------------------ decoding

    def check(self, codes: Codes) -> None:
        """Refuse codes made by another model, or that this model could not have made (:func:`check_codes`)."""
        made_by = (codes.model_name, codes.model_hash)
        check_codes(self.config, self.hash, codes.streams, made_by, codes.sample_rate, codes.num_samples)

    def decode(self, codes: Codes) -> np.ndarray:
        """Codes -> ``[C, num_samples]`` float32 audio at ``codes.sample_rate``."""
        return np.ascontiguousarray(np.concatenate(list(self.decode_blocks(codes))).T)

    def decode_blocks(self, codes: Codes) -> Iterator[np.ndarray]:
        """Codes -> ``[n, C]`` float32 blocks at ``codes.sample_rate``, ``num_samples`` in all, in [-1, 1]."""
        self.check(codes)
        channels, n = codes.channels, codes.num_samples
        length = resampled_length(n, codes.sample_rate, self.sample_rate)
        blocks = exact(self._decode_windows(codes), length, channels)
        for block in exact(resampled_blocks(blocks, self.sample_rate, codes.sample_rate, channels, n), n, channels):
            yield np.clip(block, -1.0, 1.0)

    def _decode_windows(self, codes: Codes) -> Iterator[np.ndarray]:
        """The decoded signal at the model rate in ``[n, C]`` blocks, one per window (whole top frames). A
        resampler's margin reaching into a neighbour window reads that window's own decode, so a file decodes
        alike whatever the output rate."""
        hop, streams = self.config.top_hop, [np.asarray(s) for s in codes.streams]
        frames = streams[0].shape[-1]
        pitch = streams[2] if len(streams) > 2 else None
        for a, b in decode_windows(frames, window_frames(self.chunk_frames, codes.channels), pitch):
            a0, b0 = decode_span(a, b, frames, self.context_frames)
            window = [lv[..., r * a0 : r * b0] for lv, r in zip(streams, self.ratios[: len(streams)], strict=True)]
            yield self._decode_rows(window, a0 * hop)[:, (a - a0) * hop : (b - a0) * hop].T  # [n, C]

    def _decode_rows(self, window: list[np.ndarray], offset: int) -> np.ndarray:
        """A window's codes per stream ``[C, q, T_stream]``, its first sample's index -> ``[C, T]`` audio,
        ROWS_PER_CALL rows a call."""
        rows = [
            self.backend.decode([s[i : i + ROWS_PER_CALL] for s in window], offset)[:, 0]
            for i in range(0, len(window[0]), ROWS_PER_CALL)
        ]
        return np.concatenate(rows)
