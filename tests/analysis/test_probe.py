"""Tests for vqcodec.analysis.probe (``vqcodec probe``): linear probes on a tiny model, balanced selection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import run_cli

from vqcodec.analysis.probe import Item, label_files, select


def _tone(freq: float, level: float, seed: int, sr: int = 8000, seconds: float = 0.3) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    noise = np.random.default_rng(seed).standard_normal(len(t))
    return (level * np.sin(2 * np.pi * freq * t) + 0.02 * noise).astype(np.float32)


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory) -> Path:
    """3 digits x 2 speakers x 5 repetitions at 8 kHz: pitch by digit, loudness by speaker; plus a stray file."""
    d = tmp_path_factory.mktemp("probe")
    for digit, freq in enumerate((300, 700, 1500)):
        for spk, level in (("amy", 0.5), ("bob", 0.1)):
            for n in range(5):
                sf.write(d / f"{digit}_{spk}_{n}.wav", _tone(freq, level, seed=n), 8000)
    sf.write(d / "readme.wav", _tone(100, 0.1, 0), 8000)
    return d


def test_probe_runs_and_reports_accuracies(tmp_path, capsys, tiny_model_file, probe_dir) -> None:
    pytest.importorskip("sklearn")
    code, out, err = run_cli(capsys, "probe", probe_dir, "-m", tiny_model_file, "-o", tmp_path)
    assert code == 0, err
    result = json.loads((tmp_path / "probe.json").read_text())
    assert (result["files"], result["train_files"], result["test_files"]) == (30, 24, 6)
    rows = {(r["task"], r["features"]): r for r in result["results"]}
    assert set(rows) == {(t, f) for t in ("digit", "speaker") for f in ("top", "bottom", "top+bottom", "log-mel")}
    for r in rows.values():
        assert {"dims", "classes", "train_accuracy", "test_accuracy", "chance"} <= set(r)
        assert 0 <= r["train_accuracy"] <= 1 and 0 <= r["test_accuracy"] <= 1 and 0 <= r["chance"] <= 1
    assert rows["digit", "top"]["dims"] == 2 * 16 and rows["speaker", "top+bottom"]["dims"] == 5 * 16
    assert rows["digit", "top"]["classes"] == 3 and rows["speaker", "bottom"]["chance"] == 0.5
    assert rows["digit", "log-mel"]["test_accuracy"] == 1.0  # three pure tones apart: the yardstick sees them
    assert "| digit | top |" in out and (tmp_path / "probe.md").is_file()


def test_probe_selection_is_balanced() -> None:
    files = [Path(f"{d}_{s}_{n}.wav") for d in range(10) for s in ("x", "y") for n in range(50)] + [Path("a_b.wav")]
    items = label_files(files)
    assert len(items) == 1000 and items[0] == Item(Path("0_x_0.wav"), "0", "x", 0)
    chosen = select(items, 100, 5)
    test = [it for it in chosen if it.rep % 5 == 0]
    assert len(chosen) == 100 and len(test) == 20
    assert {(it.digit, it.speaker) for it in test} == {(str(d), s) for d in range(10) for s in "xy"}
    assert select(items, None, 5) == items
