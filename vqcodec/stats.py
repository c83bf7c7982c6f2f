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
    :func:`codebook_stats`) or its perplexity is below ``min_perplexity * K``. Codebooks holding fewer
    than K counts are skipped: so few codes cannot tell collapse from a short sample.
    """
    warnings = []
    for level, table in counts_per_level.items():
        for j, counts in enumerate(table):
            k = counts.numel()
            if float(counts.sum()) < k:
                continue
            s = codebook_stats(counts)
            if s.usage < min_usage or s.perplexity < min_perplexity * k:
                warnings.append(f"{level} codebook {j} may be collapsing: {s.usage:.1%} of {k} codes in use "
                                f"(alarm below {min_usage:.0%}), perplexity {s.perplexity:.1f} "
                                f"(alarm below {min_perplexity * k:.1f})")
    return warnings
