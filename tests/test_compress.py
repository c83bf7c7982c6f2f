"""Tests for vqcodec.compress: codes <-> bytes, file twins, and the real bitrate of .vqc files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import TINY, TOP_RUNG, speech_like

from vqcodec.codec import Codec
from vqcodec.compress import (
    compress,
    compress_file,
    decompress,
    decompress_file,
    from_bytes,
    read_codes,
    to_bytes,
)
from vqcodec.errors import UserError


def _noise(channels: int, length: int, seed: int = 0) -> np.ndarray:
    """[C, T] float32 noise in [-0.5, 0.5)."""
    return (np.random.default_rng(seed).random((channels, length)) - 0.5).astype(np.float32)


def _real_kbps(data: bytes, seconds: float) -> float:
    return len(data) * 8 / seconds / 1000


# ---------------------------------------------------------------- bytes


@pytest.mark.parametrize(
    ("channels", "length", "rate", "kbps"), [(1, 1, 16000, TOP_RUNG), (2, 999, 44100, 6.4), (3, 4321, 8000, 9.6)]
)
def test_bytes_round_trip(tiny_codec: Codec, channels: int, length: int, rate: int, kbps: float) -> None:
    codes = tiny_codec.encode(_noise(channels, length), rate, kbps)
    data = to_bytes(codes, tiny_codec)
    assert from_bytes(data) == codes
    assert data[:3] == b"VQC"


def test_random_codes_round_trip(tiny_codec: Codec) -> None:
    """Every code value of the 4-bit tiny codebooks survives packing."""
    g = torch.Generator().manual_seed(0)
    top = torch.randint(0, TINY.codebook_size, (2, TINY.n_top, 9), generator=g)
    bottom = torch.randint(0, TINY.codebook_size, (2, TINY.n_bottom, 18), generator=g)
    template = tiny_codec.encode(_noise(2, 300), 12345, TOP_RUNG)
    codes = dataclasses.replace(template, top=top, bottom=bottom)
    assert from_bytes(to_bytes(codes, tiny_codec)) == codes


def test_compress_decompress_bytes(tiny_codec: Codec) -> None:
    x = _noise(2, 1111)
    data = compress(tiny_codec, x, 22050, TOP_RUNG)
    assert data == compress(tiny_codec, x, 22050, TOP_RUNG)  # deterministic
    y, rate = decompress(tiny_codec, data)
    assert rate == 22050 and y.shape == (2, 1111)
    assert torch.equal(y, tiny_codec.decode(from_bytes(data)))


# ---------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("rate", "channels", "length", "ext"),
    [(22050, 2, 12345, ".wav"), (8000, 1, 1, ".wav"), (44100, 3, 777, ".flac"), (16000, 1, 4000, ".flac")],
)
def test_file_round_trip_restores_rate_channels_length(
    tiny_codec: Codec, tmp_path: Path, rate: int, channels: int, length: int, ext: str
) -> None:
    src, vqc, dst = tmp_path / "in.wav", tmp_path / "in.vqc", tmp_path / f"out{ext}"
    x = _noise(channels, length, seed=length)
    sf.write(src, x.T, rate, subtype="PCM_16")
    codes = compress_file(tiny_codec, src, vqc, TOP_RUNG)
    assert read_codes(vqc) == codes
    # The streaming file path gives the same codes as coding the decoded samples in memory.
    data, _ = sf.read(src, dtype="float32", always_2d=True)
    assert codes == tiny_codec.encode(data.T, rate, TOP_RUNG)

    assert decompress_file(tiny_codec, vqc, dst) == codes
    info = sf.info(dst)
    assert (info.samplerate, info.channels, info.frames) == (rate, channels, length)
    y, _ = sf.read(dst, dtype="float32", always_2d=True)
    expected = tiny_codec.decode(codes).numpy().T
    np.testing.assert_allclose(y, expected, atol=1.5 / 32768)  # 16-bit quantisation only
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.wav", "in.vqc", f"out{ext}"])  # no temps


def test_decompress_file_refuses_other_model(tiny_codec: Codec, make_codec, tmp_path: Path) -> None:
    src, vqc, dst = tmp_path / "in.wav", tmp_path / "in.vqc", tmp_path / "out.wav"
    sf.write(src, _noise(1, 500).T, 16000)
    compress_file(tiny_codec, src, vqc, TOP_RUNG)
    with pytest.raises(UserError, match="model"):
        decompress_file(make_codec(seed=3), vqc, dst)
    assert not dst.exists()


def test_read_codes_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        read_codes(tmp_path / "missing.vqc")
    with pytest.raises(UserError, match="not a file"):
        read_codes(tmp_path)
    (tmp_path / "junk.vqc").write_bytes(b"hello world, not a vqc")
    with pytest.raises(UserError, match="junk.vqc"):
        read_codes(tmp_path / "junk.vqc")


def test_compress_file_errors(tiny_codec: Codec, tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("not audio at all\n")
    for src in (tmp_path / "missing.wav", tmp_path, tmp_path / "notes.wav"):
        with pytest.raises(UserError):
            compress_file(tiny_codec, src, tmp_path / "out.vqc", TOP_RUNG)
    assert not (tmp_path / "out.vqc").exists()


def test_decompress_unsupported_output_format(tiny_codec: Codec, tmp_path: Path) -> None:
    src, vqc = tmp_path / "in.wav", tmp_path / "in.vqc"
    sf.write(src, _noise(1, 300).T, 16000)
    compress_file(tiny_codec, src, vqc, TOP_RUNG)
    with pytest.raises(UserError, match="format"):
        decompress_file(tiny_codec, vqc, tmp_path / "out.mp3")
    assert not (tmp_path / "out.mp3").exists()


# ---------------------------------------------------------------- real bitrate


@pytest.mark.parametrize(("channels", "rate"), [(1, 16000), (2, 16000), (1, 22050)])
def test_real_bitrate_tiny_codec(make_codec, channels: int, rate: int) -> None:
    codec = make_codec(chunk_frames=1000)
    top = codec.ladder()[-1]
    assert top.kbps == 12.8  # (2 * 400 + 3 * 800) frames/s * 4 bits
    seconds = 10.0
    data = compress(codec, _noise(channels, int(seconds * rate)), rate, top.kbps)
    real = _real_kbps(data, seconds)
    assert real >= top.kbps * channels  # the payload alone is the nominal rate
    assert real == pytest.approx(top.kbps * channels, rel=0.03)


@pytest.fixture(scope="module")
def shipped_speech_codes(shipped_codec: Codec):
    """10 s of synthetic speech at 16 kHz coded once by the shipped model at its top rung."""
    x = speech_like(10.0, 16000)
    return x, shipped_codec.encode(x, 16000, shipped_codec.ladder()[-1].kbps)


def test_real_bitrate_shipped_model_every_rung(shipped_codec: Codec, shipped_speech_codes) -> None:
    """Bytes of the .vqc file * 8 / duration, header and checksum included, within 3 % of each rung."""
    x, codes = shipped_speech_codes
    ladder = shipped_codec.ladder()
    assert len(ladder) == shipped_codec.config.n_bottom
    for rung in ladder:
        sliced = dataclasses.replace(codes, top=codes.top[:, : rung.n_top], bottom=codes.bottom[:, : rung.n_bottom])
        real = _real_kbps(to_bytes(sliced, shipped_codec, entropy_coding=False), codes.duration)
        assert real == pytest.approx(rung.kbps, rel=0.03), f"{rung}: real {real:.4f} kbps"
    # Slicing is what compress() does at a lower rung (the tightest one, where the header weighs most).
    lowest = ladder[0]
    data = compress(shipped_codec, x, 16000, lowest.kbps, entropy_coding=False)
    low = dataclasses.replace(codes, top=codes.top[:, : lowest.n_top], bottom=codes.bottom[:, :1])
    assert data == to_bytes(low, shipped_codec, entropy_coding=False)
    assert compress(shipped_codec, x, 16000, lowest.kbps) == to_bytes(low, shipped_codec)


def test_containers_hold_the_levels_the_model_declares(tiny_codec: Codec) -> None:
    """Codes, containers and the codec iterate over the model's declared levels; a stream with another
    number of levels is refused naming them."""
    from vqcodec.codes import Codes
    from vqcodec.compress import codes_from_container, codes_to_container
    from vqcodec.io.container import ContainerError, Level

    assert Codes.LEVELS == TINY.LEVELS == ("top", "bottom") and len(TINY.codebooks) == len(TINY.level_hops) == 2
    codes = tiny_codec.encode(speech_like(16000, 0.3), 16000, TOP_RUNG)
    c = codes_to_container(codes, TINY.bits)
    assert [lv.codes.shape for lv in c.levels] == [tuple(lv.shape) for lv in codes.levels]
    three = dataclasses.replace(c, levels=(*c.levels, Level(c.levels[-1].codes, TINY.bits)))
    four = dataclasses.replace(three, levels=(*three.levels, Level(c.levels[-1].codes, TINY.bits)))
    with pytest.raises(ContainerError, match=r"expected 2 levels \(top, bottom\), and a pitch stream or none, found 4"):
        codes_from_container(four)
