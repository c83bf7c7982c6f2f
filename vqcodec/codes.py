"""Typed codes: what ``Codec.encode`` returns and ``Codec.decode`` takes. No bytes here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from vqcodec.nn.config import ModelConfig


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
            then drives its source with the F0 it predicts.
    """

    # The levels held, coarse to fine, as the model declares them: containers and the codec iterate over them.
    LEVELS: ClassVar[tuple[str, ...]] = ModelConfig.LEVELS

    top: torch.Tensor
    bottom: torch.Tensor
    sample_rate: int
    num_samples: int
    model_name: str
    model_hash: bytes
    pitch: torch.Tensor | None = None

    @property
    def levels(self) -> tuple[torch.Tensor, ...]:
        """``[C, n_q, T_level]`` codes of each level, in the order of ``LEVELS``."""
        return tuple(getattr(self, name) for name in self.LEVELS)

    @property
    def streams(self) -> tuple[torch.Tensor, ...]:
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
            torch.equal(self.top, other.top)
            and torch.equal(self.bottom, other.bottom)
            and (self.pitch is None) == (other.pitch is None)
            and (self.pitch is None or torch.equal(self.pitch, other.pitch))
            and (self.sample_rate, self.num_samples, self.model_name, self.model_hash)
            == (other.sample_rate, other.num_samples, other.model_name, other.model_hash)
        )

    __hash__ = None  # mutable tensors inside
