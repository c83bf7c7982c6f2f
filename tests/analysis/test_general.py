"""Tests for vqcodec.analysis.general: music and sounds measured at the model's own rate, against Opus."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from conftest import TINY, make_model, run_cli

from vqcodec.analysis import general
from vqcodec.io.weights import save_model
from vqcodec.pipeline import files

RATE = 24000


def _chord(seconds: float, seed: int = 0) -> np.ndarray:
    """Three tones with harmonics up to 11 kHz and a little noise: music-like, with a high band."""
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(np.sin(2 * np.pi * f * k * t) / k for f in (220.0, 277.2, 329.6) for k in range(1, 34) if f * k < 11000)
    x = x + np.random.default_rng(seed).normal(0, 0.02, len(t))
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def _lowpass(x: np.ndarray, cutoff: float) -> np.ndarray:
    spec = np.fft.rfft(x)
    spec[np.fft.rfftfreq(len(x), 1 / RATE) > cutoff] = 0
    return np.fft.irfft(spec, len(x)).astype(np.float32)


def test_high_band_is_zero_db_when_kept_far_below_when_dropped_and_unknown_without_one() -> None:
    x = _chord(1.0)
    assert general.high_band_db(x, x, RATE) == pytest.approx(0.0, abs=1e-9)
    assert general.high_band_db(x, _lowpass(x, 4500), RATE) < -60
    narrow = _lowpass(x, 4000)
    assert general.high_band_db(narrow, narrow, RATE) is None  # no high band to keep or lose


def test_tonal_peaks_see_partials_smeared_into_noise_under_the_same_envelope() -> None:
    """A chord against noise shaped to the chord's own smooth spectrum: the log-mel distance is small (the
    envelope is kept), the tonal peaks far below; the chord itself scores 0, a little noise added about 0."""
    x = _chord(2.0)
    spec = np.fft.rfft(x)
    smooth = np.convolve(np.abs(spec), np.ones(301) / 301, mode="same")  # the envelope, partials averaged out
    phase = np.exp(2j * np.pi * np.random.default_rng(1).random(len(spec)))
    shaped = np.fft.irfft(smooth * phase, len(x)).astype(np.float32)
    assert general.tonal_peaks_db(x, x, RATE) == 0.0
    assert general.tonal_peaks_db(x, x + np.random.default_rng(2).normal(0, 1e-4, len(x)), RATE) > -3
    assert general.tonal_peaks_db(x, shaped, RATE) < -15
    assert general.log_mel_distance(x, shaped, RATE) < general.log_mel_distance(x, _lowpass(x, 4500), RATE)
    t = np.arange(len(x)) / RATE
    buzz = 0.1 * np.sign(np.sin(2 * np.pi * 150 * t)).astype(np.float32)  # a comb at a frame rate's multiples
    assert general.tonal_peaks_db(shaped, shaped + buzz, RATE) > 3  # peaks the reference lacks
    assert general.tonal_peaks_db(x[:1000], x[:1000], RATE) is None  # shorter than one window
    assert general.tonal_peaks_db(x, np.zeros_like(x), RATE) is None  # silence has no partials


def test_full_band_log_mel_distance_sees_a_missing_high_band() -> None:
    x = _chord(1.0)
    assert general.log_mel_distance(x, x, RATE) == 0.0
    assert general.log_mel_distance(x, _lowpass(x, 4500), RATE) > general.log_mel_distance(x, _lowpass(x, 10000), RATE)


def test_an_excerpt_is_the_middle_of_the_file_at_the_asked_rate(tmp_path) -> None:
    x = np.concatenate([np.zeros(RATE), np.full(RATE, 0.5), np.zeros(RATE)]).astype(np.float32)
    sf.write(tmp_path / "a.wav", x, RATE)
    mid = general.excerpt(tmp_path / "a.wav", RATE, 1.0)
    assert len(mid) == RATE and np.allclose(mid, 0.5, atol=1e-3)
    assert len(general.excerpt(tmp_path / "a.wav", RATE, 10.0)) == 3 * RATE  # shorter than asked: whole
    assert len(general.excerpt(tmp_path / "a.wav", 48000, None)) == 6 * RATE


def test_visqol_ranks_the_reference_above_a_low_passed_copy() -> None:
    pytest.importorskip("visqol")
    x = _chord(2.0)
    same, low = general.visqol_audio(x, x, RATE), general.visqol_audio(x, _lowpass(x, 3000), RATE)
    assert same > 4.0 and low < same - 0.5
    assert general.visqol_audio(x[: RATE // 5], x[: RATE // 5], RATE) is None  # a 0.2 s effect: not scored


@pytest.mark.skipif(shutil.which("opusenc") is None, reason="needs opus-tools")
def test_a_model_at_24_khz_and_opus_are_measured_on_the_same_excerpts(tmp_path) -> None:
    """Every rung and every Opus rate give a row, at the model's rate; real rates count the coded bytes."""
    config = dataclasses.replace(TINY, name="tiny24", sample_rate=RATE)
    save_model(make_model(config), tmp_path / "tiny24.safetensors")
    codec = files.load(tmp_path / "tiny24.safetensors", 1, "torch")
    for i in range(2):
        sf.write(tmp_path / f"m{i}.wav", _chord(0.6, seed=i), RATE)
    rungs = codec.ladder()[:: len(codec.ladder()) - 1]  # the lowest and the top
    ev = general.evaluate(codec, sorted(tmp_path.glob("m*.wav")), rungs, 0.5, (6,), visqol=False, examples=1)
    rows, seconds = ev.rows, ev.seconds
    assert seconds == pytest.approx(1.0)
    assert len(ev.examples) == 1 and len(ev.examples[0].decoded) == 3  # every coder's decoding of the first
    assert all(len(d) == len(ev.examples[0].reference) for d in ev.examples[0].decoded.values())
    assert [(r["codec"], r["files"]) for r in rows] == [("vqcodec", 2), ("vqcodec", 2), ("opus", 2)]
    assert rows[0]["real_kbps"] < rows[1]["real_kbps"]
    assert all(r["real_kbps"] > 0 and r["visqol"] is None and np.isfinite(r["log_mel"]) for r in rows)
    assert rows[-1]["high_band_db"] < -20  # Opus at 6 kbps is narrowband
    assert all("tonal_db" in r for r in rows)
    text = general.report(rows, "cmd", "tiny24", seconds)
    assert text.count("\n| ") == 4 and "| opus | 6 kbps |" in text


@pytest.fixture(scope="module")
def general_model(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("general") / "tiny24.safetensors"
    save_model(make_model(dataclasses.replace(TINY, name="tiny24", sample_rate=RATE, content="general")), path)
    return str(path)


@pytest.mark.skipif(shutil.which("opusenc") is None, reason="needs opus-tools")
def test_eval_of_a_general_model_scores_music_at_its_rate_beside_opus(general_model, tmp_path, capsys) -> None:
    """``vqcodec eval`` with a model for music and sounds: the music metrics (not PESQ, STOI or F0), Opus rows."""
    pytest.importorskip("visqol")
    sf.write(tmp_path / "song.wav", _chord(1.2), RATE)
    out = tmp_path / "ev"
    code, stdout, _ = run_cli(capsys, "eval", str(tmp_path), "-m", general_model, "-o", str(out), "--reference-codecs")
    assert code == 0
    table = (out / "eval.md").read_text()
    assert "ViSQOL (audio)" in table and "PESQ" not in table and "| opus | 12 kbps |" in table
    rows = json.loads((out / "eval.json").read_text())["rows"]
    assert all(r["visqol"] is not None and r["files"] == 1 for r in rows)
    assert (out / "spectrograms" / "song.png").is_file()


@pytest.mark.skipif(shutil.which("opusenc") is None, reason="needs opus-tools")
def test_eval_of_a_general_model_writes_a_listening_page_at_its_rate(general_model, tmp_path, capsys) -> None:
    """``--html`` with a model for music and sounds: every player's FLAC at the model's rate, the music metrics
    per file (ViSQOL, tonal peaks; no PESQ), the averaged table, a spectrogram."""
    pytest.importorskip("visqol")
    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "song.wav", _chord(1.2), RATE)
    page = tmp_path / "page"
    argv = ["eval", str(src), "-m", general_model, "-o", str(tmp_path / "ev"), "-b", "10", "--reference-codecs"]
    code, _, err = run_cli(capsys, *argv, "--html", str(page))
    assert code == 0, err
    text = (page / "index.html").read_text()
    assert "ViSQOL" in text and "tonal peaks (dB)" in text and "PESQ" not in text and "24 kHz mono" in text
    flacs = sorted((page / "audio" / "1").glob("*.flac"))
    assert len(flacs) == 4  # the reference, one rung, Opus 6 and 12
    assert all(sf.info(f).samplerate == RATE for f in flacs)
    assert all(f"audio/1/{f.name}" in text for f in flacs)
    assert (page / "spectrograms" / "1.png").is_file()
