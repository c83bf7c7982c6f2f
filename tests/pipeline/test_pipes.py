"""Pipes (``-``) at their edges: a closed stdin or stdout, or a terminal as stdout, is one line and exit 1
before any work; ``info -`` reads stdin; a stdin that is not audio is named as stdin, not as Python's
in-memory buffer. On onnxruntime: these checks are the pipeline's, before any backend loads (a pipe round trip
runs on both backends in test_commands.py)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest
import soundfile as sf
from conftest import speech_like

_MAIN = "import sys; from vqcodec.cli import main; sys.exit(main(sys.argv[1:]))"


def _run(argv: list[str], close: int | None = None, **kwargs) -> subprocess.CompletedProcess:
    """``vqcodec ARGV`` in a child process, with file descriptor ``close`` closed (Python then has no
    ``sys.stdin`` or ``sys.stdout``)."""
    preexec = (lambda: os.close(close)) if close is not None else None
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE} | kwargs
    return subprocess.run([sys.executable, "-c", _MAIN, *argv], preexec_fn=preexec, timeout=120, **streams)


@pytest.fixture(scope="module")
def files(tmp_path_factory, tiny_onnx) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pipes")
    wav, vqc, model = folder / "a.wav", folder / "a.vqc", str(tiny_onnx["istft"])
    sf.write(wav, speech_like(0.3, 16000, seed=11), 16000)
    assert _run(["compress", str(wav), "-o", str(vqc), "-m", model, "-q"]).returncode == 0
    return {"wav": str(wav), "vqc": str(vqc), "model": model}


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_a_closed_stdout_is_one_line(files, command) -> None:
    source = files["wav" if command == "compress" else "vqc"]
    with open(source, "rb") as stdin:
        r = _run([command, "-", "-m", files["model"]], close=1, stdin=stdin)
    assert r.returncode == 1 and r.stderr.decode() == "vqcodec: stdout is closed: give an output file with -o\n"


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_a_closed_stdin_is_one_line(files, tmp_path, command) -> None:
    r = _run([command, "-", "-o", str(tmp_path / "out"), "-m", files["model"]], close=0)
    assert r.returncode == 1 and r.stderr.decode() == "vqcodec: stdin is closed: give an input file, or pipe one in\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_a_terminal_as_stdout_is_refused(files, command) -> None:
    source = files["wav" if command == "compress" else "vqc"]
    leader, terminal = pty.openpty()
    try:
        with open(source, "rb") as stdin:
            r = _run([command, "-", "-m", files["model"]], stdin=stdin, stdout=terminal)
    finally:
        os.close(leader), os.close(terminal)
    assert r.returncode == 1 and "stdout is a terminal" in r.stderr.decode() and r.stderr.count(b"\n") == 1


def test_info_reads_stdin(files) -> None:
    with open(files["vqc"], "rb") as stdin:
        r = _run(["info", "-", "--json", "-m", files["model"]], stdin=stdin)
    assert r.returncode == 0, r.stderr.decode()
    facts = json.loads(r.stdout)
    assert facts["file"] == "-" and facts["bytes"] == os.path.getsize(files["vqc"])


def test_stdin_that_is_not_audio_is_named_stdin(files) -> None:
    r = _run(["compress", "-", "-m", files["model"]], input=b"not audio at all")
    err = r.stderr.decode()
    assert r.returncode == 1 and err.startswith("vqcodec: stdin: not a readable audio file") and "BytesIO" not in err
    assert r.stdout == b""
