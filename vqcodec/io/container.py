"""The ``.vqc`` file format: bytes, headers and checksums, nothing else.

This module knows nothing about models or torch. Layout (fixed-size ints are
big-endian, ``uvarint`` is unsigned LEB128)::

    magic      3 bytes  b"VQC"
    version    u8       FORMAT_VERSION (1: plain codes) or ENTROPY_VERSION (2: entropy-coded codes)
    header_len u8       length of the header body that follows
    header body:
      model_name   u8 length + ASCII bytes (1..64 chars)
      model_hash   4 bytes
      sample_rate  uvarint
      channels     u8 (1..255)
      num_samples  uvarint
      n_levels     u8 (1..8)
      per level:   n_codebooks u8, bits u8 (1..32), frames uvarint
      tables_hash  4 bytes, version 2 only: the entropy coder's tables
    payload        version 1: every level's codes [channels, n_codebooks, frames]
                   in C order at that level's width, MSB first, all levels in
                   ONE bit stream, zero-padded to a whole byte.
                   version 2: opaque bytes of the coder whose tables_hash the
                   header names (see :class:`Coder`); every decoded code is
                   still checked against its level's shape and width.
    crc32          u32, zlib.crc32 of every byte before it

The container never models codes: an entropy coder is passed in by the caller
(``write(c, coder=...)``, ``read(data, coders={hash: coder})``), so this module
stays free of models and torch. A plain file is byte for byte what version 1
always was.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from vqcodec.errors import VQCodecError
from vqcodec.io import atomic, bitpack

FORMAT_VERSION = 1
ENTROPY_VERSION = 2
VERSIONS = (FORMAT_VERSION, ENTROPY_VERSION)
MAGIC = b"VQC"

_PREFIX_LEN = len(MAGIC) + 2  # magic, version, header_len
_CRC_LEN = 4
_HASH_LEN = 4
_MAX_NAME_LEN = 64
_MAX_LEVELS = 8
_MAX_U8 = 255
# Caps keep a crafted header from producing huge Python ints.
_MAX_VARINT_BYTES = 10
_MAX_VARINT_VALUE = 2**48 - 1

_BAD_MAGIC = "not a .vqc file (bad magic)"
_BAD_HEADER = "corrupt .vqc file: bad header"
_BAD_CRC = "corrupt .vqc file: checksum mismatch"


class ContainerError(VQCodecError, ValueError):
    """A .vqc stream that cannot be read, or a container that cannot be written: one clear line for a user,
    which the caller prefixes with the file's name (the bytes API has none to give)."""

    names_its_file = False


class Coder(Protocol):
    """An entropy coder of levels, as the container uses one (e.g. :class:`vqcodec.entropy.RangeCoder`).

    Attributes:
        hash: 4 bytes naming its tables, written into the header.
    """

    hash: bytes

    def encode(self, levels: Sequence[np.ndarray]) -> bytes:
        """Levels ``[C, n_cb, T]`` -> payload bytes."""

    def decode(self, payload: bytes, shapes: Sequence[tuple[int, int, int]]) -> list[np.ndarray]:
        """Payload bytes -> levels of these shapes; ValueError if they do not decode."""


@dataclass(frozen=True, eq=False)
class Level:
    """Codes of one quantiser level.

    Attributes:
        codes: Integer array ``[channels, n_codebooks, frames]``.
        bits: Width of every code in the stream, 1..32.
    """

    codes: np.ndarray
    bits: int

    # Hand-written because the generated __eq__ would call bool() on an array.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.bits == other.bits and np.array_equal(self.codes, other.codes)


@dataclass(frozen=True)
class Container:
    """Everything a ``.vqc`` file holds.

    Attributes:
        model_name: ASCII name of the codec model, 1..64 chars.
        model_hash: Exactly 4 opaque bytes identifying the weights.
        sample_rate: Audio sample rate in Hz.
        channels: Number of audio channels, 1..255.
        num_samples: Audio length in samples per channel.
        levels: 1..8 code levels, in stream order.
        tables_hash: the entropy coder's tables a read stream was coded with; None for a plain stream
            (ignored by :func:`write`, which codes with the coder it is given).
    """

    model_name: str
    model_hash: bytes
    sample_rate: int
    channels: int
    num_samples: int
    levels: tuple[Level, ...]
    tables_hash: bytes | None = None


@dataclass(frozen=True)
class _LevelSpec:
    """Shape and width of one level as stored in the header."""

    n_codebooks: int
    bits: int
    frames: int


@dataclass(frozen=True)
class _Header:
    """Parsed header body; payload sizes follow from it alone."""

    model_name: str
    model_hash: bytes
    sample_rate: int
    channels: int
    num_samples: int
    specs: tuple[_LevelSpec, ...]
    tables_hash: bytes | None = None

    def payload_bits(self) -> int:
        """Exact number of meaningful payload bits, as an unbounded int."""
        return sum(self.channels * s.n_codebooks * s.frames * s.bits for s in self.specs)


# --------------------------------------------------------------------- write


def write(container: Container, coder: Coder | None = None) -> bytes:
    """Serialise a container to ``.vqc`` bytes.

    Args:
        container: The container to encode.
        coder: An entropy coder: the stream is version 2 and names its tables. None: a plain version-1
            stream.

    Returns:
        The complete file contents, checksum included.

    Raises:
        ValueError: If any field is out of range, a level's codes do not
            match ``channels`` or do not fit in ``bits``, or the header
            would exceed 255 bytes.
    """
    header = _header_of(container)
    if coder is None:
        stream = [bitpack.to_bits(level.codes, level.bits) for level in container.levels]  # checks the values
        payload, version = np.packbits(np.concatenate(stream)).tobytes(), FORMAT_VERSION
    else:
        for level in container.levels:
            bitpack.check(level.codes, level.bits)
        _require(isinstance(coder.hash, bytes) and len(coder.hash) == _HASH_LEN, "coder hash must be 4 bytes")
        header = _with_tables(header, coder.hash)
        payload, version = _entropy_encode(coder, container), ENTROPY_VERSION
    body = _encode_header(header)
    if len(body) > _MAX_U8:
        raise ContainerError(f"header is {len(body)} bytes, at most {_MAX_U8} fit")
    out = MAGIC + bytes([version, len(body)]) + body + payload
    return out + zlib.crc32(out).to_bytes(_CRC_LEN, "big")


def _with_tables(header: _Header, tables_hash: bytes) -> _Header:
    return _Header(*(getattr(header, f) for f in _HEADER_FIELDS), tables_hash=tables_hash)


def _entropy_encode(coder: Coder, container: Container) -> bytes:
    try:
        return bytes(coder.encode([np.asarray(level.codes) for level in container.levels]))
    except ValueError as e:
        raise ContainerError(f"cannot entropy-code these codes: {e}") from None


def write_file(container: Container, path: str | os.PathLike[str], coder: Coder | None = None) -> None:
    """Write a container to ``path`` atomically.

    The bytes go to a temporary file in the same directory which then
    replaces ``path``, so readers never see a partial file.

    Args:
        container: The container to encode.
        path: Destination file.
        coder: As :func:`write`.

    Raises:
        ValueError: As :func:`write`; nothing is written then.
        OSError: If the file cannot be written.
    """
    atomic.write_bytes(path, write(container, coder))  # encode first: a bad container touches no file


def _header_of(container: Container) -> _Header:
    """Validate a container and describe it as a header."""
    _require(isinstance(container.model_hash, bytes), "model_hash must be bytes")
    _require(len(container.model_hash) == _HASH_LEN, "model_hash must be exactly 4 bytes")
    _require(1 <= container.sample_rate <= _MAX_VARINT_VALUE, "sample_rate out of range")
    _require(1 <= container.channels <= _MAX_U8, "channels must be in 1..255")
    _require(0 <= container.num_samples <= _MAX_VARINT_VALUE, "num_samples out of range")
    _require(1 <= len(container.levels) <= _MAX_LEVELS, "need 1..8 levels")
    _check_name(container.model_name)
    specs = tuple(_spec_of(level, container.channels) for level in container.levels)
    return _Header(
        container.model_name,
        container.model_hash,
        container.sample_rate,
        container.channels,
        container.num_samples,
        specs,
    )


def _spec_of(level: Level, channels: int) -> _LevelSpec:
    """Validate one level's shape (values are checked when packing)."""
    shape = np.shape(level.codes)
    _require(len(shape) == 3, f"level codes must be 3-D, got shape {shape}")
    _require(shape[0] == channels, f"level has {shape[0]} channels, container has {channels}")
    _require(shape[1] <= _MAX_U8, f"at most 255 codebooks per level, got {shape[1]}")
    _require(shape[2] <= _MAX_VARINT_VALUE, "too many frames")
    bits_ok = isinstance(level.bits, (int, np.integer)) and 1 <= level.bits <= bitpack.MAX_BITS
    _require(bits_ok, f"bits must be in 1..{bitpack.MAX_BITS}, got {level.bits!r}")
    return _LevelSpec(n_codebooks=shape[1], bits=int(level.bits), frames=shape[2])


def _check_name(name: str) -> None:
    """Raise ValueError unless ``name`` is 1..64 ASCII characters."""
    _require(isinstance(name, str) and name.isascii(), "model_name must be ASCII")
    _require(1 <= len(name) <= _MAX_NAME_LEN, "model_name must be 1..64 chars")


def _require(ok: bool, message: str) -> None:
    """Raise ContainerError with ``message`` unless ``ok``."""
    if not ok:
        raise ContainerError(message)


def _encode_header(header: _Header) -> bytes:
    """Encode a header body (without the length prefix)."""
    name = header.model_name.encode("ascii")
    parts = [
        bytes([len(name)]) + name + header.model_hash,
        _uvarint(header.sample_rate),
        bytes([header.channels]),
        _uvarint(header.num_samples),
        bytes([len(header.specs)]),
    ]
    for spec in header.specs:
        parts.append(bytes([spec.n_codebooks, spec.bits]) + _uvarint(spec.frames))
    if header.tables_hash is not None:
        parts.append(header.tables_hash)
    return b"".join(parts)


def _uvarint(value: int) -> bytes:
    """Encode a non-negative int as unsigned LEB128."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# ---------------------------------------------------------------------- read


def read(data: bytes, coders: Mapping[bytes, Coder] | None = None) -> Container:
    """Parse ``.vqc`` bytes.

    Args:
        data: The complete file contents.
        coders: Entropy coders by their tables' hash, for version-2 streams.

    Returns:
        The decoded container; codes are int64 arrays.

    Raises:
        ContainerError: If the bytes are not a valid ``.vqc`` stream.
    """
    data = bytes(data)
    version = _check_prefix(data)
    # CRC before any header field, so damage anywhere reads as a checksum error.
    body_end = _PREFIX_LEN + data[_PREFIX_LEN - 1]
    if body_end > len(data) - _CRC_LEN:
        raise ContainerError(_BAD_HEADER)
    header = _parse_header(data[_PREFIX_LEN:body_end], version == ENTROPY_VERSION)
    payload = data[body_end:-_CRC_LEN]
    if header.tables_hash is None:
        levels = _decode_payload(payload, header)
    else:
        levels = _entropy_decode(payload, header, _coder_for(header.tables_hash, coders))
    return Container(
        header.model_name,
        header.model_hash,
        header.sample_rate,
        header.channels,
        header.num_samples,
        levels,
        header.tables_hash,
    )


def peek(data: bytes) -> Container:
    """The header of ``.vqc`` bytes (checksum checked) as a container whose levels hold no codes:
    ``[channels, n_codebooks, 0]`` arrays. Needs no coder, so it says which tables a stream needs."""
    data = bytes(data)
    version = _check_prefix(data)
    body_end = _PREFIX_LEN + data[_PREFIX_LEN - 1]
    if body_end > len(data) - _CRC_LEN:
        raise ContainerError(_BAD_HEADER)
    h = _parse_header(data[_PREFIX_LEN:body_end], version == ENTROPY_VERSION)
    levels = tuple(Level(np.zeros((h.channels, s.n_codebooks, 0), np.int64), s.bits) for s in h.specs)
    return Container(h.model_name, h.model_hash, h.sample_rate, h.channels, h.num_samples, levels, h.tables_hash)


def _coder_for(tables_hash: bytes, coders: Mapping[bytes, Coder] | None) -> Coder:
    coder = None if coders is None else coders.get(tables_hash)  # a lazy mapping: no len() asked
    if coder is None:
        raise ContainerError(
            f"entropy-coded with tables {tables_hash.hex()}, which this reader does not have "
            "(made by another model or vqcodec version)"
        )
    return coder


def _entropy_decode(payload: bytes, header: _Header, coder: Coder) -> tuple[Level, ...]:
    """Decode an opaque payload with ``coder``, then check every code's shape and range."""
    shapes = [(header.channels, s.n_codebooks, s.frames) for s in header.specs]
    try:
        arrays = coder.decode(payload, shapes)
    except ValueError as e:
        raise ContainerError(f"corrupt .vqc file: {e}") from None
    if len(arrays) != len(shapes):
        raise ContainerError("corrupt .vqc file: the coder returned the wrong number of levels")
    levels = []
    for codes, shape, spec in zip(arrays, shapes, header.specs, strict=True):
        codes = np.asarray(codes, dtype=np.int64)
        if codes.shape != shape or (codes.size and (codes.min() < 0 or codes.max() >= 2**spec.bits)):
            raise ContainerError("corrupt .vqc file: a decoded code is out of its level's range")
        levels.append(Level(codes=codes, bits=spec.bits))
    return tuple(levels)


def read_file(path: str | os.PathLike[str], coders: Mapping[bytes, Coder] | None = None) -> Container:
    """Read a ``.vqc`` file; see :func:`read`.

    Raises:
        ContainerError: If the file is not a valid ``.vqc`` stream.
        OSError: If the file cannot be read.
    """
    return read(Path(path).read_bytes(), coders)


def _check_prefix(data: bytes) -> int:
    """Check magic, version, minimum length and checksum, in that order; return the version."""
    if len(data) < len(MAGIC) + 1 or data[: len(MAGIC)] != MAGIC:
        raise ContainerError(_BAD_MAGIC)
    version = data[len(MAGIC)]
    if version not in VERSIONS:
        readable = " and ".join(str(v) for v in VERSIONS)
        raise ContainerError(f"unsupported .vqc format version {version} (this vqcodec reads versions {readable})")
    if len(data) < _PREFIX_LEN + _CRC_LEN:
        raise ContainerError(_BAD_HEADER)
    stored = int.from_bytes(data[-_CRC_LEN:], "big")
    if zlib.crc32(data[:-_CRC_LEN]) != stored:
        raise ContainerError(_BAD_CRC)
    return version


def _parse_header(body: bytes, entropy: bool = False) -> _Header:
    """Parse and range-check a header body that must be consumed exactly."""
    cursor = _Cursor(body)
    name = _decode_name(cursor.take(_in_range(cursor.u8(), 1, _MAX_NAME_LEN)))
    model_hash = cursor.take(_HASH_LEN)
    sample_rate = _in_range(cursor.uvarint(), 1, _MAX_VARINT_VALUE)
    channels = _in_range(cursor.u8(), 1, _MAX_U8)
    num_samples = cursor.uvarint()
    n_levels = _in_range(cursor.u8(), 1, _MAX_LEVELS)
    specs = tuple(_parse_spec(cursor) for _ in range(n_levels))
    tables_hash = cursor.take(_HASH_LEN) if entropy else None
    if not cursor.at_end():
        raise ContainerError(_BAD_HEADER)
    return _Header(name, model_hash, sample_rate, channels, num_samples, specs, tables_hash)


def _parse_spec(cursor: _Cursor) -> _LevelSpec:
    """Parse one level's n_codebooks, bits and frames."""
    n_codebooks = cursor.u8()
    bits = _in_range(cursor.u8(), 1, bitpack.MAX_BITS)
    return _LevelSpec(n_codebooks=n_codebooks, bits=bits, frames=cursor.uvarint())


def _decode_name(raw: bytes) -> str:
    """Decode an ASCII model name."""
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise ContainerError(_BAD_HEADER) from None


def _in_range(value: int, low: int, high: int) -> int:
    """Return ``value`` if within ``[low, high]``, else refuse the header."""
    if not low <= value <= high:
        raise ContainerError(_BAD_HEADER)
    return value


def _decode_payload(payload: bytes, header: _Header) -> tuple[Level, ...]:
    """Split the payload bit stream into levels.

    The size implied by the header is compared, with Python ints, to the
    bytes actually present before anything is unpacked, so a crafted header
    cannot trigger an allocation larger than the input.
    """
    total_bits = header.payload_bits()
    expected = -(-total_bits // 8)
    if len(payload) != expected:
        raise ContainerError(f"corrupt .vqc file: payload is {len(payload)} bytes, header implies {expected}")
    stream = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
    if stream[total_bits:].any():  # keeps the encoding canonical
        raise ContainerError("corrupt .vqc file: nonzero padding bits")
    levels, start = [], 0
    for spec in header.specs:
        count = header.channels * spec.n_codebooks * spec.frames
        codes = bitpack.from_bits(stream[start:], spec.bits, count)
        shape = (header.channels, spec.n_codebooks, spec.frames)
        levels.append(Level(codes=codes.reshape(shape), bits=spec.bits))
        start += count * spec.bits
    return tuple(levels)


_HEADER_FIELDS = ("model_name", "model_hash", "sample_rate", "channels", "num_samples", "specs")


class _Cursor:
    """Forward-only reader over a header body; overruns refuse the header."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, n: int) -> bytes:
        """Return the next ``n`` bytes."""
        end = self._pos + n
        if end > len(self._data):
            raise ContainerError(_BAD_HEADER)
        chunk, self._pos = self._data[self._pos : end], end
        return chunk

    def u8(self) -> int:
        """Return the next byte as an int."""
        return self.take(1)[0]

    def uvarint(self) -> int:
        """Return the next LEB128 varint, capped in length and value."""
        value = 0
        for index in range(_MAX_VARINT_BYTES):
            byte = self.u8()
            value |= (byte & 0x7F) << (7 * index)
            if not byte & 0x80:
                return _in_range(value, 0, _MAX_VARINT_VALUE)
        raise ContainerError(_BAD_HEADER)

    def at_end(self) -> bool:
        """Whether every byte has been consumed."""
        return self._pos == len(self._data)
