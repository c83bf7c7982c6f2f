"""Tests for vqcodec.analysis.stats: codebook usage, perplexity and dead codes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vqcodec.analysis.stats import code_histogram, codebook_stats


@pytest.mark.parametrize("k", [1, 2, 16, 1024])
def test_uniform_counts(k: int) -> None:
    s = codebook_stats(torch.full((k,), 7))
    assert s.perplexity == pytest.approx(k)
    assert s.usage == 1.0 and s.dead == 0


@pytest.mark.parametrize("k", [2, 16, 1024])
def test_constant_stream(k: int) -> None:
    codes = torch.full((3, 50), 5 % k)
    s = codebook_stats(code_histogram(codes, k))
    assert s.perplexity == pytest.approx(1.0)
    assert s.usage == pytest.approx(1 / k) and s.dead == k - 1


def test_probabilities_and_counts_agree() -> None:
    counts = torch.tensor([10, 30, 0, 60])
    a, b = codebook_stats(counts), codebook_stats(counts / 100.0)
    assert (a.usage, a.dead) == (b.usage, b.dead) and a.perplexity == pytest.approx(b.perplexity)
    entropy = -sum(p * math.log(p) for p in (0.1, 0.3, 0.6))
    assert a.perplexity == pytest.approx(math.exp(entropy))
    assert (a.usage, a.dead) == (0.75, 1)


def test_half_the_codes() -> None:
    s = codebook_stats(torch.tensor([1.0] * 8 + [0.0] * 8))
    assert s.perplexity == pytest.approx(8) and s.usage == 0.5 and s.dead == 8


def test_rare_codes_count_as_dead() -> None:
    """A code is in use when its probability exceeds 1 / (100 K)."""
    k = 10
    probs = torch.full((k,), 1.0)
    probs[0] = 1e-4  # probability ~1.1e-5 < 1e-3
    s = codebook_stats(probs)
    assert s.dead == 1 and s.usage == pytest.approx(0.9)


def test_code_histogram_counts() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 13, size=(2, 3, 40))
    hist = code_histogram(torch.from_numpy(codes), 16)
    assert hist.shape == (16,)
    assert hist.tolist() == np.bincount(codes.ravel(), minlength=16).tolist()
    assert int(hist.sum()) == codes.size and hist[13:].tolist() == [0, 0, 0]
    assert code_histogram(torch.tensor([[3, 3], [1, 3]], dtype=torch.int32), 4).tolist() == [0, 1, 0, 3]
