"""The range coder inside the container: .vqc format 2 streams round-trip, name their tables, and damaged
or crafted ones are refused in one line (CRC first, then the coder's own bounds)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from helpers import levels, tables
from hypothesis import given, settings
from hypothesis import strategies as st

from vqcodec.entropy import RangeCoder
from vqcodec.io import container as vqc


def _container(seed: int = 0) -> vqc.Container:
    top, bottom = levels(seed, channels=2, frames=7)
    return vqc.Container("m", b"\x00\x01\x02\x03", 16000, 2, 5000, (vqc.Level(top, 8), vqc.Level(bottom, 8)))


def test_round_trip_through_the_container() -> None:
    coder = RangeCoder(tables())
    c = _container()
    data = vqc.write(c, coder=coder)
    back = vqc.read(data, {coder.hash: coder})
    assert back.levels == c.levels and back.tables_hash == coder.hash


def test_other_tables_cannot_read_it() -> None:
    coder, other = RangeCoder(tables(0)), RangeCoder(tables(1))
    assert coder.hash != other.hash
    data = vqc.write(_container(), coder=coder)
    with pytest.raises(vqc.ContainerError, match="entropy-coded with tables"):
        vqc.read(data, {other.hash: other})


def test_every_single_bit_flip_is_detected() -> None:
    coder = RangeCoder(tables())
    c = vqc.Container("m", b"\x00\x01\x02\x03", 16000, 1, 500, tuple(vqc.Level(x[:1], 8) for x in levels(0, 1, 2)))
    data = vqc.write(c, coder=coder)
    for bit in range(len(data) * 8):
        damaged = bytearray(data)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(vqc.ContainerError):
            vqc.read(bytes(damaged), {coder.hash: coder})


def test_huge_claimed_frames_are_refused_before_decoding() -> None:
    """A header claiming 2**40 frames over a few payload words: refused by the coder's bound, quickly."""
    coder = RangeCoder(tables())
    c = _container()
    data = vqc.write(c, coder=coder)
    header = vqc.peek(data)
    assert header.tables_hash == coder.hash
    name = b"m"
    body = (
        bytes([1]) + name + b"\x00\x01\x02\x03" + bytes([0x80, 0x7D]) + b"\x02" + bytes([0x88, 0x27]) + b"\x02"
        + b"\x02\x08" + bytes([0x80, 0x80, 0x80, 0x80, 0x80, 0x20])
        + b"\x03\x08" + bytes([0x80, 0x80, 0x80, 0x80, 0x80, 0x20])
        + coder.hash
    )  # fmt: skip
    head = b"VQC\x02" + bytes([len(body)]) + body + b"\x00" * 8
    with pytest.raises(vqc.ContainerError, match="cannot be coded"):
        vqc.read(head + zlib.crc32(head).to_bytes(4, "big"), {coder.hash: coder})


def _payload_offset(data: bytes) -> int:
    return 5 + data[4]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=48))
def test_fuzz_payloads_behind_a_valid_crc(payload: bytes) -> None:
    """Any payload under a real header: refused in one line, or codes within every level's range."""
    coder = RangeCoder(tables())
    data = vqc.write(_container(), coder=coder)
    head = data[: _payload_offset(data)] + payload
    try:
        c = vqc.read(head + zlib.crc32(head).to_bytes(4, "big"), {coder.hash: coder})
    except vqc.ContainerError as e:
        assert "\n" not in str(e)
        return
    for level in c.levels:
        assert level.codes.min() >= 0 and level.codes.max() < 2**level.bits
    assert np.shape(c.levels[0].codes) == (2, 2, 7)
