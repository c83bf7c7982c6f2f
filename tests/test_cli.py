"""Tests for vqcodec.cli: the commands in-process, their one-line errors, and the installed entry points."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from conftest import make_model

from vqcodec import cli
from vqcodec.codec import Codec
from vqcodec.io.weights import save_model
from vqcodec.pipeline.info import info


@pytest.fixture
def work(tmp_path: Path, speech_wav: Path) -> Path:
    """A folder holding a copy of the espeak sample."""
    shutil.copy(speech_wav, tmp_path / "speech.wav")
    return tmp_path


def _run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code != 0
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vqcodec: ")
    for needle in needles:
        assert needle in lines[0]


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ---------------------------------------------------------------- happy paths


def test_compress_decompress_info_default_names(
    work: Path, capsys: pytest.CaptureFixture, shipped_codec: Codec
) -> None:
    src = work / "speech.wav"
    code, out, err = _run(capsys, "compress", src)
    assert (code, err) == (0, "")
    vqc = work / "speech.vqc"
    assert vqc.is_file() and str(vqc) in out

    # The default output name of decompress is the input itself here: refused, nothing touched.
    before = _listing(work)
    code, _, err = _run(capsys, "decompress", vqc)
    _assert_one_line_error(code, err, "already exists")
    assert _listing(work) == before

    moved = work / "out" / "speech.vqc"
    moved.parent.mkdir()
    vqc.rename(moved)
    code, out, err = _run(capsys, "decompress", moved)
    assert (code, err) == (0, "")
    restored = moved.with_suffix(".wav")
    a, b = sf.info(src), sf.info(restored)
    assert (b.samplerate, b.channels, b.frames) == (a.samplerate, a.channels, a.frames)

    code, out, err = _run(capsys, "info", "--json", moved)
    assert (code, err) == (0, "")
    facts = json.loads(out)
    assert facts["sample_rate"] == a.samplerate and facts["channels"] == 1 and facts["samples"] == a.frames
    assert facts["model"] == "sp16k" and facts["bytes"] == moved.stat().st_size
    assert set(facts["levels"]) == {s.name for s in shipped_codec.config.streams}
    default = shipped_codec.rung(None)
    assert facts["levels"]["top"]["codebooks"] == default.n_top
    assert facts["levels"]["bottom"]["codebooks"] == default.n_bottom
    plain_kbps = facts["plain_bytes"] * 8 / facts["duration_s"] / 1000  # the stream before entropy coding
    assert plain_kbps == pytest.approx(default.kbps, rel=0.1) and facts["kbps"] <= plain_kbps
    code, out, err = _run(capsys, "info", moved)
    assert code == 0 and "sample_rate" in out and err == ""


def test_bitrate_and_quiet(work: Path, capsys: pytest.CaptureFixture, shipped_codec: Codec) -> None:
    low, high = work / "low.vqc", work / "high.vqc"
    lowest = str(shipped_codec.ladder()[0].kbps)
    assert _run(capsys, "compress", work / "speech.wav", "-o", low, "-b", lowest, "-q") == (0, "", "")
    assert _run(capsys, "compress", work / "speech.wav", "-o", high, "-b", "99", "-q") == (0, "", "")
    facts = [info(str(p)) for p in (low, high)]
    assert facts[0]["levels"]["bottom"]["codebooks"] == 1
    assert facts[1]["levels"]["bottom"]["codebooks"] == shipped_codec.config.n_bottom
    assert low.stat().st_size < high.stat().st_size
    code, _, err = _run(capsys, "compress", work / "speech.wav", "-o", work / "x.vqc", "-b", "0.1")
    _assert_one_line_error(code, err, "kbps")
    assert not (work / "x.vqc").exists()


def test_force_replaces(work: Path, capsys: pytest.CaptureFixture) -> None:
    src, dst = work / "speech.wav", work / "out.vqc"
    dst.write_bytes(b"old")
    code, _, err = _run(capsys, "compress", src, "-o", dst)
    _assert_one_line_error(code, err, "already exists", "--force")
    assert dst.read_bytes() == b"old"
    code, _, err = _run(capsys, "compress", src, "-o", dst, "--force", "-q")
    assert (code, err) == (0, "")
    assert dst.read_bytes()[:3] == b"VQC"

    wav = work / "restored.wav"
    wav.write_bytes(b"old")
    code, _, err = _run(capsys, "decompress", dst, "-o", wav)
    _assert_one_line_error(code, err, "already exists")
    assert wav.read_bytes() == b"old"
    assert _run(capsys, "decompress", dst, "-o", wav, "-f", "-q") == (0, "", "")
    assert sf.info(wav).frames == sf.info(src).frames


# ---------------------------------------------------------------- errors: one line, no traceback, no output


def _corrupt(work: Path, capsys: pytest.CaptureFixture, kind: str) -> Path:
    vqc = work / f"{kind}.vqc"
    assert _run(capsys, "compress", work / "speech.wav", "-o", vqc, "-q")[0] == 0
    data = bytearray(vqc.read_bytes())
    if kind == "flipped":
        data[len(data) // 2] ^= 0x5A
    elif kind == "truncated":
        data = data[: len(data) * 2 // 3]
    elif kind == "empty":
        data = bytearray()
    elif kind == "text":
        data = bytearray(b"hello\n")
    vqc.write_bytes(bytes(data))
    return vqc


@pytest.mark.parametrize("kind", ["flipped", "truncated", "empty", "text"])
def test_corrupt_vqc(work: Path, capsys: pytest.CaptureFixture, kind: str) -> None:
    vqc = _corrupt(work, capsys, kind)
    before = _listing(work)
    for argv in (
        ["decompress", vqc],
        ["decompress", vqc, "-o", work / "x.wav"],
        ["info", vqc],
        ["info", "--json", vqc],
    ):
        code, out, err = _run(capsys, *argv)
        _assert_one_line_error(code, err, vqc.name)
        assert out == ""
    assert _listing(work) == before


def test_bad_inputs(work: Path, capsys: pytest.CaptureFixture) -> None:
    (work / "folder").mkdir()
    (work / "notes.txt").write_text("not audio\n")
    (work / "fake.wav").write_bytes(b"RIFF not really a wave file")
    cases = [
        (["compress", work / "missing.wav"], "missing.wav"),
        (["compress", work / "folder"], "folder"),
        (["compress", work / "notes.txt"], "notes.txt"),
        (["compress", work / "fake.wav"], "fake.wav"),
        (["decompress", work / "missing.vqc"], "missing.vqc"),
        (["decompress", work / "folder", "-o", work / "x.wav"], "folder"),
        (["decompress", work / "notes.txt"], "notes.txt"),
        (["info", work / "missing.vqc"], "missing.vqc"),
        (["info", work / "folder"], "folder"),
        (["compress", work / "speech.wav", "-o", work / "no" / "such" / "dir" / "x.vqc"], ""),
        (["compress", work / "speech.wav", "-o", work / "speech.wav"], "overwrite"),
        (["compress", work / "speech.wav", "-m", work / "missing.safetensors", "-o", work / "y.vqc"], "missing"),
    ]
    before = _listing(work)
    for argv, needle in cases:
        code, out, err = _run(capsys, *argv)
        _assert_one_line_error(code, err, needle)
        assert out == ""
        assert _listing(work) == before, argv
    assert not (work / "no").exists()
    assert sorted(p.name for p in (work / "folder").iterdir()) == []


def test_decompress_unsupported_output_format(work: Path, capsys: pytest.CaptureFixture) -> None:
    vqc = work / "a.vqc"
    assert _run(capsys, "compress", work / "speech.wav", "-o", vqc, "-q")[0] == 0
    code, _, err = _run(capsys, "decompress", vqc, "-o", work / "a.mp3")
    _assert_one_line_error(code, err, "a.mp3")
    assert not (work / "a.mp3").exists()


def test_other_model_and_pickle_model_refused(work: Path, capsys: pytest.CaptureFixture) -> None:
    vqc = work / "a.vqc"
    assert _run(capsys, "compress", work / "speech.wav", "-o", vqc, "-q")[0] == 0
    tiny = work / "tiny.safetensors"
    save_model(make_model(), tiny)
    code, _, err = _run(capsys, "decompress", vqc, "-o", work / "a.wav", "-m", tiny)
    _assert_one_line_error(code, err, "model")
    assert not (work / "a.wav").exists()

    marker = work / "pwned"
    evil = work / "evil.safetensors"
    evil.write_bytes(b"cposix\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    code, _, err = _run(capsys, "decompress", vqc, "-o", work / "b.wav", "-m", evil)
    _assert_one_line_error(code, err, "evil.safetensors")
    assert not marker.exists() and not (work / "b.wav").exists()


def test_usage_errors_exit_nonzero(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main([])
    assert e.value.code != 0
    with pytest.raises(SystemExit) as e:
        cli.main(["compress", "x.wav", "--bitrate", "fast"])
    assert e.value.code != 0
    capsys.readouterr()


# ---------------------------------------------------------------- installed entry points (real processes)


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def test_python_dash_m_help() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "vqcodec", "--help"], capture_output=True, text=True, timeout=120, env=_env()
    )
    assert r.returncode == 0, r.stderr
    for command in ("compress", "decompress", "info", "train"):
        assert command in r.stdout


def test_console_script_compress(tmp_path: Path, speech_wav: Path) -> None:
    exe = shutil.which("vqcodec", path=str(Path(sys.executable).parent)) or shutil.which("vqcodec")
    if exe is None:
        pytest.skip("the vqcodec console script is not installed")
    src = tmp_path / "speech.wav"
    shutil.copy(speech_wav, src)
    r = subprocess.run([exe, "compress", str(src)], capture_output=True, text=True, timeout=120, env=_env())
    assert r.returncode == 0, r.stderr
    assert "speech.vqc" in r.stdout
    assert (tmp_path / "speech.vqc").read_bytes()[:3] == b"VQC"


# ---------------------------------------------------------------- bugs found by these tests, now fixed


def _tiny_vqc(folder: Path, **changes) -> tuple[Path, Path]:
    """A tiny model file and a well-formed .vqc (valid checksum) from it, with ``changes`` to its codes."""
    import dataclasses

    import numpy as np

    from vqcodec.compress import codes_to_container
    from vqcodec.io import container
    from vqcodec.io.weights import load_model

    model_path = folder / "tiny.safetensors"
    save_model(make_model(), model_path)
    codec = Codec(load_model(model_path))
    codes = dataclasses.replace(codec.encode(np.zeros(400, np.float32), 16000, 1e6), **changes)
    vqc = folder / "crafted.vqc"
    vqc.write_bytes(container.write(codes_to_container(codes, 8)))
    return model_path, vqc


def test_info_of_zero_length_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _, vqc = _tiny_vqc(tmp_path, num_samples=0)
    code, _, err = _run(capsys, "info", vqc)
    assert "Traceback" not in err and (code == 0 or len(err.splitlines()) == 1)


def test_decompress_codes_outside_codebook(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import torch

    top = torch.full((1, 2, 10), 200, dtype=torch.long)  # the tiny codebooks hold 16 codes
    model_path, vqc = _tiny_vqc(tmp_path, top=top)
    code, _, err = _run(capsys, "decompress", vqc, "-o", tmp_path / "out.wav", "-m", model_path)
    _assert_one_line_error(code, err, "crafted.vqc")
    assert not (tmp_path / "out.wav").exists()


# ---------------------------------------------------------------- threads


@pytest.mark.parametrize("command", ["compress", "decompress", "tokens", "train", "eval", "inspect", "probe"])
def test_every_computing_command_takes_threads(command: str) -> None:
    parser = cli.build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    assert any("--threads" in a.option_strings for a in sub._actions)


def test_threads_apply_inside_the_command_and_are_restored(
    tmp_path: Path, capsys: pytest.CaptureFixture, tiny_model_file: str, monkeypatch
) -> None:
    import numpy as np
    import torch

    from vqcodec.pipeline import files

    sf.write(tmp_path / "in.wav", np.zeros(1600, np.float32), 16000)
    seen, real = [], files.compress_file
    monkeypatch.setattr(files, "compress_file", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    before = torch.get_num_threads()
    assert cli.main(["compress", "-q", "--threads", "2", "-m", tiny_model_file, str(tmp_path / "in.wav")]) == 0
    assert seen == [2] and torch.get_num_threads() == before
    code, _, err = _run(capsys, "compress", "--threads", "0", tmp_path / "in.wav", "-o", tmp_path / "b.vqc")
    _assert_one_line_error(code, err, "--threads")


def test_default_threads_leave_busy_cores_alone(monkeypatch) -> None:
    from vqcodec import threads

    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    for load, expected in ((0.0, 2), (0.9, 1), (1.6, 1), (7.0, 1)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert threads.default_threads() == expected
    monkeypatch.setattr(threads, "usable_cores", lambda: 16)
    monkeypatch.setattr(os, "getloadavg", lambda: (3.2, 0, 0))
    assert threads.default_threads() == 13


def test_version_names_the_package_and_the_shipped_models_hash(shipped_codec: Codec) -> None:
    from importlib.metadata import version

    done = subprocess.run([sys.executable, "-m", "vqcodec", "--version"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    models = f"{shipped_codec.name} {shipped_codec.hash.hex()} (default), ga24k"  # and the general model's hash
    assert done.stdout.startswith(f"vqcodec {version('vqcodec')} (models {models} ")


def test_nan_bitrate_is_refused_as_not_a_number(capsys: pytest.CaptureFixture) -> None:
    """NaN is below no rung and above none: it once read "nan kbps is below this model's lowest rate"."""
    for command in (["compress", "x.wav"], ["tokens", "x.wav", "-o", "out"]):
        code, _, err = _run(capsys, *command, "--bitrate", "nan")
        _assert_one_line_error(code, err, "--bitrate must be a number of kbps, not nan")


def test_train_with_zero_steps_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """0 steps once exited 0 with no model and no message."""
    argv = ["train", "recipe.json", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--steps", "0"]
    code, _, err = _run(capsys, *argv)
    _assert_one_line_error(code, err, "--steps must be at least 1, not 0")
    assert not (tmp_path / "run").exists()
