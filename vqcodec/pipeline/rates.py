"""The rate ladder of a model: which codebooks each rate keeps. No torch here (every backend uses it)."""

from __future__ import annotations

from dataclasses import dataclass

from vqcodec.errors import UserError
from vqcodec.nn.config import ModelConfig

DEFAULT_KBPS = 3.0


@dataclass(frozen=True)
class Rung:
    """One step of the rate ladder: codebooks kept per level and the nominal rate of one channel."""

    kbps: float
    n_top: int
    n_bottom: int

    @property
    def codebooks(self) -> tuple[int, ...]:
        """Codebooks kept per level, coarse to fine (the order of ``ModelConfig.LEVELS``)."""
        return (self.n_top, self.n_bottom)


def ladder(config: ModelConfig) -> list[Rung]:
    """Every rate the model serves: all top codebooks, 1 to n_bottom bottom codebooks."""
    c = config
    return [Rung(c.bitrate(c.n_top, n) / 1000, c.n_top, n) for n in range(1, c.n_bottom + 1)]


def rung(config: ModelConfig, kbps: float | None = None) -> Rung:
    """The highest rung at or below ``kbps``; by default 3 kbps, or the lowest rung if that is higher."""
    rungs = ladder(config)
    fits = [r for r in rungs if r.kbps <= (DEFAULT_KBPS if kbps is None else kbps) + 1e-9]
    if not fits and kbps is None:
        return rungs[0]
    if not fits:
        raise UserError(f"{kbps:g} kbps is below this model's lowest rate, {rungs[0].kbps:g} kbps")
    return fits[-1]
