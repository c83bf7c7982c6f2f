"""Codebook health: usage, perplexity and dead codes of a code distribution."""

from __future__ import annotations

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
