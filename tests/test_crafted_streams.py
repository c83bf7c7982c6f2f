"""Crafted entropy-coded streams behind a valid checksum (the golden file's payload cut, replaced, padded,
flipped, or under a header claiming more frames) are refused in one line by the container, by ``info``, by
``decompress`` on both runtimes and from stdin; in a folder such a file fails alone and is counted."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli_capped

from vqcodec import entropy
from vqcodec.io import container as vqc

GOLDEN = Path(__file__).parent / "golden" / "speech.entropy.vqc"
CUT = "runs out before its last code"
# crafted case -> what its one line must say
EXPECTED = {
    "cut_half": CUT,
    "cut_one_word": CUT,
    "random": CUT + "|damaged",
    "twice_the_frames": CUT,
    "100x_the_frames": CUT,
    "trailing_word": "has 4 bytes after its last code",
    "flip_first_bit": CUT + "|damaged",
    "flip_middle_bit": CUT + "|damaged",
    "flip_last_bit": CUT + "|damaged",
}


def _seal(data: bytes) -> bytes:
    return data + zlib.crc32(data).to_bytes(4, "big")


def _with_frames(head: bytes, times: int) -> bytes:
    """The header ``head`` (prefix and body) claiming ``times`` as many frames and samples."""
    h = vqc._parse_header(head[5:], entropy=True)
    specs = tuple(dataclasses.replace(s, frames=s.frames * times) for s in h.specs)
    body = vqc._encode_header(dataclasses.replace(h, specs=specs, num_samples=h.num_samples * times))
    return head[:3] + bytes([vqc.ENTROPY_VERSION, len(body)]) + body


def _flip(payload: bytes, bit: int) -> bytes:
    out = bytearray(payload)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def crafted() -> dict[str, bytes]:
    """Each crafted case of the golden entropy-coded file, its checksum made valid again."""
    data = GOLDEN.read_bytes()
    end = 5 + data[4]
    head, payload = data[:end], data[end:-4]
    bits = 8 * len(payload)
    cases = {
        "cut_half": head + payload[: len(payload) // 8 * 4],
        "cut_one_word": head + payload[:-4],
        "random": head + np.random.default_rng(0).bytes(len(payload)),
        "twice_the_frames": _with_frames(head, 2) + payload,
        "100x_the_frames": _with_frames(head, 100) + payload,
        "trailing_word": head + payload + b"\x00\x00\x00\x00",
        "flip_first_bit": head + _flip(payload, 0),
        "flip_middle_bit": head + _flip(payload, bits // 2 + 3),
        "flip_last_bit": head + _flip(payload, bits - 1),
    }
    assert set(cases) == set(EXPECTED)
    return {name: _seal(d) for name, d in cases.items()}


@pytest.fixture(scope="module")
def crafted_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crafted")
    for name, data in crafted().items():
        (folder / f"{name}.vqc").write_bytes(data)
    return folder


def test_the_golden_stream_reads_and_every_crafted_one_is_refused_by_the_container() -> None:
    vqc.read(GOLDEN.read_bytes(), entropy.coders())
    for name, data in crafted().items():
        with pytest.raises(vqc.ContainerError, match=EXPECTED[name]) as e:
            vqc.read(data, entropy.coders())
        assert "\n" not in str(e.value), name


def test_a_sample_of_flipped_bits_with_a_valid_checksum_is_refused() -> None:
    data = GOLDEN.read_bytes()
    end = 5 + data[4]
    head, payload = data[:end], data[end:-4]
    for bit in range(0, 8 * len(payload), 8 * len(payload) // 40 + 1):
        with pytest.raises(vqc.ContainerError):
            vqc.read(_seal(head + _flip(payload, bit)), entropy.coders())


@pytest.mark.parametrize(
    "command", [["info"], ["decompress", "--runtime", "onnx"], ["decompress", "--runtime", "torch"]]
)
def test_commands_refuse_each_crafted_file_in_one_line(crafted_dir, tmp_path, command) -> None:
    names = sorted(EXPECTED)
    cases = []
    for name in names:
        out = ["-o", str(tmp_path / f"{name}.wav")] if command[0] == "decompress" else []
        cases.append([command[0], str(crafted_dir / f"{name}.vqc"), *out, *command[1:]])
    for name, result in zip(names, run_cli_capped(cases), strict=True):
        assert result["code"] == 1, (name, result)
        err = result["err"]
        assert err.count("\n") == 1 and err.startswith(f"vqcodec: {crafted_dir / name}.vqc: corrupt"), (name, err)
        assert "Traceback" not in err and "Error" not in err.split(":")[0], err
    assert list(tmp_path.iterdir()) == []  # nothing written, no leftover


def test_decompress_from_stdin_refuses_a_crafted_stream(crafted_dir) -> None:
    code = "import sys; from vqcodec.cli import main; sys.exit(main(['decompress', '-', '-o', '-']))"
    for name in ("cut_half", "trailing_word"):
        data = (crafted_dir / f"{name}.vqc").read_bytes()
        r = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=120)
        err = r.stderr.decode()
        assert r.returncode == 1 and r.stdout == b"", err
        assert err.count("\n") == 1 and "corrupt" in err, err


def test_in_a_folder_crafted_files_fail_alone_and_are_counted(crafted_dir, tmp_path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(crafted_dir, src)
    shutil.copy(GOLDEN, src / "good.vqc")
    (result,) = run_cli_capped([["decompress", str(src), "-o", str(out), "-q"]])
    assert result["code"] == 3, result
    assert "1 file decompressed" in result["err"] and f"; {len(EXPECTED)} failed" in result["err"], result
    assert sorted(p.name for p in out.iterdir()) == ["good.wav"]
