"""Codebook statistics on hand-made code streams, collapse warnings, and the quality metrics' sanity."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from conftest import speech_like

from vqcodec.analysis import metrics
from vqcodec.analysis.stats import code_histogram, codebook_stats, collapse_warnings, level_usage
from vqcodec.errors import UserError

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
