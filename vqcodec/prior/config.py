"""The prior's configuration: a frozen dataclass saved beside its weights (JSON), as the codec's is."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class PriorConfig:
    """Shape of the two autoregressive priors (top, and bottom given top).

    Attributes:
        codebook_size: K, codes per codebook.
        n_top: codebooks of the top level.
        n_bottom: codebooks of the bottom level.
        ratio: bottom frames per top frame.
        dim: width of embeddings and recurrent state.
        layers: GRU layers of each level's prior.
        dropout: dropout on the recurrent input while training.
    """

    codebook_size: int = 1024
    n_top: int = 4
    n_bottom: int = 11
    ratio: int = 4
    dim: int = 128
    layers: int = 2
    dropout: float = 0.1

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PriorConfig:
        return cls(**json.loads(text))
