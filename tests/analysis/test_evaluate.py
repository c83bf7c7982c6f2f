"""Tests for vqcodec.analysis.evaluate (``vqcodec eval``): its files and table, reference codecs, rates refused,
skipped files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import is_png, run_cli


def test_eval_writes_json_table_and_plot(tmp_path, capsys, tiny_model_file, audio_dir) -> None:
    for module in ("pesq", "pystoi", "matplotlib"):
        pytest.importorskip(module)
    code, out, err = run_cli(capsys, "eval", audio_dir, "-m", tiny_model_file, "-o", tmp_path)
    assert code == 0, err
    result = json.loads((tmp_path / "eval.json").read_text())
    assert result["files"] == 2 and len(result["per_file"]) == 3
    assert [r["setting"] for r in result["rows"]] == ["6.4 kbps (2t+1b)", "9.6 kbps (2t+2b)", "12.8 kbps (2t+3b)"]
    for r in result["rows"]:
        assert r["codec"] == "vqcodec" and r["files"] == 2 and r["real_kbps"] > 6
        assert 0 <= r["stoi"] <= 1 and r["log_mel"] > 0
    assert is_png(tmp_path / "rate_quality.png")
    assert "| vqcodec | 6.4 kbps (2t+1b) |" in (tmp_path / "eval.md").read_text() and "PESQ-WB" in out
    assert result["command"] == f"vqcodec eval {audio_dir} -o {tmp_path} -m {tiny_model_file}"


@pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("opusenc", "opusdec", "c2enc", "c2dec", "sox")),
    reason="opus-tools, codec2 or sox not installed",
)
def test_eval_with_reference_codecs(tmp_path, capsys, tiny_model_file, audio_dir) -> None:
    for module in ("pesq", "pystoi", "matplotlib"):
        pytest.importorskip(module)
    code, _, err = run_cli(
        capsys, "eval", audio_dir / "a.wav", "-m", tiny_model_file, "-b", "7", "--reference-codecs", "-o", tmp_path
    )
    assert code == 0, err
    rows = json.loads((tmp_path / "eval.json").read_text())["rows"]
    assert [(r["codec"], r["setting"]) for r in rows] == [
        ("vqcodec", "6.4 kbps (2t+1b)"),
        ("opus", "6 kbps"),
        ("opus", "8 kbps"),
        ("opus", "12 kbps"),
        ("codec2", "3200"),
        ("codec2", "1600"),
        ("codec2", "700C"),
    ]
    assert rows[3]["stoi"] > 0.8 and is_png(tmp_path / "rate_quality.png")


def test_eval_rate_below_the_ladder_is_one_line(tmp_path, capsys, tiny_model_file, audio_dir) -> None:
    pytest.importorskip("pesq")
    pytest.importorskip("matplotlib")
    code, _, err = run_cli(capsys, "eval", audio_dir, "-m", tiny_model_file, "-b", "1", "-o", tmp_path)
    assert code != 0 and err.count("\n") == 1 and "below this model's lowest rate" in err


def test_eval_skips_and_lists_unreadable_files(tmp_path, capsys, tiny_model_file, audio_dir) -> None:
    """One broken file no longer loses the whole run: it is skipped, named on one line and listed."""
    for module in ("pesq", "pystoi", "matplotlib"):
        pytest.importorskip(module)
    data = tmp_path / "data"
    shutil.copytree(audio_dir, data)
    (data / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    code, _, err = run_cli(capsys, "eval", data, "-m", tiny_model_file, "-b", "7", "-o", tmp_path / "out")
    assert code == 3, err
    assert "Traceback" not in err and "broken.wav" in err
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert [Path(e["path"]).name for e in errors] == ["broken.wav"]
    assert json.loads((tmp_path / "out" / "eval.json").read_text())["files"] == 2
