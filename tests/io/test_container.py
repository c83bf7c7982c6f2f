"""Tests for vqcodec.io.container (the .vqc file format)."""

from __future__ import annotations

import os
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vqcodec.io import container as vqc
from vqcodec.io.container import Container, ContainerError, Level

HASH = b"\x12\x34\x56\x78"


def _random_container(seed: int = 0, channels: int = 3) -> Container:
    """Two levels with different shapes and widths."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 1 << 10, size=(channels, 4, 7), dtype=np.int64)
    fine = rng.integers(0, 1 << 3, size=(channels, 2, 13), dtype=np.int64)
    return Container(
        model_name="test-model",
        model_hash=HASH,
        sample_rate=24000,
        channels=channels,
        num_samples=12345,
        levels=(Level(coarse, 10), Level(fine, 3)),
    )


def _small_file() -> bytes:
    """A tiny but complete file used for exhaustive damage tests."""
    codes_a = np.array([[[1, 2, 3], [4, 5, 6]]], dtype=np.int64)
    codes_b = np.array([[[1, 0]]], dtype=np.int64)
    small = Container("s", HASH, 8000, 1, 100, (Level(codes_a, 5), Level(codes_b, 1)))
    return vqc.write(small)


def _leb(value: int) -> bytes:
    """Independent LEB128 encoder for hand-built headers."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _frame(body: bytes, payload: bytes, version: int = 1) -> bytes:
    """Wrap a hand-built header body and payload with a correct CRC."""
    head = b"VQC" + bytes([version, len(body)]) + body + payload
    return head + zlib.crc32(head).to_bytes(4, "big")


def _body(levels: bytes, n_levels: int = 1, name: bytes = b"x") -> bytes:
    """Hand-built header body: 1 channel, 16 kHz, given level records."""
    return bytes([len(name)]) + name + HASH + _leb(16000) + b"\x01" + _leb(0) + bytes([n_levels]) + levels


def _assert_same(a: Container, b: Container) -> None:
    assert (a.model_name, a.model_hash, a.sample_rate) == (
        b.model_name,
        b.model_hash,
        b.sample_rate,
    )
    assert (a.channels, a.num_samples, len(a.levels)) == (
        b.channels,
        b.num_samples,
        len(b.levels),
    )
    for la, lb in zip(a.levels, b.levels, strict=True):
        assert la.bits == lb.bits
        assert la.codes.shape == lb.codes.shape
        np.testing.assert_array_equal(la.codes, lb.codes)


def _refusal(data: bytes) -> str:
    """Read ``data``, expect a ContainerError, return its one-line message."""
    with pytest.raises(ContainerError) as info:
        vqc.read(data)
    message = str(info.value)
    assert message and "\n" not in message
    return message


# ---------------------------------------------------------------- round trip


def test_round_trip_bytes() -> None:
    original = _random_container()
    decoded = vqc.read(vqc.write(original))
    _assert_same(decoded, original)
    assert decoded == original
    assert all(level.codes.dtype == np.int64 for level in decoded.levels)


def test_round_trip_file(tmp_path: Path) -> None:
    original = _random_container(seed=1, channels=2)
    path = tmp_path / "x.vqc"
    vqc.write_file(original, path)
    _assert_same(vqc.read_file(path), original)
    assert vqc.read_file(str(path)) == original


def test_round_trip_empty_and_32_bit_levels() -> None:
    rng = np.random.default_rng(2)
    wide = rng.integers(0, 1 << 32, size=(2, 1, 5), dtype=np.int64)
    empty = np.zeros((2, 0, 9), dtype=np.int64)
    original = Container("m", HASH, 1, 2, 0, (Level(wide, 32), Level(empty, 7)))
    _assert_same(vqc.read(vqc.write(original)), original)


def test_write_is_deterministic() -> None:
    assert vqc.write(_random_container()) == vqc.write(_random_container())


def test_header_size_example() -> None:
    rng = np.random.default_rng(3)
    levels = (
        Level(rng.integers(0, 1024, size=(1, 4, 125)), 10),
        Level(rng.integers(0, 1024, size=(1, 1, 500)), 10),
    )
    data = vqc.write(Container("sp16k", HASH, 16000, 1, 160000, levels))
    payload = (4 * 125 * 10 + 500 * 10) // 8
    assert len(data) <= payload + 36
    assert len(data) == payload + 33  # 5 prefix + 24 header body + 4 crc


# ------------------------------------------------------------ write checks


@pytest.mark.parametrize(
    "change",
    [
        {"model_hash": b"\x00" * 3},
        {"model_name": ""},
        {"model_name": "x" * 65},
        {"model_name": "caf\u00e9"},
        {"channels": 2},
        {"channels": 0},
        {"sample_rate": 0},
        {"num_samples": -1},
        {"levels": ()},
        {"levels": (Level(np.zeros((1, 1, 1), dtype=np.int64), 1),) * 9},
        {"levels": (Level(np.array([[[4]]]), 2),)},
        {"levels": (Level(np.array([[[-1]]]), 2),)},
        {"levels": (Level(np.zeros((1, 2), dtype=np.int64), 2),)},
        {"levels": (Level(np.zeros((1, 1, 1), dtype=np.int64), 33),)},
        {"levels": (Level(np.zeros((1, 256, 1), dtype=np.int64), 1),)},
    ],
)
def test_write_refuses_invalid(change: dict) -> None:
    fields = {
        "model_name": "m",
        "model_hash": HASH,
        "sample_rate": 16000,
        "channels": 1,
        "num_samples": 10,
        "levels": (Level(np.zeros((1, 2, 3), dtype=np.int64), 4),),
    }
    fields.update(change)
    with pytest.raises(ValueError):
        vqc.write(Container(**fields))


# ------------------------------------------------------------- read refusals


def test_wrong_magic() -> None:
    data = vqc.write(_random_container())
    assert _refusal(b"XQC" + data[3:]) == "not a .vqc file (bad magic)"
    assert _refusal(b"") == "not a .vqc file (bad magic)"
    assert _refusal(b"VQC") == "not a .vqc file (bad magic)"


def test_unknown_version() -> None:
    data = vqc.write(_random_container())
    assert _refusal(data[:3] + b"\x03" + data[4:]) == (
        "unsupported .vqc format version 3 (this vqcodec reads versions 1 and 2)"
    )


def test_checksum_mismatch() -> None:
    data = bytearray(vqc.write(_random_container()))
    data[-10] ^= 0x40
    assert _refusal(bytes(data)) == "corrupt .vqc file: checksum mismatch"


def test_truncation_at_every_offset() -> None:
    data = _small_file()
    for end in range(len(data)):
        _refusal(data[:end])


def test_every_single_bit_flip_is_detected() -> None:
    data = _small_file()
    for index in range(len(data) * 8):
        damaged = bytearray(data)
        damaged[index // 8] ^= 1 << (index % 8)
        _refusal(bytes(damaged))


def test_trailing_garbage_is_refused() -> None:
    data = vqc.write(_random_container())
    _refusal(data + b"\x00")
    # Even with a recomputed CRC the size check catches the extra byte.
    message = _refusal(_frame(data[5 : 5 + data[4]], data[5 + data[4] : -4] + b"\0"))
    assert "payload" in message


def test_short_payload_with_valid_crc_is_refused() -> None:
    level = b"\x04\x0a" + _leb(10)  # 4 codebooks x 10 frames x 10 bits = 50 bytes
    message = _refusal(_frame(_body(level), b"\x00" * 49))
    assert message == "corrupt .vqc file: payload is 49 bytes, header implies 50"
    assert vqc.read(_frame(_body(level), b"\x00" * 50)).levels[0].codes.shape == (
        1,
        4,
        10,
    )


def test_huge_frames_refused_quickly_without_allocation() -> None:
    level = b"\x04\x0a" + _leb(2**40)
    data = _frame(_body(level), b"\x00" * 16)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        message = _refusal(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < 1 << 20
    assert "payload" in message


@pytest.mark.parametrize(
    "body",
    [
        _body(b"\x01\x0a" + _leb(2**48)),  # varint over the value cap
        _body(b"\x01\x0a" + b"\x80" * 10 + b"\x00"),  # varint over 10 bytes
        _body(b"\x01\x0a" + b"\x81"),  # varint cut off by header end
        _body(b"\x01\x00\x01"),  # 0 bits
        _body(b"\x01\x21\x01"),  # 33 bits
        _body(b"", n_levels=0),
        _body(b"\x01\x01\x01" * 9, n_levels=9),
        _body(b"\x01\x0a\x01", name=b""),
        _body(b"\x01\x0a\x01", name=b"\xff"),
        _body(b"\x01\x0a\x01") + b"\x00",  # header_len longer than fields
        _body(b"\x01\x0a\x01", n_levels=2),  # header_len shorter than fields
    ],
)
def test_bad_header_fields(body: bytes) -> None:
    assert _refusal(_frame(body, b"\x00\x00")) == "corrupt .vqc file: bad header"


def test_header_len_past_end_is_refused() -> None:
    head = b"VQC\x01\xff" + b"\x00" * 10
    data = head + zlib.crc32(head).to_bytes(4, "big")
    assert _refusal(data) == "corrupt .vqc file: bad header"


def test_nonzero_padding_bits_are_refused() -> None:
    level = b"\x01\x03\x01"  # a single 3-bit code, 5 padding bits
    assert vqc.read(_frame(_body(level), b"\xe0")).levels[0].codes.item() == 7
    _refusal(_frame(_body(level), b"\xe1"))


# ------------------------------------------------------------------ fuzzing


def _read_or_refuse(data: bytes) -> None:
    try:
        assert isinstance(vqc.read(data), Container)
    except ContainerError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _read_or_refuse(data)
    _read_or_refuse(b"VQC\x01" + data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60), st.integers(0, 255))
def test_fuzz_headers_behind_a_valid_crc(rest: bytes, header_len: int) -> None:
    head = b"VQC\x01" + bytes([header_len]) + rest
    _read_or_refuse(head + zlib.crc32(head).to_bytes(4, "big"))


# ------------------------------------------------------------- write_file


def test_write_file_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "a.vqc"
    vqc.write_file(_random_container(), path)
    vqc.write_file(_random_container(seed=5), path)  # overwrite in place
    assert os.listdir(tmp_path) == ["a.vqc"]
    assert vqc.read_file(path) == _random_container(seed=5)


def test_write_file_invalid_container_touches_nothing(tmp_path: Path) -> None:
    bad = Container("m", b"\x00", 1, 1, 0, (Level(np.zeros((1, 1, 1)), 1),))
    with pytest.raises(ValueError):
        vqc.write_file(bad, tmp_path / "a.vqc")
    assert os.listdir(tmp_path) == []


def test_write_file_failure_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.vqc"
    vqc.write_file(_random_container(), path)
    before = path.read_bytes()

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(vqc.os, "replace", fail)
    with pytest.raises(OSError):
        vqc.write_file(_random_container(seed=9), path)
    assert os.listdir(tmp_path) == ["a.vqc"]
    assert path.read_bytes() == before


# ------------------------------------------------------- entropy-coded (v2)


class _Int16Coder:
    """A stand-in coder: codes as big-endian int16, no modelling; enough to test the container's side."""

    hash = b"\xaa\xbb\xcc\xdd"

    def encode(self, levels) -> bytes:
        return b"".join(np.asarray(x, dtype=">i2").tobytes() for x in levels)

    def decode(self, payload: bytes, shapes) -> list[np.ndarray]:
        sizes = [int(np.prod(s)) for s in shapes]
        if len(payload) != 2 * sum(sizes):
            raise ValueError("payload size does not match the shapes")
        flat = np.frombuffer(payload, dtype=">i2").astype(np.int64)
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        return [p.reshape(s) for p, s in zip(parts, shapes, strict=True)]


def test_entropy_coded_round_trip_names_its_tables() -> None:
    c = _random_container()
    data = vqc.write(c, coder=_Int16Coder())
    assert data[3] == vqc.ENTROPY_VERSION
    back = vqc.read(data, {_Int16Coder.hash: _Int16Coder()})
    _assert_same(c, back)
    assert back.tables_hash == _Int16Coder.hash
    assert vqc.read(vqc.write(c)).tables_hash is None
    assert vqc.peek(data).tables_hash == _Int16Coder.hash


def test_plain_stream_bytes_are_unchanged_by_the_new_version() -> None:
    """Format 1 is what it always was: writing without a coder gives version 1, readable without coders."""
    data = vqc.write(_random_container())
    assert data[3] == vqc.FORMAT_VERSION == 1
    _assert_same(_random_container(), vqc.read(data, {_Int16Coder.hash: _Int16Coder()}))


def test_entropy_coded_stream_without_its_coder_is_refused() -> None:
    data = vqc.write(_random_container(), coder=_Int16Coder())
    assert "entropy-coded with tables aabbccdd" in _refusal(data)


class _LyingCoder(_Int16Coder):
    """Decodes to codes out of the level's width, or to the wrong shape."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def decode(self, payload: bytes, shapes) -> list[np.ndarray]:
        out = super().decode(payload, shapes)
        if self.mode == "range":
            out[1][0, 0, 0] = 1 << 3
        elif self.mode == "negative":
            out[0][0, 0, 0] = -1
        else:
            out[0] = out[0][:, :, :-1]
        return out


@pytest.mark.parametrize("mode", ["range", "negative", "shape"])
def test_decoded_codes_are_checked_against_their_level(mode: str) -> None:
    data = vqc.write(_random_container(), coder=_Int16Coder())
    with pytest.raises(ContainerError, match="out of its level's range"):
        vqc.read(data, {_Int16Coder.hash: _LyingCoder(mode)})


def test_coder_errors_become_one_line() -> None:
    data = bytearray(vqc.write(_random_container(), coder=_Int16Coder()))
    del data[-6]  # one payload byte fewer, CRC recomputed: only the coder can tell
    body = bytes(data[:-4])
    data = body + zlib.crc32(body).to_bytes(4, "big")
    with pytest.raises(ContainerError, match="corrupt .vqc file: payload size"):
        vqc.read(data, {_Int16Coder.hash: _Int16Coder()})


def test_every_single_bit_flip_of_an_entropy_coded_stream_is_detected() -> None:
    small = Container("s", HASH, 8000, 1, 100, (Level(np.array([[[1, 2, 3]]]), 5),))
    data = vqc.write(small, coder=_Int16Coder())
    coders = {_Int16Coder.hash: _Int16Coder()}
    for bit in range(len(data) * 8):
        damaged = bytearray(data)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(ContainerError):
            vqc.read(bytes(damaged), coders)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60), st.integers(0, 255))
def test_fuzz_entropy_headers_behind_a_valid_crc(rest: bytes, header_len: int) -> None:
    head = b"VQC\x02" + bytes([header_len]) + rest
    data = head + zlib.crc32(head).to_bytes(4, "big")
    try:
        assert isinstance(vqc.read(data, {_Int16Coder.hash: _Int16Coder()}), Container)
    except ContainerError:
        pass
