"""Tests for vqcodec.analysis.metrics: the quality metrics' sanity on known signals."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import speech_like

from vqcodec.analysis import metrics
from vqcodec.errors import UserError


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return speech_like(3.0, metrics.SR, seed=1)


def test_si_sdr(speech) -> None:
    assert metrics.si_sdr(speech, speech) > 100
    assert metrics.si_sdr(speech, 0.3 * speech) > 100  # scale-invariant
    noisy = speech + 0.1 * np.std(speech) * np.random.default_rng(0).standard_normal(len(speech))
    assert metrics.si_sdr(speech, noisy.astype(np.float32)) == pytest.approx(20, abs=0.5)


def test_log_mel_distance(speech) -> None:
    assert metrics.log_mel_distance(speech, speech) == 0.0
    assert metrics.log_mel_distance(speech, 0.5 * speech) == pytest.approx(np.log10(4), abs=0.05)


def test_pesq_and_stoi_of_identical_signals(speech) -> None:
    pytest.importorskip("pesq")
    pytest.importorskip("pystoi")
    assert metrics.pesq_wb(speech, speech) > 4.4
    assert metrics.stoi(speech, speech) > 0.99


def test_delay_and_fit_length(speech) -> None:
    late = np.concatenate([np.zeros(80, np.float32), speech])[: len(speech)]
    assert metrics.estimate_delay(speech, late, 800) == 80
    assert metrics.estimate_delay(speech, np.zeros_like(speech), 800) is None
    assert len(metrics.fit_length(speech, 10)) == 10 and metrics.fit_length(speech[:5], 8)[5:].tolist() == [0] * 3


def test_missing_eval_packages_say_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pesq", None)  # import pesq -> ImportError
    with pytest.raises(UserError, match=r"vqcodec\[eval\]"):
        metrics.require_eval()


def test_align_compensates_an_estimated_delay(speech) -> None:
    late = np.concatenate([np.zeros(160, np.float32), speech])
    delay = metrics.estimate_delay(speech, late[: len(speech)], 800)
    aligned = metrics.align(late, delay, len(speech))
    assert delay == 160 and np.array_equal(aligned, speech)
    early = metrics.align(speech[40:], -40, len(speech))
    assert np.array_equal(early[40:], speech[40:]) and not early[:40].any()
    assert np.array_equal(metrics.align(speech, None, 100), speech[:100])


def test_loudness_difference_is_level_in_db(speech) -> None:
    pytest.importorskip("pyloudnorm")
    assert metrics.loudness_difference(speech, speech) == pytest.approx(0.0, abs=1e-6)
    assert metrics.loudness_difference(speech, 0.5 * speech) == pytest.approx(-6.02, abs=0.05)
    assert metrics.loudness_difference(speech[:1000], speech[:1000]) is None  # under 0.4 s


def test_pitch_errors_see_a_semitone() -> None:
    pytest.importorskip("parselmouth")
    t = np.arange(metrics.SR) / metrics.SR

    def voice(f0: float) -> np.ndarray:
        return (0.1 * sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))).astype(np.float32)

    cents, voicing = metrics.pitch_errors(voice(200.0), voice(200.0 * 2 ** (1 / 12)))
    assert cents == pytest.approx(100, abs=5) and voicing < 0.05
    cents, voicing = metrics.pitch_errors(voice(200.0), np.zeros(metrics.SR, np.float32))
    assert cents is None and voicing > 0.8


def test_dnsmos_prefers_clean_speech_to_the_same_speech_in_noise() -> None:
    from conftest import speech_like

    from vqcodec.analysis.metrics import dnsmos_ovrl

    clean = speech_like(3.0)
    noisy = clean + 0.3 * np.random.default_rng(0).standard_normal(len(clean)).astype(np.float32)
    assert 1.0 <= dnsmos_ovrl(noisy) < dnsmos_ovrl(clean) - 0.5 <= 5.0
    assert dnsmos_ovrl(4.0 * clean) == dnsmos_ovrl(np.clip(4.0 * clean, -1, 1))  # clipped as the models expect
