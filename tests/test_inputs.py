"""Every kind of input a user may hand the CLI: it works as documented or fails in one line."""

from __future__ import annotations

import errno

import numpy as np
import pytest
import soundfile as sf

from vqcodec.cli import main


def _signal(sr: int, channels: int, seconds: float = 0.3) -> np.ndarray:
    """[T, C] float32 tones, a different pitch per channel."""
    t = np.arange(int(sr * seconds)) / sr
    return np.stack([0.3 * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)], 1).astype(np.float32)


def _roundtrip(tmp_path, tiny_model_file: str, name: str) -> np.ndarray:
    src = tmp_path / name
    assert main(["compress", "-q", "-m", tiny_model_file, str(src), "-o", str(tmp_path / "a.vqc")]) == 0
    vqc, out = str(tmp_path / "a.vqc"), str(tmp_path / "b.wav")
    assert main(["decompress", "-q", "-m", tiny_model_file, vqc, "-o", out]) == 0
    out, sr = sf.read(tmp_path / "b.wav", always_2d=True)
    ref = sf.info(str(src))
    assert (sr, out.shape) == (ref.samplerate, (ref.frames, ref.channels))
    return out


@pytest.mark.parametrize("sr", [8000, 11025, 22050, 44100, 96000, 192000])
def test_sample_rates(tmp_path, tiny_model_file, sr):
    sf.write(tmp_path / "in.wav", _signal(sr, 1), sr)
    _roundtrip(tmp_path, tiny_model_file, "in.wav")


@pytest.mark.parametrize("channels", [1, 2, 3, 6, 8])
def test_channel_counts(tmp_path, tiny_model_file, channels):
    sf.write(tmp_path / "in.wav", _signal(16000, channels), 16000)
    _roundtrip(tmp_path, tiny_model_file, "in.wav")


@pytest.mark.parametrize("name,subtype", [("in.wav", "PCM_16"), ("in.wav", "PCM_24"), ("in.wav", "FLOAT"),
                                          ("in.flac", "PCM_16"), ("in.flac", "PCM_24"), ("in.ogg", "VORBIS")])
def test_formats(tmp_path, tiny_model_file, name, subtype):
    sf.write(tmp_path / name, _signal(16000, 2), 16000, subtype=subtype)
    _roundtrip(tmp_path, tiny_model_file, name)


def test_full_scale_clipping(tmp_path, tiny_model_file):
    sf.write(tmp_path / "in.wav", np.sign(_signal(16000, 1)), 16000, subtype="FLOAT")
    out = _roundtrip(tmp_path, tiny_model_file, "in.wav")
    assert np.abs(out).max() <= 1.0


def _fails(capsys, argv: list[str], *words: str) -> str:
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    for w in words:
        assert w in err
    return err


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_non_finite_samples(tmp_path, tiny_model_file, capsys, bad):
    x = _signal(16000, 1)
    x[100] = float(bad)
    sf.write(tmp_path / "in.wav", x, 16000, subtype="FLOAT")
    _fails(capsys, ["compress", "-m", tiny_model_file, str(tmp_path / "in.wav")], "in.wav", "NaN or infinite")
    assert not (tmp_path / "in.vqc").exists()


def test_empty_and_zero_length(tmp_path, tiny_model_file, capsys):
    (tmp_path / "empty.wav").write_bytes(b"")
    _fails(capsys, ["compress", "-m", tiny_model_file, str(tmp_path / "empty.wav")], "empty.wav")
    sf.write(tmp_path / "zero.wav", np.zeros((0, 1), np.float32), 16000)
    _fails(capsys, ["compress", "-m", tiny_model_file, str(tmp_path / "zero.wav")], "zero.wav", "no samples")
    assert not list(tmp_path.glob("*.vqc"))


def test_not_audio_and_unsupported(tmp_path, tiny_model_file, capsys):
    (tmp_path / "notes.txt").write_text("hello\n" * 100)
    _fails(capsys, ["compress", "-m", tiny_model_file, str(tmp_path / "notes.txt")], "notes.txt")
    sf.write(tmp_path / "in.wav", _signal(16000, 1), 16000)
    main(["compress", "-q", "-m", tiny_model_file, str(tmp_path / "in.wav")])
    _fails(capsys, ["decompress", "-m", tiny_model_file, str(tmp_path / "in.vqc"), "-o", str(tmp_path / "out.mp4")],
           "unsupported output format")
    assert not (tmp_path / "out.mp4").exists()


def test_missing_output_folder(tmp_path, tiny_model_file, capsys):
    sf.write(tmp_path / "in.wav", _signal(16000, 1), 16000)
    _fails(capsys, ["compress", "-m", tiny_model_file, str(tmp_path / "in.wav"), "-o", str(tmp_path / "no/x.vqc")])


def test_disk_full_leaves_nothing(tmp_path, tiny_model_file, capsys, monkeypatch):
    """A write that fails half-way (ENOSPC) leaves neither a partial nor a damaged file."""
    sf.write(tmp_path / "in.wav", _signal(16000, 1), 16000)
    main(["compress", "-q", "-m", tiny_model_file, str(tmp_path / "in.wav")])
    (tmp_path / "out.wav").write_bytes(b"precious")

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sf.SoundFile, "write", full)
    argv = ["decompress", "-f", "-m", tiny_model_file, str(tmp_path / "in.vqc"), "-o", str(tmp_path / "out.wav")]
    _fails(capsys, argv, "No space left")
    assert (tmp_path / "out.wav").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.vqc", "in.wav", "out.wav"]
