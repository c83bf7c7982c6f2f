"""Nothing written outside the outputs, nothing sent: compress, decompress and info, on both runtimes, with
an empty temporary HOME leave it empty and open no socket (onnxruntime's telemetry is switched off by the
package, not by the user's environment); inspect's plots leave HOME empty too (matplotlib's folders)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from conftest import speech_like

# Runs the commands in one process after an audit hook that fails on any socket made from Python.
_SCRIPT = """
import sys

NETWORK = {"socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}

def refuse(event, args):
    if event in NETWORK:
        print(f"network: {event} {args!r}", file=sys.stderr, flush=True)
        import os; os._exit(99)

sys.addaudithook(refuse)
from vqcodec.cli import main
for argv in RUNS:
    code = main(argv)
    if code:
        sys.exit(code)
"""


def _runs(tmp: Path) -> list[list[str]]:
    wav, vqc = str(tmp / "a.wav"), str(tmp / "a.vqc")
    sf.write(wav, speech_like(0.5, 16000, seed=3), 16000)
    runs = []
    for runtime in ("onnx", "torch"):
        runs += [
            ["compress", wav, "-o", vqc, "--force", "-q", "--runtime", runtime],
            ["decompress", vqc, "-o", str(tmp / f"{runtime}.wav"), "--force", "-q", "--runtime", runtime],
        ]
    return runs + [["info", vqc]]


def _env(home: Path) -> dict[str, str]:
    """The environment with HOME an empty folder, and none of the user's XDG folders, telemetry switch or
    matplotlib folder."""
    mine = ("ORT_DISABLE_TELEMETRY", "MPLCONFIGDIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_") and k not in mine}
    return env | {"HOME": str(home)}


def _run(tmp: Path, prefix: list[str] = ()) -> subprocess.CompletedProcess:
    home = tmp / "home"
    home.mkdir()
    argv = [*prefix, sys.executable, "-c", _SCRIPT.replace("RUNS", repr(_runs(tmp)))]
    return subprocess.run(argv, env=_env(home), cwd=tmp, capture_output=True, text=True, timeout=300)


def test_commands_write_nothing_under_home_and_open_no_python_socket(tmp_path) -> None:
    r = _run(tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "onnx.wav").is_file() and (tmp_path / "torch.wav").is_file()
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "home").rglob("*")) == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_commands_make_no_socket_at_all(tmp_path) -> None:
    """strace sees the sockets native code makes too (a name lookup opens one to nscd before any DNS)."""
    log = tmp_path / "trace.log"
    r = _run(tmp_path, ["strace", "-f", "-qq", "-e", "trace=socket", "-o", str(log)])
    if r.returncode != 0 and "ptrace" in r.stderr:
        pytest.skip("ptrace is not permitted here")
    assert r.returncode == 0, r.stderr[-2000:]
    sockets = [line for line in log.read_text().splitlines() if "socket(" in line]
    assert sockets == []
    assert list((tmp_path / "home").iterdir()) == []


def test_importing_the_package_switches_onnxruntime_telemetry_off(tmp_path) -> None:
    code = "import os, vqcodec; print(os.environ['ORT_DISABLE_TELEMETRY'])"
    r = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True)
    assert r.stdout.strip() == "1", r.stderr


def test_inspect_plots_without_writing_under_home(tmp_path, tiny_model_file) -> None:
    """matplotlib writes ~/.config/matplotlib and a font list under ~/.cache unless told otherwise."""
    pytest.importorskip("matplotlib")
    home = tmp_path / "home"
    home.mkdir()
    sf.write(tmp_path / "a.wav", speech_like(0.5, 16000, seed=4), 16000)
    argv = ["inspect", str(tmp_path / "a.wav"), "-o", str(tmp_path / "report"), "-m", tiny_model_file]
    code = f"import sys; from vqcodec.cli import main; sys.exit(main({argv!r}))"
    r = subprocess.run([sys.executable, "-c", code], env=_env(home), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "report" / "tokens.png").is_file()
    assert list(home.iterdir()) == []
