"""The range coder: lossless on random, constant and uniform streams, as long as the tables say, and strict
with payloads that do not decode to what they claim."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import K, levels, table, tables, uniform_tables
from hypothesis import given, settings
from hypothesis import strategies as st

from vqcodec.entropy import RangeCoder, StreamError
from vqcodec.entropy.tables import CodebookTable, Tables


def _round_trip(coder: RangeCoder, lv: list[np.ndarray]) -> bytes:
    data = coder.encode(lv)
    back = coder.decode(data, [x.shape for x in lv])
    for a, b in zip(lv, back, strict=True):
        np.testing.assert_array_equal(a, b)
    return data


@pytest.mark.parametrize("seed", range(5))
def test_random_streams_round_trip(seed: int) -> None:
    coder = RangeCoder(tables(seed))
    rng = np.random.default_rng(seed)
    frames = int(rng.integers(0, 40))
    _round_trip(coder, levels(seed, channels=int(rng.integers(1, 4)), frames=frames))


def test_fewer_codebooks_than_the_tables_round_trip() -> None:
    """A lower rung keeps the first codebooks of each level."""
    _round_trip(RangeCoder(tables(3)), levels(3, n_top=1, n_bottom=1))


def test_constant_stream_costs_almost_nothing() -> None:
    """A stream of the code a table makes likeliest costs a small fraction of its plain width."""
    peaked = tables(1)
    peaked = Tables(
        "test",
        peaked.model_hash,
        K,
        4,
        tuple(tuple(CodebookTable(t.sources, t.maps, _peak(t.freqs)) for t in level) for level in peaked.levels),
    )
    coder = RangeCoder(peaked)
    lv = [np.zeros((1, 2, 200), np.int64), np.zeros((1, 3, 800), np.int64)]
    data = _round_trip(coder, lv)
    plain = (2 * 200 + 3 * 800) * 8 / 8
    assert len(data) < 0.05 * plain


def _peak(freqs: np.ndarray) -> np.ndarray:
    out = np.zeros_like(freqs)
    out[:, 0] = freqs.sum(axis=1)[0]
    return out


def test_uniform_tables_cost_log2_k_per_code() -> None:
    coder = RangeCoder(uniform_tables())
    lv = levels(7, channels=1, frames=500, n_top=1, n_bottom=1)
    data = _round_trip(coder, lv)
    codes = sum(x.size for x in lv)
    assert codes * np.log2(K) <= len(data) * 8 <= codes * np.log2(K) + 64  # the flush: at most two words


@pytest.mark.parametrize("seed", range(3))
def test_payload_is_what_the_tables_say_plus_a_flush(seed: int) -> None:
    coder = RangeCoder(tables(seed))
    lv = levels(seed, frames=60)
    data = coder.encode(lv)
    assert sum(coder.bits(lv)) <= len(data) * 8 <= sum(coder.bits(lv)) + 64


def test_out_of_range_codes_are_refused_on_encode() -> None:
    coder = RangeCoder(tables())
    lv = levels(0)
    lv[1][0, 0, 0] = K
    with pytest.raises(ValueError, match="codes must be in"):
        coder.encode(lv)


def test_trailing_words_are_refused() -> None:
    coder = RangeCoder(tables())
    lv = levels(0)
    data = coder.encode(lv)
    with pytest.raises(StreamError):
        coder.decode(data + b"\x12\x34\x56\x78" * 3, [x.shape for x in lv])
    with pytest.raises(StreamError, match="32-bit words"):
        coder.decode(data + b"\x00", [x.shape for x in lv])


@pytest.mark.parametrize("word", [b"\x00" * 4, b"\xff" * 4, b"\x12\x34\x56\x78"])
def test_one_trailing_word_is_refused_and_named(word: bytes) -> None:
    coder = RangeCoder(tables())
    lv = levels(1)
    with pytest.raises(StreamError, match="has 4 bytes after its last code"):
        coder.decode(coder.encode(lv) + word, [x.shape for x in lv])


def test_every_cut_of_a_payload_is_refused() -> None:
    """However many words are cut off the end, the decoder notices it ran out: no code is made up from
    the zeros it would read past the end."""
    coder = RangeCoder(tables(2))
    lv = levels(2)
    data = coder.encode(lv)
    for words in range(len(data) // 4):
        with pytest.raises(StreamError, match="runs out before its last code|damaged|cannot be coded"):
            coder.decode(data[: 4 * words], [x.shape for x in lv])


def test_more_frames_than_the_payload_holds_stop_at_its_end() -> None:
    """A claim within the bound of :meth:`RangeCoder.max_symbols` (so not refused up front) is refused as
    soon as the codes run past the payload."""
    coder = RangeCoder(tables(3))
    lv = levels(3, channels=1, frames=20)
    data = coder.encode(lv)
    shapes = [(1, 2, 40), (1, 3, 160)]
    assert sum(np.prod(s) for s in shapes) <= coder.max_symbols(len(data))
    with pytest.raises(StreamError, match="runs out before its last code"):
        coder.decode(data, shapes)


def test_more_codes_than_the_payload_can_hold_are_refused_before_decoding() -> None:
    coder = RangeCoder(tables())
    with pytest.raises(StreamError, match="cannot be coded"):
        coder.decode(b"\x00" * 8, [(1, 2, 10**9), (1, 3, 4 * 10**9)])


def test_shapes_the_tables_do_not_have_are_refused() -> None:
    coder = RangeCoder(tables())
    with pytest.raises(StreamError):
        coder.decode(b"", [(1, 2, 1)])
    with pytest.raises(StreamError):
        coder.decode(b"", [(1, 5, 1), (1, 3, 4)])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 6))
def test_fuzz_payloads_decode_in_range_or_are_refused(payload: bytes, frames: int) -> None:
    coder = RangeCoder(tables())
    shapes = [(1, 2, frames), (1, 3, 4 * frames)]
    try:
        out = coder.decode(payload, shapes)
    except StreamError:
        return
    for x, shape in zip(out, shapes, strict=True):
        assert x.shape == shape and (x.size == 0 or (x.min() >= 0 and x.max() < K))
    assert coder.encode(out) == payload  # an accepted payload is exactly what its codes code to


def test_a_third_level_round_trips_and_may_be_left_out() -> None:
    """A pitch model's tables have a third level (its pitch codes at the bottom frame rate); its streams
    round-trip with it, and codes without their pitch stream (a prior's samples) still code."""
    base = tables(5)
    third = (table(("prev",), (9,), 42),)
    coder = RangeCoder(Tables(base.model_name, base.model_hash, K, base.ratio, (*base.levels, third)))
    lv = levels(5)
    pitch = np.random.default_rng(5).integers(0, 128, (lv[1].shape[0], 1, lv[1].shape[-1]))
    _round_trip(coder, [*lv, pitch])
    _round_trip(coder, lv)
