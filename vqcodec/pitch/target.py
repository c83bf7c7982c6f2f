"""The F0 a source-filter head is driven and supervised with during training, as decoding will have it.
No torch here: :mod:`vqcodec.train.feed` runs it in worker processes that need not import torch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vqcodec.pitch.quantize import frame_f0, track_codes
from vqcodec.pitch.tracker import track_rows


@dataclass(frozen=True)
class PitchSpec:
    """How a model's head wants its pitch: tracked on frames of ``hop`` samples, quantized to ``bits`` and
    brought to ``upsample`` times finer frames (a pitch stream, ``bits`` > 0), else tracked directly on
    the decoder's frames of ``hop // upsample``."""

    sample_rate: int
    hop: int
    bits: int
    upsample: int

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """[R, T] float64 audio -> [R, T // hop * upsample] float32 F0 in Hz (0: unvoiced)."""
        if self.bits:
            return frame_f0(track_codes(x, self.sample_rate, self.hop, self.bits), self.bits, self.upsample)
        return track_rows(x, self.sample_rate, self.hop // self.upsample).astype(np.float32)
