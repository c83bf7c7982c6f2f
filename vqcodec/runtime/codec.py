"""The light runtime's codec: audio blocks <-> a container of codes, windowed exactly as the torch codec
windows (:mod:`vqcodec.windows`), on an :class:`OnnxModel`. No torch here."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from vqcodec.checks import check_codes
from vqcodec.io import container
from vqcodec.rates import Rung, rung
from vqcodec.runtime.audio import BlockReader, exact, resampled_blocks
from vqcodec.runtime.session import OnnxModel
from vqcodec.windows import ROWS_PER_CALL, decode_span, encode_span, kept_windows, resampled_length, window_frames


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
        self.ratios = tuple(self.config.top_hop // h for h in self.config.level_hops)

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
        reader = BlockReader(
            exact(resampled_blocks(blocks, sample_rate, self.sample_rate, channels), length, channels), channels
        )
        frames = -(-length // self.config.top_hop)
        parts: list[list[np.ndarray]] = [[] for _ in self.ratios]
        for a, b in kept_windows(frames, window_frames(self.chunk_frames, channels)):
            w0, w1 = encode_span(a, b, self.context_frames)
            levels = self._encode_rows(reader.read(w0 * self.config.top_hop, w1 * self.config.top_hop))
            for part, lv, r, n in zip(parts, levels, self.ratios, rung.codebooks, strict=True):
                part.append(lv[:, :n, r * (a - w0) : r * (b - w0)])  # a level of r frames per top frame
        levels = tuple(
            container.Level(np.concatenate(p, axis=-1)[..., : frames * r], self.config.bits)
            for p, r in zip(parts, self.ratios, strict=True)
        )
        return container.Container(self.name, self.hash, sample_rate, channels, num_samples, levels)

    def _encode_rows(self, x: np.ndarray) -> list[np.ndarray]:
        """``[C, n]`` -> every codebook's codes per level, ``[C, n_q, frames]``, ROWS_PER_CALL rows a call."""
        calls = [self.model.encode(x[i : i + ROWS_PER_CALL, None]) for i in range(0, len(x), ROWS_PER_CALL)]
        return [np.concatenate(level) for level in zip(*calls, strict=True)]

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
            resampled_blocks(blocks, self.sample_rate, c.sample_rate, c.channels), c.num_samples, c.channels
        ):
            yield np.clip(block, -1.0, 1.0)

    def _decode_windows(self, c: container.Container) -> Iterator[np.ndarray]:
        """The decoded signal at the model rate in ``[n, C]`` blocks, one per window (whole top frames)."""
        hop, levels = self.config.top_hop, [lv.codes for lv in c.levels]
        frames = levels[0].shape[-1]
        for a, b in kept_windows(frames, window_frames(self.chunk_frames, c.channels)):
            a0, b0 = decode_span(a, b, frames, self.context_frames)
            window = [lv[..., r * a0 : r * b0] for lv, r in zip(levels, self.ratios, strict=True)]
            rows = [
                self.model.decode([lv[i : i + ROWS_PER_CALL] for lv in window], a0 * hop)[:, 0]
                for i in range(0, c.channels, ROWS_PER_CALL)
            ]
            yield np.concatenate(rows)[:, (a - a0) * hop : (b - a0) * hop].T  # [n, C]
