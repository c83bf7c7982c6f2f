"""Tests for vqcodec.io.bitpack."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vqcodec.io import bitpack


def _random_values(rng: np.random.Generator, count: int, bits: int) -> np.ndarray:
    """Uniform values in [0, 2**bits) as int64."""
    return rng.integers(0, 1 << bits, size=count, dtype=np.int64)


@pytest.mark.parametrize("seed", range(20))
def test_round_trip_random_widths_and_lengths(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for count in (0, 1, int(rng.integers(2, 300))):
        bits = int(rng.integers(1, 33))
        values = _random_values(rng, count, bits)
        data = bitpack.pack(values, bits)
        assert len(data) == math.ceil(count * bits / 8)
        out = bitpack.unpack(data, bits, count)
        assert out.dtype == np.int64 and out.shape == (count,)
        np.testing.assert_array_equal(out, values)


@pytest.mark.parametrize("bits", range(1, 33))
def test_extremes_round_trip_at_every_width(bits: int) -> None:
    values = np.array([0, (1 << bits) - 1, 1, (1 << bits) - 1, 0], dtype=np.int64)
    out = bitpack.unpack(bitpack.pack(values, bits), bits, len(values))
    np.testing.assert_array_equal(out, values)


def test_msb_first_layout_and_zero_padding() -> None:
    # 0b101, 0b011, 0b1 -> 101 011 001 -> 10101100 1 + seven zero pad bits
    assert bitpack.pack(np.array([5, 3, 1]), 3) == bytes([0b10101100, 0b10000000])


def test_multidimensional_input_is_flattened_in_c_order() -> None:
    values = np.arange(12, dtype=np.int32).reshape(3, 4)
    out = bitpack.unpack(bitpack.pack(values, 4), 4, 12)
    np.testing.assert_array_equal(out, values.ravel(order="C"))


def test_accepts_various_integer_dtypes() -> None:
    for dtype in (np.uint8, np.int16, np.uint32, np.int64, np.uint64):
        values = np.array([0, 1, 200], dtype=dtype)
        out = bitpack.unpack(bitpack.pack(values, 8), 8, 3)
        np.testing.assert_array_equal(out, [0, 1, 200])


@pytest.mark.parametrize("bad", [[-1], [16], [0, 3, 17]])
def test_out_of_range_values_raise(bad: list[int]) -> None:
    with pytest.raises(ValueError):
        bitpack.pack(np.array(bad, dtype=np.int64), 4)


def test_value_at_32_bit_limit_raises() -> None:
    with pytest.raises(ValueError):
        bitpack.pack(np.array([1 << 32], dtype=np.int64), 32)


@pytest.mark.parametrize("bits", [0, 33, -1])
def test_bad_width_raises(bits: int) -> None:
    with pytest.raises(ValueError):
        bitpack.pack(np.zeros(3, dtype=np.int64), bits)
    with pytest.raises(ValueError):
        bitpack.unpack(b"\x00" * 8, bits, 1)


def test_float_values_raise_type_error() -> None:
    with pytest.raises(TypeError):
        bitpack.pack(np.array([1.0, 2.0]), 4)


def test_unpack_short_data_raises() -> None:
    data = bitpack.pack(np.arange(10, dtype=np.int64), 5)  # 50 bits in 7 bytes
    assert len(bitpack.unpack(data, 5, 11)) == 11  # 55 bits still fit in 56
    with pytest.raises(ValueError):
        bitpack.unpack(data, 5, 12)
    with pytest.raises(ValueError):
        bitpack.unpack(data, 5, -1)


def test_packed_size() -> None:
    assert bitpack.packed_size(0, 7) == 0
    assert bitpack.packed_size(1, 1) == 1
    assert bitpack.packed_size(8, 1) == 1
    assert bitpack.packed_size(9, 1) == 2
    assert bitpack.packed_size(3, 10) == 4


@settings(max_examples=100, deadline=None)
@given(
    bits=st.integers(1, 32),
    raw=st.lists(st.integers(0, (1 << 32) - 1), max_size=64),
)
def test_property_round_trip(bits: int, raw: list[int]) -> None:
    values = np.array([v % (1 << bits) for v in raw], dtype=np.int64)
    data = bitpack.pack(values, bits)
    assert len(data) == bitpack.packed_size(len(values), bits)
    np.testing.assert_array_equal(bitpack.unpack(data, bits, len(values)), values)
