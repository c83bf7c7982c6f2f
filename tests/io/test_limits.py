"""Hostile headers: every resource a .vqc stream or an audio file asks for is bounded before it is spent.

The crafted files run through the CLI in a child process whose address space is capped (RLIMIT_AS), so a
regression that allocates gigabytes fails here instead of taking the machine down; each refusal must be
one line, quick, and leave no output behind.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import TINY, run_cli_capped

from vqcodec.codes import Codes
from vqcodec.compress import codes_to_container
from vqcodec.io import container, limits
from vqcodec.io.weights import load_model, weights_hash

SECONDS_PER_CASE = 20.0


def _run_capped(cases: list[list[str]]) -> list[dict]:
    return run_cli_capped(cases, seconds_per_case=SECONDS_PER_CASE)


def _refused(result: dict, *words: str) -> None:
    assert result["code"] > 0, result
    lines = result["err"].splitlines()
    assert len(lines) == 1 and lines[0].startswith("vqcodec: ") and "Traceback" not in result["err"], result
    for w in words:
        assert w in lines[0], result
    assert result["seconds"] < SECONDS_PER_CASE, result


def _stream(
    model_file: str,
    folder: Path,
    name: str,
    sample_rate: int,
    num_samples: int,
    frames: int | None = None,
    channels: int = 1,
) -> Path:
    """A well-formed .vqc (valid checksum) of the tiny model claiming this rate and length; its frames are
    those the length needs (``frames`` overrides them)."""
    hop, ratio = TINY.top_hop, TINY.top_hop // TINY.hop
    if frames is None:
        model_rate = -(-num_samples * TINY.sample_rate // sample_rate)  # ceil
        frames = -(-model_rate // hop)
    top = torch.zeros(channels, TINY.n_top, frames, dtype=torch.int64)
    bottom = torch.ones(channels, TINY.n_bottom, frames * ratio, dtype=torch.int64)
    codes = Codes(top, bottom, sample_rate, num_samples, TINY.name, weights_hash(load_model(model_file)))
    path = folder / name
    path.write_bytes(container.write(codes_to_container(codes, TINY.bits)))
    return path


def test_crafted_streams_are_refused_in_one_line_in_bounded_memory(tmp_path: Path, tiny_model_file: str) -> None:
    m = tiny_model_file
    crafted = {  # name: (stream, words the refusal must hold)
        "16mhz": (_stream(m, tmp_path, "16mhz.vqc", 16_000_000, 40 * 1000 * 25), "16000000 Hz"),
        "1.6ghz": (_stream(m, tmp_path, "1.6ghz.vqc", 1_600_000_000, 40 * 100_000 * 25), "1600000000 Hz"),
        "1.6e13": (_stream(m, tmp_path, "1.6e13.vqc", 16 * 10**12, 40 * 10**9 * 25), "16000000000000 Hz"),
        "1mhz-prime": (_stream(m, tmp_path, "prime.vqc", 1_000_003, 3 * 1_000_003), "1000003 Hz"),
        "frames": (_stream(m, tmp_path, "frames.vqc", 16000, 16000, frames=5), "top frames"),
        "empty": (_stream(m, tmp_path, "empty.vqc", 16000, 0, frames=1), "holds no"),
    }
    cases = []
    for stream, _ in crafted.values():
        cases.append(["decompress", "-m", m, str(stream), "-o", str(tmp_path / "out.wav")])
        cases.append(["info", "-m", m, str(stream)])
    results = _run_capped(cases)
    for i, (stream, words) in enumerate(crafted.values()):
        _refused(results[2 * i], stream.name, words)
        _refused(results[2 * i + 1], stream.name, words)
    assert not (tmp_path / "out.wav").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_valid_stream_at_a_prime_rate_decodes_in_bounded_memory(tmp_path: Path, tiny_model_file: str) -> None:
    """48271 Hz is coprime with 16 kHz: the old resampler asked for 3 GB to restore 3 s of it."""
    stream = _stream(tiny_model_file, tmp_path, "prime.vqc", 48271, 3 * 48271)
    out = tmp_path / "out.wav"
    [decoded, facts] = _run_capped(
        [
            ["decompress", "-m", tiny_model_file, str(stream), "-o", str(out)],
            ["info", "-m", tiny_model_file, str(stream)],
        ]
    )
    assert decoded["code"] == 0 and decoded["seconds"] < SECONDS_PER_CASE, decoded
    assert facts["code"] == 0, facts
    info = sf.info(str(out))
    assert (info.samplerate, info.frames) == (48271, 3 * 48271)


def _wav_claiming(path: Path, sample_rate: int, seconds: float = 0.1) -> Path:
    """A 16-bit mono WAV whose header claims ``sample_rate`` (its samples are a 0.1 s tone)."""
    sf.write(path, (0.1 * np.sin(np.arange(int(16000 * seconds)) / 5)).astype(np.float32), 16000)
    data = bytearray(path.read_bytes())
    data[24:28] = sample_rate.to_bytes(4, "little")  # fmt chunk: sample rate, then byte rate
    data[28:32] = (2 * sample_rate).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def test_crafted_audio_headers_are_refused_before_coding(tmp_path: Path, tiny_model_file: str) -> None:
    huge = _wav_claiming(tmp_path / "2ghz.wav", 2_000_000_000)
    coprime = tmp_path / "coprime.wav"
    sf.write(coprime, (0.1 * np.random.default_rng(0).standard_normal(3 * 22051)).astype(np.float32), 22051)
    many = tmp_path / "many.wav"
    sf.write(many, np.zeros((100, 256), np.float32), 16000, format="WAV", subtype="FLOAT")
    [big, fine, channels] = _run_capped(
        [
            ["compress", "-m", tiny_model_file, str(huge)],
            ["compress", "-m", tiny_model_file, str(coprime)],
            ["compress", "-m", tiny_model_file, str(many)],
        ]
    )
    _refused(big, "2ghz.wav", "2000000000 Hz")
    assert fine["code"] == 0 and fine["seconds"] < 5, fine  # 22051 Hz took 16 s and 6.5 GB before
    _refused(channels, "many.wav", "256 channels")
    assert channels["seconds"] < 5
    assert sorted(p.name for p in tmp_path.glob("*.vqc")) == ["coprime.vqc"]


@pytest.mark.parametrize(
    ("rate", "channels", "samples", "words"),
    [
        (0, 1, 10, "sample rate 0 Hz"),
        (384_001, 1, 10, "384 kHz"),
        (16000, 0, 10, "0 channels"),
        (16000, 256, 10, "256 channels"),
        (16000, 1, 0, "no samples"),
        (16000, 1, 24 * 3600 * 16000 + 1, "24 hours"),
    ],
)
def test_limits_refuse(rate: int, channels: int, samples: int, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        limits.check_audio(rate, channels, samples)


def test_limits_accept_the_extremes() -> None:
    for rate in (limits.MIN_SAMPLE_RATE, limits.MAX_SAMPLE_RATE):
        limits.check_audio(rate, limits.MAX_CHANNELS, limits.MAX_SECONDS * rate)


def test_decoding_writes_at_most_24_samples_per_described_sample(tiny_codec) -> None:
    """At the highest supported rate a stream's output is bounded by what its frames describe."""
    x = np.zeros(limits.MAX_SAMPLE_RATE // 10, np.float32)
    codes = tiny_codec.encode(x, limits.MAX_SAMPLE_RATE)
    described = codes.top.shape[-1] * TINY.top_hop  # model-rate samples
    assert tiny_codec.decode(codes).shape[-1] <= described * limits.MAX_SAMPLE_RATE // TINY.sample_rate
    with pytest.raises(ValueError, match="top frames"):  # more samples than the frames can describe
        tiny_codec.decode(dataclasses.replace(codes, num_samples=codes.num_samples * 2))
