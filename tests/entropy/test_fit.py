"""Fitting on hand-made sequences whose conditional entropies are known: the fitted tables cost what the
sources' entropy says, and the measurement picks the context that carries the information."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import K

from vqcodec.entropy import fit as F


def _corpus(seed: int, utterances: int = 40, frames: int = 400) -> F.Corpus:
    """Top codebook 0: a walk x_t = x_{t-1} + d, d uniform in 0..3 (2 bits given prev, 8 bits alone);
    top codebook 1: 3 * codebook 0 + b, b in 0..1 (1 bit given above); bottom codebook 0: top code above
    + e, e in 0..7 (3 bits given top, 4 bottom frames per top frame)."""
    rng = np.random.default_rng(seed)
    top, bottom = [], []
    for _ in range(utterances):
        walk = (rng.integers(0, K) + np.cumsum(rng.integers(0, 4, frames))) % K
        stack = (3 * walk + rng.integers(0, 2, frames)) % K
        fine = (np.repeat(walk, 4) + rng.integers(0, 8, 4 * frames)) % K
        top.append(np.stack([walk, stack]))
        bottom.append(fine[None])
    return F.Corpus((top, bottom))


@pytest.mark.parametrize(
    ("level", "codebook", "source", "entropy"),
    [(0, 0, "prev", 2.0), (0, 1, "above", 1.0), (1, 0, "top", 3.0)],
)
def test_fitted_tables_cost_the_known_conditional_entropy(
    monkeypatch: pytest.MonkeyPatch, level: int, codebook: int, source: str, entropy: float
) -> None:
    monkeypatch.setattr(F, "SMOOTHING", 1.0)
    train, dev = _corpus(0), _corpus(1)
    table = F.fit_table(train, level, codebook, (source,), (K + 1,), 4, K)  # a class per code: no merging
    bits = F.cost(table, dev, level, codebook, 4, K)
    assert entropy <= bits + 0.02 and bits < entropy + 0.1
    marginal = F.cost(F.fit_table(train, level, codebook, (), (), 4, K), dev, level, codebook, 4, K)
    assert marginal > 7.5


def test_measurement_picks_the_informative_context() -> None:
    info = {"codebook_size": K, "n_top": 2, "n_bottom": 1, "model": "test", "model_hash": "01020304"}
    tables, report = F.fit(_corpus(0), _corpus(1), info, ratio=4)
    chosen = [t.sources for level in tables.levels for t in level]
    assert "prev" in chosen[0] and "above" in chosen[1] and "top" in chosen[2]
    assert len(report) == 3 and all("none" in r["bits"] for r in report)


def test_cluster_keeps_rows_apart_that_predict_differently() -> None:
    """Rows with two distinct next-code distributions land in two classes."""
    counts = np.zeros((K + 1, K))
    counts[: K // 2, :10] = 500
    counts[K // 2 : K, 100:110] = 500
    prior = np.full(K, 1 / K)
    classes = F.cluster(counts, 2, prior)
    assert len(set(classes[: K // 2])) == 1 and len(set(classes[K // 2 : K])) == 1
    assert classes[0] != classes[K - 1]


def test_quantise_rows_sum_exactly_and_keep_order() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(K), size=7)
    q = F.quantise(probs, K)
    assert q.dtype == np.uint16 and np.all(q.sum(axis=1, dtype=np.int64) == F.row_sum(K))
    top = probs.argmax(axis=1)
    assert np.all(q[np.arange(7), top] == q.max(axis=1))


def test_a_pitch_stream_is_a_third_level_fitted_on_the_bottom_frames() -> None:
    """A pitch model's tables code its pitch codes (one codebook, at the bottom level's frame rate) as a third
    level; a slowly moving pitch track is cheap given the previous code, and ``top`` contexts read the top
    code over the same frame as for the bottom level."""
    rng = np.random.default_rng(0)
    train, dev = _corpus(0), _corpus(1)
    for corpus in (train, dev):
        pitch = [np.clip(60 + np.cumsum(rng.integers(-1, 2, b.shape[1])), 1, 127)[None] for b in corpus.levels[1]]
        object.__setattr__(corpus, "levels", (*corpus.levels, pitch))
    info = {"codebook_size": K, "n_top": 2, "n_bottom": 1, "model": "test", "model_hash": "01020304"}
    tables, report = F.fit(train, dev, info, ratio=4)
    assert len(tables.levels) == 3 and len(tables.levels[2]) == 1 and tables.level_ratio(2) == 4
    assert "prev" in tables.levels[2][0].sources and report[-1]["bits"]["prev"] < min(
        2.5, report[-1]["bits"]["none"] - 3
    )
