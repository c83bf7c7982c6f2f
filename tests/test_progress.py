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
