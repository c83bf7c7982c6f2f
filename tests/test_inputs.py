"""Every kind of input a user may hand the CLI: it works as documented or fails in one line, on both backends
(the ``model`` fixture: the tiny model's weights on torch, its export on onnxruntime)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import soundfile as sf
from conftest import run_cli_capped

from vqcodec.cli import main


@pytest.fixture(params=["torch", "onnx"])
def model(request, tiny_model_file, tiny_onnx) -> str:
    """The tiny model on each backend: its weights (torch) or its export of the same weights (onnxruntime)."""
    return tiny_model_file if request.param == "torch" else str(tiny_onnx["istft"])


def _signal(sr: int, channels: int, seconds: float = 0.3) -> np.ndarray:
    """[T, C] float32 tones, a different pitch per channel."""
    t = np.arange(int(sr * seconds)) / sr
    return np.stack([0.3 * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)], 1).astype(np.float32)


def _roundtrip(tmp_path, model: str, name: str) -> np.ndarray:
    src = tmp_path / name
    assert main(["compress", "-q", "-m", model, str(src), "-o", str(tmp_path / "a.vqc")]) == 0
    vqc, out = str(tmp_path / "a.vqc"), str(tmp_path / "b.wav")
    assert main(["decompress", "-q", "-m", model, vqc, "-o", out]) == 0
    out, sr = sf.read(tmp_path / "b.wav", always_2d=True)
    ref = sf.info(str(src))
    assert (sr, out.shape) == (ref.samplerate, (ref.frames, ref.channels))
    return out


@pytest.mark.parametrize("sr", [8000, 11025, 22050, 44100, 96000, 192000])
def test_sample_rates(tmp_path, model, sr):
    sf.write(tmp_path / "in.wav", _signal(sr, 1), sr)
    _roundtrip(tmp_path, model, "in.wav")


@pytest.mark.parametrize("channels", [1, 2, 3, 6, 8])
def test_channel_counts(tmp_path, model, channels):
    sf.write(tmp_path / "in.wav", _signal(16000, channels), 16000)
    _roundtrip(tmp_path, model, "in.wav")


@pytest.mark.parametrize(
    "name,subtype",
    [
        ("in.wav", "PCM_16"),
        ("in.wav", "PCM_24"),
        ("in.wav", "FLOAT"),
        ("in.flac", "PCM_16"),
        ("in.flac", "PCM_24"),
        ("in.ogg", "VORBIS"),
    ],
)
def test_formats(tmp_path, model, name, subtype):
    sf.write(tmp_path / name, _signal(16000, 2), 16000, subtype=subtype)
    _roundtrip(tmp_path, model, name)


def test_full_scale_clipping(tmp_path, model):
    sf.write(tmp_path / "in.wav", np.sign(_signal(16000, 1)), 16000, subtype="FLOAT")
    out = _roundtrip(tmp_path, model, "in.wav")
    assert np.abs(out).max() <= 1.0


def _fails(capsys, argv: list[str], *words: str) -> str:
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    for w in words:
        assert w in err
    return err


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_non_finite_samples(tmp_path, model, capsys, bad):
    x = _signal(16000, 1)
    x[100] = float(bad)
    sf.write(tmp_path / "in.wav", x, 16000, subtype="FLOAT")
    _fails(capsys, ["compress", "-m", model, str(tmp_path / "in.wav")], "in.wav", "NaN or infinite")
    assert not (tmp_path / "in.vqc").exists()


def test_empty_and_zero_length(tmp_path, model, capsys):
    (tmp_path / "empty.wav").write_bytes(b"")
    _fails(capsys, ["compress", "-m", model, str(tmp_path / "empty.wav")], "empty.wav")
    sf.write(tmp_path / "zero.wav", np.zeros((0, 1), np.float32), 16000)
    _fails(capsys, ["compress", "-m", model, str(tmp_path / "zero.wav")], "zero.wav", "no samples")
    assert not list(tmp_path.glob("*.vqc"))


def test_not_audio_and_unsupported(tmp_path, model, capsys):
    (tmp_path / "notes.txt").write_text("hello\n" * 100)
    _fails(capsys, ["compress", "-m", model, str(tmp_path / "notes.txt")], "notes.txt")
    sf.write(tmp_path / "in.wav", _signal(16000, 1), 16000)
    main(["compress", "-q", "-m", model, str(tmp_path / "in.wav")])
    _fails(
        capsys,
        ["decompress", "-m", model, str(tmp_path / "in.vqc"), "-o", str(tmp_path / "out.mp4")],
        "unsupported output format",
    )
    assert not (tmp_path / "out.mp4").exists()


def test_missing_output_folder(tmp_path, model, capsys, monkeypatch):
    """Refused before the model loads or anything is coded, naming the folder (not a hidden temporary)."""
    sf.write(tmp_path / "in.wav", _signal(16000, 1), 16000)
    assert main(["compress", "-q", "-m", model, str(tmp_path / "in.wav")]) == 0
    monkeypatch.setattr("vqcodec.backends.load", lambda *a, **k: pytest.fail("the model was loaded"))
    argv = ["compress", "-m", model, str(tmp_path / "in.wav"), "-o", str(tmp_path / "no/x.vqc")]
    err = _fails(capsys, argv, "does not exist", str(tmp_path / "no"))
    assert ".part" not in err
    (tmp_path / "file").write_text("x")
    _fails(capsys, ["compress", str(tmp_path / "in.wav"), "-o", str(tmp_path / "file/x.vqc")], "not a folder")
    _fails(capsys, ["compress", str(tmp_path / "in.wav"), "-o", ""], "empty")
    _fails(capsys, ["decompress", str(tmp_path / "in.vqc"), "-o", " "], "empty")
    _fails(capsys, ["tokens", str(tmp_path / "in.wav"), "-o", ""], "empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "in.vqc", "in.wav"]


def test_too_many_channels_are_refused_before_coding(tmp_path, capsys, monkeypatch):
    sf.write(tmp_path / "in.wav", np.zeros((50, 256), np.float32), 16000, subtype="FLOAT")
    monkeypatch.setattr("vqcodec.backends.load", lambda *a, **k: pytest.fail("the model was loaded"))
    _fails(capsys, ["compress", str(tmp_path / "in.wav")], "in.wav", "256 channels", "at most 255")


def test_fifos_and_devices_are_refused_not_waited_on(tmp_path, model):
    """Opening a FIFO blocks until someone writes to it: the inputs are checked first (in a child process,
    so that a regression hangs only it)."""
    fifo = tmp_path / "in.wav"
    os.mkfifo(fifo)
    os.mkfifo(tmp_path / "in.vqc")
    results = run_cli_capped(
        [
            ["compress", "-m", model, fifo],
            ["decompress", "-m", model, tmp_path / "in.vqc", "-o", tmp_path / "o.wav"],
            ["info", tmp_path / "in.vqc"],
            ["compress", "-m", model, "/dev/zero", "-o", tmp_path / "z.vqc"],
        ],
        seconds_per_case=10,
    )
    for r in results:
        assert r["code"] == 1 and len(r["err"].splitlines()) == 1 and "not a" in r["err"], r
        assert r["seconds"] < 10


def test_longest_legal_output_name(tmp_path, model, capsys):
    """A 255-byte output name works: the temporary name beside it does not grow with it."""
    sf.write(tmp_path / "in.wav", _signal(16000, 1), 16000)
    vqc, wav = tmp_path / ("v" * 251 + ".vqc"), tmp_path / ("w" * 251 + ".wav")
    assert main(["compress", "-q", "-m", model, str(tmp_path / "in.wav"), "-o", str(vqc)]) == 0
    assert main(["decompress", "-q", "-m", model, str(vqc), "-o", str(wav)]) == 0
    assert sf.info(str(wav)).frames == len(_signal(16000, 1))
    _fails(capsys, ["compress", str(tmp_path / "in.wav"), "-o", str(tmp_path / ("x" * 252 + ".vqc"))], "255 bytes")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.wav", vqc.name, wav.name])


def test_disk_full_names_the_output(tmp_path, model):
    """A real short write (the file size limit makes write() fail as a full disk does): one line naming
    the output, not the input, and no temporary file left."""
    sf.write(tmp_path / "in.wav", _signal(16000, 1, seconds=2.0), 16000)
    assert main(["compress", "-q", "-m", model, str(tmp_path / "in.wav")]) == 0
    out = tmp_path / "out"
    out.mkdir()
    results = run_cli_capped(
        [
            ["decompress", "-m", model, tmp_path / "in.vqc", "-o", out / "big.wav"],
            ["compress", "-m", model, tmp_path / "in.wav", "-o", out / "big.vqc"],
        ],
        file_size=1000,
    )
    for r, name in zip(results, ("big.wav", "big.vqc"), strict=True):
        assert r["code"] == 1 and len(r["err"].splitlines()) == 1 and name in r["err"], r
        assert "in.wav" not in r["err"] and "in.vqc" not in r["err"] and "part" not in r["err"], r
    assert "disk full" in results[0]["err"]
    assert list(out.iterdir()) == []


def test_too_little_free_space_is_refused_before_decoding(tmp_path, model, capsys, monkeypatch):
    sf.write(tmp_path / "in.wav", _signal(16000, 1), 16000)
    assert main(["compress", "-q", "-m", model, str(tmp_path / "in.wav")]) == 0
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 100, 100))
    monkeypatch.setattr(
        "vqcodec.pipeline.coder.Coder.decode_blocks", lambda self, codes: pytest.fail("decoding started")
    )
    _fails(
        capsys,
        ["decompress", "-m", model, str(tmp_path / "in.vqc"), "-o", str(tmp_path / "o.wav")],
        "o.wav",
        "free",
    )


_SLOW_DECODE = textwrap.dedent("""
    import sys, time
    from vqcodec.cli import main
    from vqcodec.pipeline.coder import Coder
    decode_blocks = Coder.decode_blocks
    def slow(self, codes):
        for piece in decode_blocks(self, codes):
            time.sleep(0.5)
            yield piece
    Coder.decode_blocks = slow
    sys.exit(main(sys.argv[1:]))
""")


def test_sigterm_removes_the_temporary_file(tmp_path, model):
    sf.write(tmp_path / "in.wav", _signal(16000, 1, seconds=2.0), 16000)
    assert main(["compress", "-q", "-m", model, str(tmp_path / "in.wav")]) == 0
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _SLOW_DECODE,
            "decompress",
            "-m",
            model,
            str(tmp_path / "in.vqc"),
            "-o",
            str(out / "o.wav"),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not list(out.iterdir()) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert [p.name.startswith(".vqcodec-") for p in out.iterdir()] == [True]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and err.strip() == "vqcodec: terminated", err
    assert list(out.iterdir()) == []


def test_disk_full_leaves_nothing(tmp_path, model, capsys, monkeypatch):
    """A write that fails half-way (ENOSPC) leaves neither a partial nor a damaged file."""
    sf.write(tmp_path / "in.wav", _signal(16000, 1), 16000)
    main(["compress", "-q", "-m", model, str(tmp_path / "in.wav")])
    (tmp_path / "out.wav").write_bytes(b"precious")

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sf.SoundFile, "write", full)
    argv = ["decompress", "-f", "-m", model, str(tmp_path / "in.vqc"), "-o", str(tmp_path / "out.wav")]
    _fails(capsys, argv, "No space left")
    assert (tmp_path / "out.wav").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.vqc", "in.wav", "out.wav"]
