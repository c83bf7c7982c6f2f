"""The light runtime's codec: audio blocks <-> a container of codes, windowed exactly as the torch codec
windows (:mod:`vqcodec.windows`), on an :class:`OnnxModel`. No torch here."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from vqcodec.checks import check_codes
from vqcodec.io import container
from vqcodec.pitch.blocks import BLOCK_FRAMES, CONTEXT_FRAMES, PitchBlocks
from vqcodec.pitch.quantize import frame_f0
from vqcodec.rates import Rung, rung
from vqcodec.runtime.audio import BlockReader, exact
from vqcodec.runtime.session import OnnxModel
from vqcodec.runtime.sinc import resampled_blocks
from vqcodec.windows import (
    ROWS_PER_CALL,
    decode_span,
    decode_windows,
    encode_span,
    kept_windows,
    resampled_length,
    window_frames,
)


class LightCodec:
    """An exported model plus the bookkeeping that turns audio into codes and back.

    Args:
        model: the two graphs.
        chunk_frames: top frames coded per window (as :class:`vqcodec.codec.Codec`).
    """

    def __init__(self, model: OnnxModel, chunk_frames: int = 250):
        self.model, self.config = model, model.config
        self.name, self.hash = self.config.name, model.manifest.model_hash
        self.context_frames, self.chunk_frames = model.manifest.context_frames, chunk_frames
        self.ratios = tuple(self.config.top_hop // s.hop for s in self.config.streams)  # frames per top frame

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    def rung(self, kbps: float | None = None) -> Rung:
        return rung(self.config, kbps)

    def encode(
        self, blocks: Iterator[np.ndarray], sample_rate: int, num_samples: int, channels: int, kbps: float | None = None
    ) -> container.Container:
        """``[n, C]`` float32 blocks of a ``num_samples``-long signal -> a :class:`container.Container`."""
        rung = self.rung(kbps)
        length = resampled_length(num_samples, sample_rate, self.sample_rate)
        # a pitch block's read starts up to CONTEXT_FRAMES before the kept frames of the window that asks for it
        history = (CONTEXT_FRAMES + self.context_frames) * self.config.top_hop if self.config.pitch_bits else 0
        model_rate = resampled_blocks(
            exact(blocks, num_samples, channels), sample_rate, self.sample_rate, channels, length
        )
        reader = BlockReader(exact(model_rate, length, channels), channels, history)
        frames = -(-length // self.config.top_hop)
        pitch = self._pitch_blocks(reader, frames, channels)
        parts = [
            self._encode_window(reader, a, b, rung, pitch)
            for a, b in kept_windows(frames, window_frames(self.chunk_frames, channels))
        ]
        levels = tuple(
            container.Level(np.concatenate(p, axis=-1)[..., : frames * r], s.bits)
            for p, r, s in zip(zip(*parts, strict=True), self.ratios, self.config.streams, strict=True)
        )
        return container.Container(self.name, self.hash, sample_rate, channels, num_samples, levels)

    def _encode_window(
        self, reader: BlockReader, a: int, b: int, rung: Rung, pitch: PitchBlocks | None
    ) -> list[np.ndarray]:
        """Codes of top frames ``[a, b)``, one array per stream: ``[C, n_q, r (b - a)]`` for a stream of ``r``
        frames per top frame (the rung's codebooks of each level, coded on the window with its context as the
        torch codec codes it, then the pitch ``[C, 1, r (b - a)]`` of its blocks if the model has a pitch stream)."""
        w0, w1 = encode_span(a, b, self.context_frames)
        x = reader.read(w0 * self.config.top_hop, w1 * self.config.top_hop)  # [C, n]
        levels = [lv[:, :n] for lv, n in zip(self._encode_rows(x), rung.codebooks, strict=True)]
        kept = [lv[..., r * (a - w0) : r * (b - w0)] for lv, r in zip(levels, self.ratios[:2], strict=True)]
        return kept if pitch is None else [*kept, pitch.codes(a, b)]

    def _encode_rows(self, x: np.ndarray) -> list[np.ndarray]:
        """``[C, n]`` -> every codebook's codes per level, ``[C, n_q, frames]``, ROWS_PER_CALL rows a call."""
        calls = [self.model.encode(x[i : i + ROWS_PER_CALL, None]) for i in range(0, len(x), ROWS_PER_CALL)]
        return [np.concatenate(level) for level in zip(*calls, strict=True)]

    def _pitch_blocks(self, reader: BlockReader, frames: int, channels: int) -> PitchBlocks | None:
        """The signal's pitch codes, tracked on blocks fixed in it (a model with a pitch stream), as the torch
        codec tracks them."""
        c = self.config
        if not c.pitch_bits:
            return None
        block = window_frames(BLOCK_FRAMES, channels)
        return PitchBlocks(reader.read, frames, block, c.sample_rate, c.top_hop, c.hop, c.pitch_bits)

    def check(self, c: container.Container) -> None:
        """Refuse codes this model did not make or could not have made (:func:`check_codes`)."""
        levels = [lv.codes for lv in c.levels]
        check_codes(self.config, self.hash, levels, (c.model_name, c.model_hash), c.sample_rate, c.num_samples)

    def decode(self, c: container.Container) -> Iterator[np.ndarray]:
        """A container's codes -> ``[n, C]`` float32 blocks at its sample rate, ``num_samples`` in all."""
        self.check(c)
        length = resampled_length(c.num_samples, c.sample_rate, self.sample_rate)
        blocks = exact(self._decode_windows(c), length, c.channels)
        for block in exact(
            resampled_blocks(blocks, self.sample_rate, c.sample_rate, c.channels, c.num_samples),
            c.num_samples,
            c.channels,
        ):
            yield np.clip(block, -1.0, 1.0)

    def _decode_windows(self, c: container.Container) -> Iterator[np.ndarray]:
        """The decoded signal at the model rate in ``[n, C]`` blocks, one per window (whole top frames)."""
        hop, streams = self.config.top_hop, [lv.codes for lv in c.levels]
        frames = streams[0].shape[-1]
        pitch = streams[2] if len(streams) > 2 else None
        for a, b in decode_windows(frames, window_frames(self.chunk_frames, c.channels), pitch):
            a0, b0 = decode_span(a, b, frames, self.context_frames)
            window = [lv[..., r * a0 : r * b0] for lv, r in zip(streams, self.ratios[: len(streams)], strict=True)]
            yield self._decode_rows(window, a0 * hop)[:, (a - a0) * hop : (b - a0) * hop].T  # [n, C]

    def _decode_rows(self, window: list[np.ndarray], offset: int) -> np.ndarray:
        """A window's codes per stream ``[C, q, T_stream]`` (top, bottom, and the pitch if the file has it),
        its first sample's index -> ``[C, T]`` audio, ROWS_PER_CALL rows a call."""
        top, bottom, *pitch = window
        c = self.config
        f0 = frame_f0(pitch[0][:, 0], c.pitch_bits, c.decoder_upsample) if pitch else None  # [C, T_b * upsample]
        rows = [
            self.model.decode(
                [top[i : i + ROWS_PER_CALL], bottom[i : i + ROWS_PER_CALL]],
                offset,
                None if f0 is None else f0[i : i + ROWS_PER_CALL],
            )[:, 0]
            for i in range(0, len(top), ROWS_PER_CALL)
        ]
        return np.concatenate(rows)
