"""Pack non-negative integers into a dense bit stream at a fixed width.

Each value is written most-significant bit first with exactly ``bits`` bits,
values follow one another without gaps, and the final byte is zero-padded.
Everything is vectorised with numpy: no Python loop runs per value.

``to_bits`` and ``from_bits`` expose the unpadded 0/1 bit arrays so that a
caller (the ``.vqc`` container) can join several widths into one stream and
pad only once at the very end.
"""

from __future__ import annotations

import numpy as np

MAX_BITS = 32

# Values go through a big-endian uint32 view, so a width needs this many of
# its trailing bytes; 8 * _BYTES_PER_VALUE == MAX_BITS.
_BYTES_PER_VALUE = 4


def packed_size(count: int, bits: int) -> int:
    """Number of bytes that ``count`` values of width ``bits`` occupy.

    Args:
        count: Number of values.
        bits: Width of each value in bits.

    Returns:
        ``ceil(count * bits / 8)``.
    """
    return -(-count * bits // 8)


def pack(values: np.ndarray, bits: int) -> bytes:
    """Pack integers MSB-first at a fixed width into bytes.

    Args:
        values: Integer array of any shape, read in C order.
        bits: Width of every value, 1..32.

    Returns:
        ``packed_size(values.size, bits)`` bytes, the last one zero-padded.

    Raises:
        ValueError: If ``bits`` is not in 1..32 or a value is outside
            ``[0, 2**bits)``.
        TypeError: If ``values`` is not an integer array.
    """
    return np.packbits(to_bits(values, bits)).tobytes()


def unpack(data: bytes, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack`.

    Args:
        data: Packed bytes; bits past ``count * bits`` are ignored.
        bits: Width of every value, 1..32.
        count: Number of values to read.

    Returns:
        int64 array of shape ``[count]``.

    Raises:
        ValueError: If ``bits`` or ``count`` is invalid, or ``data`` holds
            fewer than ``count * bits`` bits.
    """
    _check_width(bits)
    _check_count(count)
    # Check before unpacking: np.unpackbits would silently zero-fill.
    if len(data) * 8 < count * bits:
        raise ValueError(f"need {count * bits} bits for {count} values of {bits} bits, got {len(data) * 8}")
    stream = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=count * bits)
    return from_bits(stream, bits, count)


def to_bits(values: np.ndarray, bits: int) -> np.ndarray:
    """Expand integers into their MSB-first bits, without any padding.

    Args:
        values: Integer array of any shape, read in C order.
        bits: Width of every value, 1..32.

    Returns:
        uint8 array of 0/1 with ``values.size * bits`` entries.

    Raises:
        ValueError: If ``bits`` is not in 1..32 or a value does not fit.
        TypeError: If ``values`` is not an integer array.
    """
    flat = _validated(values, bits)
    width = _byte_width(bits)
    # Big-endian bytes so that unpackbits yields each value MSB first.
    as_bytes = flat.astype(">u4").view(np.uint8).reshape(-1, _BYTES_PER_VALUE)
    matrix = np.unpackbits(as_bytes[:, _BYTES_PER_VALUE - width :], axis=1)
    return matrix[:, 8 * width - bits :].ravel()


def check(values: np.ndarray, bits: int) -> None:
    """Raise as :func:`to_bits` would for ``values`` that do not fit ``bits``, without expanding them."""
    _validated(values, bits)


def from_bits(stream: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`to_bits`.

    Args:
        stream: 1-D array of 0/1 bits; entries past ``count * bits`` are ignored.
        bits: Width of every value, 1..32.
        count: Number of values to read.

    Returns:
        int64 array of shape ``[count]``.

    Raises:
        ValueError: If ``bits`` or ``count`` is invalid, or ``stream`` is
            shorter than ``count * bits``.
    """
    _check_width(bits)
    _check_count(count)
    if stream.size < count * bits:
        raise ValueError(f"need {count * bits} bits, got {stream.size}")
    width = _byte_width(bits)
    # Left-pad each value to whole bytes so packbits sees big-endian bytes.
    padded = np.zeros((count, 8 * width), dtype=np.uint8)
    padded[:, 8 * width - bits :] = stream[: count * bits].reshape(count, bits)
    return _join_bytes(np.packbits(padded, axis=1))


def _join_bytes(columns: np.ndarray) -> np.ndarray:
    """Combine a ``[count, width]`` big-endian byte matrix into int64 values."""
    out = np.zeros(columns.shape[0], dtype=np.int64)
    for column in columns.T:  # at most 4 iterations, one per byte
        out = (out << 8) | column
    return out


def _validated(values: np.ndarray, bits: int) -> np.ndarray:
    """Flatten ``values`` in C order after checking width, dtype and range."""
    _check_width(bits)
    flat = np.asarray(values).ravel(order="C")
    if not np.issubdtype(flat.dtype, np.integer):
        raise TypeError(f"values must be integers, got dtype {flat.dtype}")
    # Python ints for the bounds: comparisons cannot overflow the dtype.
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= 1 << bits):
        raise ValueError(
            f"values must lie in [0, {1 << bits}) for {bits} bits, got range [{int(flat.min())}, {int(flat.max())}]"
        )
    return flat


def _check_width(bits: int) -> None:
    """Raise ValueError unless ``bits`` is an int in 1..MAX_BITS."""
    if not isinstance(bits, (int, np.integer)) or not 1 <= bits <= MAX_BITS:
        raise ValueError(f"bits must be an integer in 1..{MAX_BITS}, got {bits!r}")


def _check_count(count: int) -> None:
    """Raise ValueError unless ``count`` is a non-negative int."""
    if not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be a non-negative integer, got {count!r}")


def _byte_width(bits: int) -> int:
    """Whole bytes needed to hold one value of ``bits`` bits."""
    return -(-bits // 8)
