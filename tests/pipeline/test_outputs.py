"""Audio outputs on both runtimes: an .ogg above 200 kHz is refused before decoding (libvorbis crashes the
process there), a WAV larger than its disk's free space is refused before decoding, and a write that fails
anyway (a full disk) is one line naming the output, with no file left behind."""

from __future__ import annotations

import shutil

import pytest
import soundfile as sf
from conftest import run_cli_capped, speech_like

from vqcodec import cli

RUNTIMES = ("onnx", "torch")


@pytest.fixture(scope="module")
def model_files(tiny_onnx) -> dict[str, str]:
    """The same tiny model for each runtime: its exported manifest and its weights."""
    manifest = tiny_onnx["istft"]
    weights = manifest.with_name(manifest.name.removesuffix(".onnx.json") + ".safetensors")
    return {"onnx": str(manifest), "torch": str(weights)}


def _vqc(tmp_path, model: str, rate: int, seconds: float) -> str:
    wav, vqc = tmp_path / "in.wav", tmp_path / "in.vqc"
    sf.write(wav, speech_like(seconds, rate, seed=9), rate)
    assert cli.main(["compress", str(wav), "-o", str(vqc), "-m", model, "-q"]) == 0
    return str(vqc)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_ogg_above_200_khz_is_refused_before_decoding(tmp_path, model_files, runtime) -> None:
    vqc = _vqc(tmp_path, model_files[runtime], 256_000, 0.05)
    out = tmp_path / "out"
    out.mkdir()
    (r,) = run_cli_capped([["decompress", vqc, "-o", out / "x.ogg", "-m", model_files[runtime]]])
    assert r["code"] == 1 and r["err"].count("\n") == 1, r
    assert "OGG Vorbis cannot hold 256000 Hz" in r["err"] and "x.ogg" in r["err"], r
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_full_disk_is_one_line_naming_the_output(tmp_path, model_files, runtime) -> None:
    """The file size limit makes write() fail as a full disk does, for WAV and FLAC alike."""
    vqc = _vqc(tmp_path, model_files[runtime], 16000, 2.0)
    out = tmp_path / "out"
    out.mkdir()
    cases = [["decompress", vqc, "-o", out / f"big.{ext}", "-m", model_files[runtime]] for ext in ("wav", "flac")]
    for r, ext in zip(run_cli_capped(cases, file_size=1000), ("wav", "flac"), strict=True):
        assert r["code"] == 1 and r["err"].count("\n") == 1, r
        assert f"big.{ext}: could not write the audio" in r["err"] and "disk full" in r["err"], r
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_too_little_free_space_is_refused_before_decoding(tmp_path, model_files, monkeypatch, capsys, runtime) -> None:
    vqc = _vqc(tmp_path, model_files[runtime], 16000, 0.5)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 100, 100))
    monkeypatch.setattr("vqcodec.pipeline.coder.Coder.decode_blocks", lambda self, c: pytest.fail("decoding started"))
    assert cli.main(["decompress", vqc, "-o", str(tmp_path / "o.wav"), "-m", model_files[runtime]]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "o.wav: needs" in err and "free on its disk" in err
    assert not (tmp_path / "o.wav").exists()
