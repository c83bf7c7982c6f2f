"""Typed codes: what ``Codec.encode`` returns and ``Codec.decode`` takes. No bytes here, and no torch: the
pipeline (:mod:`vqcodec.pipeline`) fills them with numpy arrays on every backend; the torch API
(:class:`vqcodec.codec.Codec`, :mod:`vqcodec.compress`) hands them out as tensors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from vqcodec.nn.config import ModelConfig

Array = Any  # a numpy array, or a torch tensor on the CPU


@dataclass(frozen=True)
class Codes:
    """Integer codes of one recording, channels coded independently.

    Attributes:
        top: [C, n_top, T_top] int64 codes of the coarse level.
        bottom: [C, n_bottom, T_bottom] int64 codes of the fine level; T_bottom = 4 T_top for the
            default model.
        sample_rate: rate of the original audio, restored by decoding.
        num_samples: exact length of the original audio per channel, restored by decoding.
        model_name: name of the model that made the codes.
        model_hash: 4-byte identity of that model's weights.
        pitch: [C, 1, T_bottom] int64 pitch codes (:mod:`vqcodec.pitch`), for a model with a pitch stream;
            None otherwise, or for codes that did not come from audio (a prior's samples): the decoder
            then drives its source with the F0 it predicts. None is the one way to say "no pitch codes".
    """

    # The levels held, coarse to fine, as the model declares them: containers and the codec iterate over them.
    LEVELS: ClassVar[tuple[str, ...]] = ModelConfig.LEVELS

    top: Array
    bottom: Array
    sample_rate: int
    num_samples: int
    model_name: str
    model_hash: bytes
    pitch: Array | None = None

    @property
    def levels(self) -> tuple[Array, ...]:
        """``[C, n_q, T_level]`` codes of each level, in the order of ``LEVELS``."""
        return tuple(getattr(self, name) for name in self.LEVELS)

    @property
    def streams(self) -> tuple[Array, ...]:
        """The levels, then the pitch codes if there are any: what a file stores."""
        return self.levels + (() if self.pitch is None else (self.pitch,))

    @property
    def channels(self) -> int:
        return int(self.top.shape[0])

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.num_samples / self.sample_rate

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Codes):
            return NotImplemented
        return (
            _equal(self.top, other.top)
            and _equal(self.bottom, other.bottom)
            and (self.pitch is None) == (other.pitch is None)
            and (self.pitch is None or _equal(self.pitch, other.pitch))
            and (self.sample_rate, self.num_samples, self.model_name, self.model_hash)
            == (other.sample_rate, other.num_samples, other.model_name, other.model_hash)
        )

    __hash__ = None  # mutable arrays inside

    def map(self, fn) -> Codes:
        """The same codes with ``fn`` applied to each stream (``torch.from_numpy``, ``np.asarray``)."""
        pitch = None if self.pitch is None else fn(self.pitch)
        return dataclasses.replace(self, top=fn(self.top), bottom=fn(self.bottom), pitch=pitch)


def _equal(a: Array, b: Array) -> bool:
    return tuple(a.shape) == tuple(b.shape) and bool(np.array_equal(np.asarray(a), np.asarray(b)))
