"""The learning-rate schedule: a linear warm-up to the peak, a cosine down to the final rate, held after."""

from __future__ import annotations

from itertools import pairwise

import pytest

from vqcodec.train.schedule import warmup_cosine


def test_warm_up_then_cosine_to_the_final_rate():
    rates = [warmup_cosine(step, 1e-3, 1e-5, 10, 110) for step in range(130)]
    assert rates[0] == pytest.approx(1e-4) and rates[9] == pytest.approx(1e-3)
    assert rates[10] == pytest.approx(1e-3)
    assert rates[60] == pytest.approx((1e-3 + 1e-5) / 2)
    assert all(a >= b for a, b in pairwise(rates[10:]))  # never rises after the warm-up
    assert rates[110] == rates[129] == pytest.approx(1e-5)
