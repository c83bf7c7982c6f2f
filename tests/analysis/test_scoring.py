"""Tests for vqcodec.analysis.scoring: a decoded file's delay is found and compensated before it is scored, and a
setting's files average into its row (skipped and unknown values left out, not counted as zero)."""

from __future__ import annotations

import numpy as np
import pytest

from vqcodec.analysis.scoring import Accumulator, score, to_row
from vqcodec.analysis.synthetic import speech_like


def test_a_late_copy_is_found_late_and_scored_as_the_reference() -> None:
    for module in ("pesq", "pystoi", "pyloudnorm", "parselmouth", "speechmos"):
        pytest.importorskip(module)
    ref = speech_like(1.0, 16000, seed=5)
    late = np.concatenate([np.zeros(80, np.float32), ref])  # 5 ms late
    acc = Accumulator("copy", "late")
    aligned = score(acc, ref, late)
    assert acc.delay == [80] and np.array_equal(aligned[:-80], ref[:-80])
    assert acc.stoi[0] > 0.99 and acc.si_sdr[0] > 30 and abs(acc.loudness_db[0]) < 0.1


def test_a_row_averages_what_was_measured() -> None:
    acc = Accumulator(
        "vqcodec",
        "3 kbps",
        num_bytes=1000,
        seconds=1.5,
        pesq=[2.0, None],
        stoi=[0.8, 0.9],
        log_mel=[1.0, 2.0],
        si_sdr=[3.0, 5.0],
        delay=[16, None],
        f0_cents=[None, 10.0],
        voicing_error=[0.1, 0.3],
        loudness_db=[None, None],
    )
    row = to_row(acc, total_seconds=2.0)
    assert (row.real_kbps, row.pesq_wb, row.pesq_skipped, row.files) == (4.0, 2.0, 1, 2)
    assert row.stoi == pytest.approx(0.85) and row.si_sdr == 4.0 and row.voicing_error == pytest.approx(0.2)
    assert (row.delay_ms, row.f0_cents, row.loudness_db, row.dnsmos) == (1.0, 10.0, None, None)
