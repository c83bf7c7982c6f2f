"""Codebook health: usage, perplexity and dead codes of a code distribution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class CodebookStats:
    """Attributes:
    usage: fraction of the K codes in use (probability above ``1 / (100 K)``).
    perplexity: exp(entropy) of the code distribution, between 1 and K.
    dead: number of codes not in use.
    """

    usage: float
    perplexity: float
    dead: int


def codebook_stats(probs: torch.Tensor) -> CodebookStats:
    """Statistics of a distribution over K codes ``[K]`` (counts or probabilities)."""
    p = probs.double() / probs.double().sum()
    used = p > 1.0 / (100 * p.numel())
    entropy = -(p[p > 0] * p[p > 0].log()).sum()
    return CodebookStats(float(used.float().mean()), float(entropy.exp()), int((~used).sum()))


def code_histogram(codes: torch.Tensor, size: int) -> torch.Tensor:
    """Counts ``[K]`` of integer codes of any shape."""
    return torch.bincount(codes.flatten().long(), minlength=size)


def collapse_warnings(counts_per_level: Mapping[str, torch.Tensor], min_usage: float = 0.10,
                      min_perplexity: float = 0.02) -> list[str]:
    """One line per codebook that looks collapsed, from code counts ``{level: [n_codebooks, K]}``.

    A codebook is flagged when fewer than ``min_usage`` of its K codes are in use (see
    :func:`codebook_stats`) or its perplexity is below ``min_perplexity * K``. A short sample cannot
    show every code: the usage rule needs at least K counts, the perplexity rule at least
    ``5 * min_perplexity * K`` (a healthy codebook's perplexity on n << K codes is close to n).
    """
    warnings = []
    for level, table in counts_per_level.items():
        for j, counts in enumerate(table):
            k, n = counts.numel(), float(counts.sum())
            if n < 5 * min_perplexity * k or n <= 0:
                continue
            s = codebook_stats(counts)
            reasons = []
            if n >= k and s.usage < min_usage:
                reasons.append(f"{s.usage:.1%} of its {k} codes in use (alarm below {min_usage:.0%})")
            if s.perplexity < min_perplexity * k:
                reasons.append(f"perplexity {s.perplexity:.1f} (alarm below {min_perplexity * k:.1f})")
            if reasons:
                warnings.append(f"{level} codebook {j} may be collapsing: {', '.join(reasons)}")
    return warnings
