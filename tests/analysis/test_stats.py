"""Tests for vqcodec.analysis.stats: codebook usage, perplexity and dead codes, level summaries and
collapse warnings, on hand-made code streams."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vqcodec.analysis.stats import code_histogram, codebook_stats, collapse_warnings, level_usage


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


K = 64


def _stats(stream: torch.Tensor, k: int = K):
    return codebook_stats(code_histogram(stream, k))


def test_uniform_stream_has_perplexity_k() -> None:
    s = _stats(torch.arange(K).repeat(5))  # every code 5 times
    assert s.perplexity == pytest.approx(K) and s.usage == 1.0 and s.dead == 0


def test_constant_stream_has_perplexity_one() -> None:
    s = _stats(torch.full((200,), 7))
    assert s.perplexity == pytest.approx(1.0) and s.dead == K - 1 and s.usage == pytest.approx(1 / K)


def test_quarter_of_the_codes() -> None:
    s = _stats(torch.arange(K // 4).repeat(3))
    assert s.perplexity == pytest.approx(K / 4) and s.dead == 3 * K // 4 and s.usage == pytest.approx(0.25)


def test_two_codes_unequal() -> None:
    """p = (3/4, 1/4): perplexity = exp(H) = 4 / 3**0.75."""
    s = _stats(torch.tensor([1, 1, 1, 2] * 10))
    assert s.perplexity == pytest.approx(4 / 3**0.75) and s.dead == K - 2


def test_level_usage_summary() -> None:
    counts = torch.stack([code_histogram(torch.arange(K), K), code_histogram(torch.zeros(K, dtype=torch.long), K)])
    lv = level_usage("top", counts)
    assert lv.codebooks == 2 and lv.usage_min == pytest.approx(100 / K) and lv.dead_max == K - 1
    assert lv.perplexity_mean == pytest.approx((K + 1) / 2) and lv.per_codebook[0]["usage_pct"] == 100.0


def test_collapse_warnings_flag_only_collapsed_codebooks() -> None:
    healthy = code_histogram(torch.arange(K).repeat(4), K)
    constant = code_histogram(torch.full((4 * K,), 3), K)
    few = torch.zeros(K)
    few[:4] = K  # 4 codes in use of 64 (6 %): flagged by usage
    counts = {"top": torch.stack([healthy, constant]), "bottom": torch.stack([healthy, few, healthy])}
    warnings = collapse_warnings(counts)
    assert len(warnings) == 2
    assert warnings[0].startswith("top codebook 1 ") and warnings[1].startswith("bottom codebook 1 ")
    assert collapse_warnings({"top": healthy[None].float()}) == []


def test_collapse_warnings_perplexity_rule_and_short_samples() -> None:
    k = 1024
    skewed = torch.ones(k)  # every code in use (usage 100 %), one dominates: perplexity 1.3
    skewed[0] = 5e4  # the others keep p = 2e-5 > 1/(100 K)
    assert codebook_stats(skewed).usage == 1.0
    assert len(collapse_warnings({"bottom": skewed[None]})) == 1
    short = torch.zeros(k)
    short[:100] = 3  # 100 codes of 1024 in use (9.8 %) but only 300 counts: the usage rule waits for K counts
    assert collapse_warnings({"bottom": short[None]}) == []
    short[:] = 0
    short[7] = 200  # one code 200 times: perplexity 1 is enough to tell
    assert len(collapse_warnings({"bottom": short[None]})) == 1
    short[7] = 50  # fewer than 5 * 2 % * K = 102.4 counts: too few for either rule
    assert collapse_warnings({"bottom": short[None]}) == []


# ---------------------------------------------------------------- metrics
