"""``vqcodec inspect``, ``probe`` and ``eval`` on a tiny model and a few generated files."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import TINY, make_model, speech_like

from vqcodec import cli
from vqcodec.analysis.probe import Item, label_files, select
from vqcodec.io.weights import save_model

PNG = b"\x89PNG\r\n\x1a\n"
LADDER = [6.4, 9.6, 12.8]  # the tiny model's rungs at 16 kHz (kbps)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(make_model(TINY, seed=0), path)
    return str(path)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory) -> Path:
    """Two speech-like files: 16 kHz mono and 22.05 kHz stereo."""
    d = tmp_path_factory.mktemp("audio")
    sf.write(d / "a.wav", speech_like(1.5, 16000, seed=0), 16000)
    b = speech_like(1.2, 22050, seed=1)
    sf.write(d / "b.wav", np.stack([b, 0.5 * b], 1), 22050)
    return d


def _is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG


def _main(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- inspect


def test_inspect_folder_writes_plots_and_json(tmp_path, capsys, model_file, audio_dir) -> None:
    pytest.importorskip("matplotlib")
    had_pyplot = "matplotlib.pyplot" in sys.modules
    code, out, err = _main(capsys, "inspect", audio_dir, "-m", model_file, "-o", tmp_path / "rep")
    assert code == 0, err
    rep = tmp_path / "rep"
    assert _is_png(rep / "codebooks.png") and _is_png(rep / "tokens.png")
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


def test_inspect_one_file_at_a_rung(tmp_path, capsys, model_file, audio_dir) -> None:
    pytest.importorskip("matplotlib")
    code, _, err = _main(capsys, "inspect", audio_dir / "b.wav", "-m", model_file, "-b", "7", "-o", tmp_path)
    assert code == 0, err
    result = json.loads((tmp_path / "inspect.json").read_text())
    assert result["files"] == 1 and result["rung"]["n_bottom"] == 1 and result["example"].endswith("b.wav")
    assert _is_png(tmp_path / "tokens.png")


def test_inspect_errors_are_one_line(tmp_path, capsys, model_file) -> None:
    code, _, err = _main(capsys, "inspect", tmp_path / "nothing", "-m", model_file, "-o", tmp_path / "r")
    assert code != 0 and err.count("\n") == 1 and "Traceback" not in err


# ---------------------------------------------------------------- probe


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


def test_probe_runs_and_reports_accuracies(tmp_path, capsys, model_file, probe_dir) -> None:
    pytest.importorskip("sklearn")
    code, out, err = _main(capsys, "probe", probe_dir, "-m", model_file, "-o", tmp_path)
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


# ---------------------------------------------------------------- eval


def test_eval_writes_json_table_and_plot(tmp_path, capsys, model_file, audio_dir) -> None:
    for module in ("pesq", "pystoi", "matplotlib"):
        pytest.importorskip(module)
    code, out, err = _main(capsys, "eval", audio_dir, "-m", model_file, "-o", tmp_path)
    assert code == 0, err
    result = json.loads((tmp_path / "eval.json").read_text())
    assert result["files"] == 2 and len(result["per_file"]) == 3
    assert [r["setting"] for r in result["rows"]] == ["6.4 kbps (2t+1b)", "9.6 kbps (2t+2b)", "12.8 kbps (2t+3b)"]
    for r in result["rows"]:
        assert r["codec"] == "vqcodec" and r["files"] == 2 and r["real_kbps"] > 6
        assert 0 <= r["stoi"] <= 1 and r["log_mel"] > 0
    assert _is_png(tmp_path / "rate_quality.png")
    assert "| vqcodec | 6.4 kbps (2t+1b) |" in (tmp_path / "eval.md").read_text() and "PESQ-WB" in out
    assert result["command"] == f"vqcodec eval {audio_dir} -o {tmp_path} -m {model_file}"


@pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("opusenc", "opusdec", "c2enc", "c2dec", "sox")),
    reason="opus-tools, codec2 or sox not installed",
)
def test_eval_with_reference_codecs(tmp_path, capsys, model_file, audio_dir) -> None:
    for module in ("pesq", "pystoi", "matplotlib"):
        pytest.importorskip(module)
    code, _, err = _main(
        capsys, "eval", audio_dir / "a.wav", "-m", model_file, "-b", "7", "--reference-codecs", "-o", tmp_path
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
    assert rows[3]["stoi"] > 0.8 and _is_png(tmp_path / "rate_quality.png")


def test_eval_rate_below_the_ladder_is_one_line(tmp_path, capsys, model_file, audio_dir) -> None:
    pytest.importorskip("pesq")
    pytest.importorskip("matplotlib")
    code, _, err = _main(capsys, "eval", audio_dir, "-m", model_file, "-b", "1", "-o", tmp_path)
    assert code != 0 and err.count("\n") == 1 and "below this model's lowest rate" in err


def test_eval_skips_and_lists_unreadable_files(tmp_path, capsys, model_file, audio_dir) -> None:
    """One broken file no longer loses the whole run: it is skipped, named on one line and listed."""
    for module in ("pesq", "pystoi", "matplotlib"):
        pytest.importorskip(module)
    data = tmp_path / "data"
    shutil.copytree(audio_dir, data)
    (data / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    code, _, err = _main(capsys, "eval", data, "-m", model_file, "-b", "7", "-o", tmp_path / "out")
    assert code == 3, err
    assert "Traceback" not in err and "broken.wav" in err
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert [Path(e["path"]).name for e in errors] == ["broken.wav"]
    assert json.loads((tmp_path / "out" / "eval.json").read_text())["files"] == 2


def test_output_folders_are_checked_before_the_work(tmp_path, capsys, model_file, audio_dir) -> None:
    (tmp_path / "file").write_text("x")
    for command in ("eval", "inspect", "probe"):
        for out, words in (
            (tmp_path / "file", "not a folder"),
            (tmp_path / "file" / "sub", "not a folder"),
            ("", "empty"),
        ):
            code, _, err = _main(capsys, command, audio_dir, "-m", model_file, "-o", out)
            assert code == 1 and len(err.splitlines()) == 1 and words in err, (command, out, err)
