"""Tests for vqcodec.progress: a bar on request or on a terminal, plain lines elsewhere, never both."""

from __future__ import annotations

import io

import pytest

from vqcodec.progress import ProgressBar


def test_plain_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(10, unit="file", desc="x", stream=stream)
    assert bar.bar is None and not bar.missing
    bar.update(3, postfix="ignored without a bar")
    bar.write("a line")
    bar.close()
    assert stream.getvalue() == "a line\n"


def test_a_bar_when_asked_and_lines_above_it() -> None:
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    bar = ProgressBar(10, unit="step", desc="train", initial=2, mode="bar", stream=stream)
    bar.update(1, postfix="loss=1.0")
    bar.write("a warning")
    bar.close()
    text = stream.getvalue()
    assert bar.bar is not None and "3/10" in text and "loss=1.0" in text and "a warning\n" in text


def test_off_draws_nothing() -> None:
    stream = io.StringIO()
    bar = ProgressBar(10, unit="file", desc="x", mode="off", stream=stream)
    bar.update(5)
    bar.close()
    assert bar.bar is None and stream.getvalue() == ""


def test_counted_audio_gives_throughput_lines_without_a_bar(monkeypatch) -> None:
    """What token extraction draws: files/s, audio-hours/s and times real time, a line every ``every`` seconds
    in a log and one at the end."""
    now = [0.0]
    monkeypatch.setattr("vqcodec.progress.time.monotonic", lambda: now[0])
    stream = io.StringIO()
    bar = ProgressBar(4, unit="file", desc="tokens", stream=stream, every=10.0)
    now[0] = 1.0
    bar.count(1, 36.0)  # too soon for a line
    now[0] = 20.0
    bar.count(2, 36.0)
    now[0] = 24.0
    bar.close()
    assert stream.getvalue().splitlines() == [
        "tokens: 3/4 files, 0.15 files/s, 0.0010 audio-h/s (3.6x real time)",
        "tokens: 3/4 files, 0.12 files/s, 0.0008 audio-h/s (3.0x real time)",
    ]


def test_counted_audio_goes_after_the_bar_and_off_says_nothing() -> None:
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    bar = ProgressBar(4, unit="file", desc="tokens", mode="bar", stream=stream, every=10.0)
    bar.count(2, 7200.0)
    bar.close()
    assert "2/4" in stream.getvalue() and "audio-h/s" in stream.getvalue() and "x real time" in stream.getvalue()
    quiet = io.StringIO()
    off = ProgressBar(4, unit="file", desc="tokens", mode="off", stream=quiet, every=10.0)
    off.count(4, 60.0)
    off.close()
    assert quiet.getvalue() == ""
