"""Range coding of code arrays with the context tables: constriction's range coder, integer probabilities.

Why the probabilities are integers end to end: each stored frequency row ``f`` (uint16, summing to
``(2**24 - K) / 256``) is handed to constriction's ``Categorical(..., perfect=False)`` as the float64
values ``256 * f``. Its fast quantiser computes ``scale = (2**24 - K) / sum = 1.0`` exactly and gives code
``k`` the interval ``[cumsum(256 f)[:k] + k, ... + 256 f[k] + 1)`` of 2**24: every float in that path is an
integer below 2**24, exactly representable, so the intervals — and therefore the bits — are the same on
every CPU. No float from a neural network ever reaches the coder.

Streams are constriction's 32-bit words, stored big-endian. Damage a checksum cannot see (a crafted stream)
is refused: the symbol count is bounded by what the payload can hold before anything is allocated, and the
decoder codes every symbol it decodes again, so that it stops as soon as the codes need more words than the
payload has (a cut payload, or a header claiming too many frames), and refuses a payload that is not exactly
the words its codes code to (a trailing word, a flipped bit). A stream is therefore canonical: one payload
per code array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import constriction
import numpy as np

from vqcodec.entropy.context import level_contexts, source_codes
from vqcodec.entropy.tables import PRECISION, SCALE, CodebookTable, Tables

_SLICE = 1 << 16  # codes converted to Python ints at a time while encoding


class StreamError(ValueError):
    """An entropy-coded payload that does not decode to the codes it claims."""


class RangeCoder:
    """Encode and decode the levels of a stream with one table set.

    Levels are lists of ``[C, n_cb, T]`` integer arrays, coarse first; ``n_cb`` may be fewer than the
    tables have (lower rungs keep the first codebooks), and a stream may hold fewer levels than the tables
    (a pitch model's codes without their pitch stream). Channels are coded one after another.
    """

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.hash = tables.hash
        self._models: dict[tuple[int, int, int], object] = {}
        self._min_bits: float | None = None

    def _model(self, i: int, j: int, row: int):
        key = (i, j, row)
        model = self._models.get(key)
        if model is None:
            weights = self.tables.levels[i][j].freqs[row].astype(np.float64) * SCALE
            model = constriction.stream.model.Categorical(weights, perfect=False)
            self._models[key] = model
        return model

    def _check_shapes(self, shapes: Sequence[tuple[int, int, int]]) -> None:
        if not min(2, len(self.tables.levels)) <= len(shapes) <= len(self.tables.levels):  # the pitch may be absent
            raise StreamError(f"tables code {len(self.tables.levels)} levels, the stream has {len(shapes)}")
        for i, (_, n_cb, _) in enumerate(shapes):
            if n_cb > len(self.tables.levels[i]):
                raise StreamError(f"level {i} has {n_cb} codebooks, the tables {len(self.tables.levels[i])}")

    # ------------------------------------------------------------ encode

    def encode(self, levels: Sequence[np.ndarray]) -> bytes:
        """Levels ``[C, n_cb, T]`` -> payload bytes."""
        self._check_shapes([np.shape(x) for x in levels])
        k = self.tables.codebook_size
        for x in levels:
            if x.size and (x.min() < 0 or x.max() >= k):
                raise ValueError(f"codes must be in 0..{k - 1}")
        encoder = constriction.stream.queue.RangeEncoder()
        for c in range(levels[0].shape[0]):
            top = None
            for i, x in enumerate(levels):
                codes = np.asarray(x[c], dtype=np.int64)
                self._encode_level(encoder, i, codes, top)
                top = codes if top is None else top
        return encoder.get_compressed().astype(">u4").tobytes()

    def _encode_level(self, encoder, i: int, codes: np.ndarray, top: np.ndarray | None) -> None:
        ctx = level_contexts(self.tables.levels[i], codes, top, self._ratio(i), self.tables.codebook_size)
        n_cb = codes.shape[0]
        # frame-major, codebook-minor: the order the decoder rebuilds contexts in; handed to Python a slice at
        # a time, as lists of a whole hour's codes cost ~80 MB (a memory peak that grew with the file)
        symbols, rows = codes.T.ravel(), ctx.T.ravel()
        for start in range(0, len(symbols), _SLICE):
            pairs = zip(symbols[start : start + _SLICE].tolist(), rows[start : start + _SLICE].tolist(), strict=True)
            for index, (symbol, row) in enumerate(pairs, start):
                encoder.encode(symbol, self._model(i, index % n_cb, row))

    def _ratio(self, i: int) -> int:
        return self.tables.level_ratio(i)

    # ------------------------------------------------------------ decode

    def decode(self, payload: bytes, shapes: Sequence[tuple[int, int, int]]) -> list[np.ndarray]:
        """Payload bytes -> levels of the given ``[C, n_cb, T]`` shapes (int64).

        Raises:
            StreamError: if the payload is not a whole number of words, claims more codes than it can
                hold, ends before the last code, or is not exactly the words its codes code to.
        """
        self._check_shapes(shapes)
        if len(payload) % 4:
            raise StreamError("entropy-coded payload is not a whole number of 32-bit words")
        symbols = sum(math.prod(s) for s in shapes)
        if symbols > self.max_symbols(len(payload)):
            raise StreamError(f"{symbols} codes cannot be coded in {len(payload)} bytes with these tables")
        reader = _Reader(np.frombuffer(payload, dtype=">u4").astype(np.uint32))
        out = [np.zeros(s, np.int64) for s in shapes]
        for c in range(shapes[0][0]):
            top = None
            for i, x in enumerate(out):
                self._decode_level(reader, i, x[c], top)
                top = x[c] if top is None else top
        reader.check_end()
        return out

    def _decode_level(self, reader: _Reader, i: int, codes: np.ndarray, top: np.ndarray | None) -> None:
        """Fill ``codes`` ``[n_cb, T]`` in place, frame by frame."""
        n_cb, frames = codes.shape
        k = self.tables.codebook_size
        plans = [_Plan(self.tables.levels[i][j], j, top, self._ratio(i), k, frames) for j in range(n_cb)]
        rows = codes.T  # [T, n_cb] view
        prev = [k] * n_cb
        for t in range(frames):
            above = k
            for j, plan in enumerate(plans):
                symbol = reader.decode(self._model(i, j, plan.row(prev[j], above, t)))
                rows[t, j] = symbol
                prev[j] = above = symbol
            reader.check_within()

    # ------------------------------------------------------------ costs

    def bits(self, levels: Sequence[np.ndarray]) -> list[float]:
        """Information content, in bits, of each level's codes under the tables (what the stream spends,
        up to a few words of flush)."""
        self._check_shapes([np.shape(x) for x in levels])
        totals = [0.0] * len(levels)
        for c in range(levels[0].shape[0]):
            top = None
            for i, x in enumerate(levels):
                codes = np.asarray(x[c], dtype=np.int64)
                totals[i] += level_bits(self.tables, i, codes, top)
                top = codes if top is None else top
        return totals

    def max_symbols(self, nbytes: int) -> int:
        """The most codes ``nbytes`` of payload can hold: each costs at least the bits of the likeliest
        code of any table, and the coder flushes at most two words."""
        if self._min_bits is None:
            top = max(int(t.freqs.max()) for level in self.tables.levels for t in level)
            self._min_bits = -math.log2((SCALE * top + 1) / 2**PRECISION)
        return int((8 * nbytes + 64) / self._min_bits) + 1


def level_bits(tables: Tables, i: int, codes: np.ndarray, top: np.ndarray | None) -> float:
    """Bits of one level's ``[n_cb, T]`` codes (one channel) under ``tables``."""
    ctx = level_contexts(tables.levels[i], codes, top, tables.level_ratio(i), tables.codebook_size)
    total = 0.0
    for j in range(codes.shape[0]):
        freq = tables.levels[i][j].freqs[ctx[j], codes[j]].astype(np.float64)
        total += float(-np.log2((SCALE * freq + 1) / 2**PRECISION).sum())
    return total


_CUT_SHORT = (
    "entropy-coded payload runs out before its last code (cut short or altered, or the header claims more "
    "frames than it holds)"
)


class _Reader:
    """A range decoder over a payload's words that codes every symbol it decodes again: it knows how many
    words the codes decoded so far take, which a decoder alone cannot tell (constriction's decoder reads
    zeros past the end, and ``maybe_exhausted`` cannot see one trailing word)."""

    def __init__(self, words: np.ndarray) -> None:
        self.words = words  # [n] uint32
        self.decoder = constriction.stream.queue.RangeDecoder(words)
        self.encoder = constriction.stream.queue.RangeEncoder()

    def decode(self, model) -> int:
        try:
            symbol = self.decoder.decode(model)
        except (AssertionError, RuntimeError):  # constriction's words for a point no code's interval covers
            raise StreamError("entropy-coded payload is damaged: no stream these tables write") from None
        self.encoder.encode(symbol, model)
        return symbol

    def check_within(self) -> None:
        """Refuse as soon as the codes decoded so far take more words than the payload has (the encoder's
        word count, flush included, never falls as codes are added)."""
        if self.encoder.num_words() > len(self.words):
            raise StreamError(_CUT_SHORT)

    def check_end(self) -> None:
        """Refuse a payload that is not exactly the words its decoded codes code to."""
        again = self.encoder.get_compressed()
        if len(again) > len(self.words):
            raise StreamError(_CUT_SHORT)
        if not np.array_equal(again, self.words[: len(again)]):
            raise StreamError("entropy-coded payload is damaged: its codes do not code back to it")
        if len(again) < len(self.words):
            extra = 4 * (len(self.words) - len(again))
            raise StreamError(f"entropy-coded payload has {extra} bytes after its last code")


class _Plan:
    """How to find a codebook's context row from the codes decoded so far, one frame at a time."""

    def __init__(self, table: CodebookTable, j: int, top: np.ndarray | None, ratio: int, k: int, frames: int):
        self.sources = table.sources
        self.maps = [m.tolist() for m in table.maps]
        self.classes = table.classes
        # the coarse level is decoded already: its source codes are known for every frame
        dummy = np.zeros((j + 1, frames), np.int64)
        self.top = source_codes("top", dummy, j, top, ratio, k).tolist() if "top" in table.sources else None

    def row(self, prev: int, above: int, t: int) -> int:
        row = 0
        for source, mapping, n in zip(self.sources, self.maps, self.classes, strict=True):
            code = prev if source == "prev" else above if source == "above" else self.top[t]
            row = row * n + mapping[code]
        return row
