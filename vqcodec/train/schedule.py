"""The learning-rate schedule every training run here uses: a linear warm-up, then a cosine down."""

from __future__ import annotations

import math


def warmup_cosine(step: int, lr: float, lr_final: float, warmup: int, steps: int) -> float:
    """The rate at ``step`` (from 0): ``lr * (step + 1) / warmup`` during the warm-up, then a cosine from ``lr``
    to ``lr_final`` at ``steps`` (held there after it)."""
    if step < warmup:
        return lr * (step + 1) / warmup
    frac = min(1.0, (step - warmup) / max(1, steps - warmup))
    return lr_final + 0.5 * (lr - lr_final) * (1 + math.cos(math.pi * frac))
