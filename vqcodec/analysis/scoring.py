"""Scoring a decoded file against its reference, and averaging the scores of one codec setting over files.

Each decoded file's delay is estimated from amplitude envelopes (codecs that resynthesise phase have no
waveform to align) and compensated before any metric; the decoded signal is then trimmed or zero-padded to
the reference length. The metrics are those of :mod:`vqcodec.analysis.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vqcodec.analysis.metrics import (
    MAX_DELAY_S,
    SR,
    align,
    dnsmos_ovrl,
    estimate_delay,
    log_mel_distance,
    loudness_difference,
    pesq_wb,
    pitch_errors,
    si_sdr,
    stoi,
)


@dataclass(frozen=True)
class Row:
    """One line of the quality table: a codec at one setting, averaged over the files.

    Attributes:
        codec: codec name.
        setting: its setting (rate or mode).
        real_kbps: total coded bytes * 8 / total audio seconds / 1000, container overhead included.
        pesq_wb: mean PESQ-WB over the files PESQ could score (None if none).
        stoi: mean STOI.
        log_mel: mean log-mel distance (see :func:`vqcodec.analysis.metrics.log_mel_distance`).
        si_sdr: mean SI-SDR in dB.
        delay_ms: median estimated delay of the decoded signal (positive = late) over the files with a
            reliable estimate (see :func:`vqcodec.analysis.metrics.estimate_delay`), None if none; each file's
            delay is compensated before its metrics.
        f0_cents: mean over files of the F0 error in cents on frames voiced in both signals (None if no
            file had such frames).
        voicing_error: mean fraction of frames whose voicing decision differs from the reference's.
        loudness_db: mean loudness difference in dB (decoded minus reference; None if none measurable).
        files: number of files coded.
        pesq_skipped: files PESQ could not score.
        coding_seconds: wall time of encoding plus decoding over all files.
        dnsmos: mean DNSMOS OVRL of the decoded files (no reference; see
            :func:`vqcodec.analysis.metrics.dnsmos_ovrl`), None where not measured.
    """

    codec: str
    setting: str
    real_kbps: float
    pesq_wb: float | None
    stoi: float
    log_mel: float
    si_sdr: float
    delay_ms: float | None
    f0_cents: float | None
    voicing_error: float
    loudness_db: float | None
    files: int
    pesq_skipped: int
    coding_seconds: float
    dnsmos: float | None = None


@dataclass
class Accumulator:
    """Per-file results of one codec setting, before averaging (lists in file order; PESQ None = skipped)."""

    codec: str
    setting: str
    num_bytes: int = 0
    seconds: float = 0.0
    file_bytes: list[int] = field(default_factory=list)
    pesq: list[float | None] = field(default_factory=list)
    stoi: list[float] = field(default_factory=list)
    log_mel: list[float] = field(default_factory=list)
    si_sdr: list[float] = field(default_factory=list)
    delay: list[int | None] = field(default_factory=list)
    f0_cents: list[float | None] = field(default_factory=list)
    voicing_error: list[float] = field(default_factory=list)
    loudness_db: list[float | None] = field(default_factory=list)
    dnsmos: list[float] = field(default_factory=list)


def score(acc: Accumulator, ref: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """Add the metrics of one decoded file to ``acc``, its delay compensated; returns the aligned signal."""
    delay = estimate_delay(ref, decoded, int(MAX_DELAY_S * SR))
    deg = align(decoded, delay, len(ref))
    acc.delay.append(delay)
    acc.pesq.append(pesq_wb(ref, deg))
    acc.stoi.append(stoi(ref, deg))
    acc.log_mel.append(log_mel_distance(ref, deg))
    acc.si_sdr.append(si_sdr(ref, deg))
    cents, voicing = pitch_errors(ref, deg)
    acc.f0_cents.append(cents)
    acc.voicing_error.append(voicing)
    acc.loudness_db.append(loudness_difference(ref, deg))
    acc.dnsmos.append(dnsmos_ovrl(deg))
    return deg


def mean_known(values: Sequence[float | None]) -> float | None:
    """The mean of the values that are not None (None if none is)."""
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def median_delay_ms(delays: Sequence[int | None]) -> float | None:
    """Median of the known delays, in ms (None if no file gave one)."""
    known = [d for d in delays if d is not None]
    return float(np.median(known)) * 1000 / SR if known else None


def to_row(acc: Accumulator, total_seconds: float) -> Row:
    """Average an accumulator into a table row."""
    scored = [p for p in acc.pesq if p is not None]
    return Row(
        acc.codec,
        acc.setting,
        acc.num_bytes * 8 / total_seconds / 1000,
        float(np.mean(scored)) if scored else None,
        float(np.mean(acc.stoi)),
        float(np.mean(acc.log_mel)),
        float(np.mean(acc.si_sdr)),
        median_delay_ms(acc.delay),
        mean_known(acc.f0_cents),
        float(np.mean(acc.voicing_error)),
        mean_known(acc.loudness_db),
        len(acc.stoi),
        len(acc.pesq) - len(scored),
        acc.seconds,
        mean_known(acc.dnsmos),
    )
