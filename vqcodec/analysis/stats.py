"""Codebook health: usage, perplexity and dead codes of a code distribution.

The one place these are computed: the trainer's log rows, validation, ``eval``, ``inspect`` and
``probe`` all count codes with :func:`code_counts` and summarise them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
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


def code_counts(codes: torch.Tensor, size: int) -> torch.Tensor:
    """Counts ``[n_q, K]`` (int64) per codebook of codes ``[n_q, T]`` or ``[B, n_q, T]``."""
    flat = (codes if codes.dim() == 2 else codes.transpose(0, 1)).reshape(codes.shape[-2], -1)  # [n_q, B*T]
    return torch.stack([code_histogram(row, size) for row in flat.cpu()]) if len(flat) else flat.new_zeros(0, size)


@dataclass(frozen=True)
class LevelUsage:
    """Codebook health of one level: per-codebook usage (in %), perplexity and dead codes, and their
    means and extremes over the level's codebooks."""

    level: str
    codebooks: int
    usage_mean: float
    usage_min: float
    perplexity_mean: float
    perplexity_min: float
    dead_mean: float
    dead_max: int
    per_codebook: tuple[dict, ...]


def level_usage(level: str, counts: torch.Tensor) -> LevelUsage:
    """Summary of the codebooks of one level from their counts ``[n_codebooks, K]``."""
    stats = [codebook_stats(c) for c in counts]
    usage = [s.usage * 100 for s in stats]
    ppl = [s.perplexity for s in stats]
    dead = [s.dead for s in stats]
    per = tuple(
        {"codebook": j, "usage_pct": u, "perplexity": p, "dead": d}
        for j, (u, p, d) in enumerate(zip(usage, ppl, dead, strict=True))
    )
    return LevelUsage(
        level,
        len(stats),
        float(np.mean(usage)),
        min(usage),
        float(np.mean(ppl)),
        min(ppl),
        float(np.mean(dead)),
        max(dead),
        per,
    )


def usage_fields(counts_per_level: Mapping[str, torch.Tensor], prefix: str = "") -> dict[str, float]:
    """Log-row fields ``{prefix}{level}_usage`` (mean fraction of codes in use) and
    ``{prefix}{level}_perplexity`` (mean perplexity) from code counts ``{level: [n_codebooks, K]}``."""
    row = {}
    for level, table in counts_per_level.items():
        stats = [codebook_stats(c) for c in table]
        row[f"{prefix}{level}_usage"] = round(sum(s.usage for s in stats) / len(stats), 4)
        row[f"{prefix}{level}_perplexity"] = round(sum(s.perplexity for s in stats) / len(stats), 1)
    return row


def collapse_warnings(
    counts_per_level: Mapping[str, torch.Tensor], min_usage: float = 0.10, min_perplexity: float = 0.02
) -> list[str]:
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
