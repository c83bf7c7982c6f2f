"""Tests for vqcodec.analysis.quality: every file through every coder, scored, under one progress bar."""

from __future__ import annotations

import io
import sys

import pytest


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_a_long_run_draws_a_progress_bar_on_a_terminal(monkeypatch, audio_dir, terminal) -> None:
    """On a terminal one bar counts the files; elsewhere (a log) a plain line per file."""
    pytest.importorskip("tqdm")
    for module in ("pesq", "pystoi"):
        pytest.importorskip(module)
    from vqcodec.analysis.quality import code_all
    from vqcodec.analysis.reference_codecs import Coded

    stream = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    files = sorted(audio_dir.iterdir())
    accs, _ = code_all(files, {("same", "copy"): lambda ref, wav, tmp: Coded(ref, 100, 0.0)})
    assert accs[0].file_bytes == [100, 100]
    text = stream.getvalue()
    if terminal:
        assert "eval: 100%" in text and "2/2" in text and "[1/2]" not in text
    else:
        assert "[1/2] a.wav" in text and "[2/2] b.wav" in text and "%" not in text
