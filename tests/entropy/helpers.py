"""Small hand-made tables and code streams for the entropy tests (K = 256, the smallest size tables take)."""

from __future__ import annotations

import numpy as np

from vqcodec.entropy.fit import quantise
from vqcodec.entropy.tables import CodebookTable, Tables

K = 256
HASH = b"\x01\x02\x03\x04"


def table(sources: tuple[str, ...], classes: tuple[int, ...], seed: int, peak: float = 0.0) -> CodebookTable:
    """A random table: random maps into ``classes``, rows from a Dirichlet, plus ``peak`` on code 0."""
    rng = np.random.default_rng(seed)
    maps = tuple(rng.integers(0, n, K + 1) for n in classes)
    for m, n in zip(maps, classes, strict=True):
        m[:n] = np.arange(n)  # every class used, so the row count is the product
    rows = int(np.prod(classes)) if classes else 1
    probs = rng.dirichlet(np.full(K, 0.3), size=rows)
    probs[:, 0] += peak
    return CodebookTable(sources, maps, quantise(probs, K))


def tables(seed: int = 0, n_top: int = 2, n_bottom: int = 3) -> Tables:
    """Tables of a two-level model using every kind of source."""
    top = [table(("prev",), (5,), seed)] + [table(("prev", "above"), (3, 4), seed + j) for j in range(1, n_top)]
    bottom = [table(("top",), (6,), seed + 10)] + [
        table(("above", "top") if j % 2 else ("prev",), (4, 3) if j % 2 else (7,), seed + 10 + j)
        for j in range(1, n_bottom)
    ]
    return Tables("test", HASH, K, 4, (tuple(top), tuple(bottom)))


def uniform_tables(n_top: int = 1, n_bottom: int = 1) -> Tables:
    flat = CodebookTable((), (), quantise(np.ones((1, K)), K))
    return Tables("test", HASH, K, 4, ((flat,) * n_top, (flat,) * n_bottom))


def levels(seed: int, channels: int = 2, frames: int = 9, n_top: int = 2, n_bottom: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, K, (channels, n_top, frames)),
        rng.integers(0, K, (channels, n_bottom, 4 * frames)),
    ]
