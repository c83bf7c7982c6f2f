"""Tests for vqcodec.analysis.inspection (``vqcodec inspect``) on a tiny model and a few generated files, and
the output folders every analysis command checks before its work."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import LADDER, is_png, run_cli


def test_inspect_folder_writes_plots_and_json(tmp_path, capsys, tiny_model_file, audio_dir) -> None:
    pytest.importorskip("matplotlib")
    had_pyplot = "matplotlib.pyplot" in sys.modules
    code, out, err = run_cli(capsys, "inspect", audio_dir, "-m", tiny_model_file, "-o", tmp_path / "rep")
    assert code == 0, err
    rep = tmp_path / "rep"
    assert is_png(rep / "codebooks.png") and is_png(rep / "tokens.png")
    result = json.loads((rep / "inspect.json").read_text())
    assert result["files"] == 2 and result["rung"] == {"kbps": LADDER[-1], "n_top": 2, "n_bottom": 3}
    assert result["example"].endswith("a.wav")
    top, bottom = result["levels"]["top"], result["levels"]["bottom"]
    assert len(top["per_codebook"]) == 2 and len(bottom["per_codebook"]) == 3
    # top hop 40 at 16 kHz: 1.5 s -> 600 top frames, 1.2 s -> 480; the bottom runs twice as fast
    assert top["frames_per_codebook"] == 600 + 480 and bottom["frames_per_codebook"] == 2 * (600 + 480)
    for row in top["per_codebook"] + bottom["per_codebook"]:
        assert 0 < row["usage_pct"] <= 100 and 1 <= row["perplexity"] <= 16 and 0 <= row["repeat_pct"] <= 100
    assert "top" in out and "bottom" in out and "perplexity" in out
    assert had_pyplot or "matplotlib.pyplot" not in sys.modules  # figures never touch pyplot's global state


def test_inspect_one_file_at_a_rung(tmp_path, capsys, tiny_model_file, audio_dir) -> None:
    pytest.importorskip("matplotlib")
    code, _, err = run_cli(capsys, "inspect", audio_dir / "b.wav", "-m", tiny_model_file, "-b", "7", "-o", tmp_path)
    assert code == 0, err
    result = json.loads((tmp_path / "inspect.json").read_text())
    assert result["files"] == 1 and result["rung"]["n_bottom"] == 1 and result["example"].endswith("b.wav")
    assert is_png(tmp_path / "tokens.png")


def test_inspect_errors_are_one_line(tmp_path, capsys, tiny_model_file) -> None:
    code, _, err = run_cli(capsys, "inspect", tmp_path / "nothing", "-m", tiny_model_file, "-o", tmp_path / "r")
    assert code != 0 and err.count("\n") == 1 and "Traceback" not in err


def test_output_folders_are_checked_before_the_work(tmp_path, capsys, tiny_model_file, audio_dir) -> None:
    (tmp_path / "file").write_text("x")
    for command in ("eval", "inspect", "probe"):
        for out, words in (
            (tmp_path / "file", "not a folder"),
            (tmp_path / "file" / "sub", "not a folder"),
            ("", "empty"),
        ):
            code, _, err = run_cli(capsys, command, audio_dir, "-m", tiny_model_file, "-o", out)
            assert code == 1 and len(err.splitlines()) == 1 and words in err, (command, out, err)
