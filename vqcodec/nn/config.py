"""Model configuration: the one object that travels with the weights."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of a :class:`vqcodec.nn.model.VQCodecModel`; field names equal constructor arguments.

    The bottom level runs at ``sample_rate / prod(strides)`` frames per second, the top level
    ``prod(top_strides)`` times slower. The decoder works at ``decoder_upsample`` times the bottom rate and
    ends in an inverse STFT whose hop is one decoder frame. ``head`` names how frames become samples:
    ``"istft"`` (magnitude and phase per frame) or ``"harmonic"`` (F0, voicing and filters shaping a
    harmonic-plus-noise source); model files written before the field existed load as ``"istft"``.

    Quantizers: ``top_dropout`` / ``bottom_dropout`` are each level's quantizer-dropout probability (a
    training item keeps a random prefix of the codebooks, so every prefix is a usable rate);
    ``usage_decay``, ``restart_every`` and ``restart_threshold`` govern dead-code restarts (see
    :class:`vqcodec.nn.quantizer.FactorizedVQ`). Every field has a default, so files written before a field
    existed still load, with the value they were trained with.
    """

    name: str = "sp16k"
    sample_rate: int = 16000
    encoder_channels: tuple[int, ...] = (64, 128, 256)
    strides: tuple[int, ...] = (8, 8, 5)
    top_strides: tuple[int, ...] = (2, 2)
    latent_dim: int = 256
    encoder_blocks: int = 1
    top_blocks: int = 1
    codebook_size: int = 1024
    codebook_dim: int = 8
    n_top: int = 4
    n_bottom: int = 11
    decoder_dim: int = 256
    decoder_blocks: int = 6
    decoder_upsample: int = 2
    head: str = "istft"
    top_dropout: float = 0.0
    bottom_dropout: float = 0.5
    usage_decay: float = 0.99
    restart_every: int = 50
    restart_threshold: float = 0.05

    @property
    def hop(self) -> int:
        """Samples per bottom frame."""
        return math.prod(self.strides)

    @property
    def top_hop(self) -> int:
        """Samples per top frame; inputs are padded to a multiple of it."""
        return self.hop * math.prod(self.top_strides)

    @property
    def bits(self) -> int:
        """Bits per code: ceil(log2 K)."""
        return max(1, math.ceil(math.log2(self.codebook_size)))

    def bitrate(self, n_top: int, n_bottom: int) -> float:
        """Nominal bits per second of one channel keeping ``n_top`` and ``n_bottom`` codebooks."""
        frames = n_top * self.sample_rate / self.top_hop + n_bottom * self.sample_rate / self.hop
        return frames * self.bits

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        raw = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise ValueError(f"unknown model config fields: {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
