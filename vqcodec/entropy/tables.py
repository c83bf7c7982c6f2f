"""Context-model tables on disk: integer frequency tables, their context maps, and the hash a file names.

One table set belongs to one model (by its 4-byte weights hash). For each level and codebook it holds:

- ``sources``: which earlier codes form the context of a code (see :mod:`vqcodec.entropy.context`);
- ``maps``: per source, a ``[K + 1]`` array sending an earlier code (``K`` = none, at an edge) to a class;
- ``freqs``: ``[n_classes_1 * n_classes_2 * ..., K]`` uint16 frequencies, each row summing to
  ``ROW_SUM`` = (2**24 - K) / 256.

The coder's probability of code ``k`` in a context is exactly ``(256 * freqs[ctx, k] + 1) / 2**24``: an
integer table with a floor of one unit, so no code ever has zero probability (see :mod:`.coder`).

Stored as safetensors of numpy arrays (no pickle), the layout and provenance as JSON metadata; a path ending
in ``.gz`` holds that file gzip-compressed (the shipped tables: 4.2 MB of mostly small counts, 1.9 MB
compressed, decompressed in a few tens of milliseconds when a process first codes; see
:mod:`vqcodec.entropy.rewrite`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_bytes
from safetensors.numpy import save as save_bytes

from vqcodec.errors import UserError
from vqcodec.io.atomic import atomic_path

FORMAT = "vqcodec-entropy-tables-1"
PRECISION = 24  # constriction's Categorical works with 24-bit fixed-point probabilities
SCALE = 256  # stored uint16 frequencies are scaled by this to 24 bits
SOURCES = ("prev", "above", "top")


def row_sum(codebook_size: int) -> int:
    """What every stored row sums to, so that ``SCALE * row + 1`` per code sums to exactly 2**24."""
    total = 2**PRECISION - codebook_size
    if codebook_size < 2 or total % SCALE:
        raise ValueError(f"codebook size {codebook_size}: tables need a multiple of {SCALE}, at most 2**16")
    return total // SCALE


@dataclass(frozen=True, eq=False)
class CodebookTable:
    """The context model of one codebook of one level.

    Attributes:
        sources: names of the earlier codes its context uses, each one of ``SOURCES``.
        maps: per source, ``[K + 1]`` int64 class of each earlier code (index ``K``: no code there).
        freqs: ``[prod(classes), K]`` uint16, rows summing to ``row_sum(K)``; row of a context is the
            mixed-radix number of its sources' classes, first source most significant.
    """

    sources: tuple[str, ...]
    maps: tuple[np.ndarray, ...]
    freqs: np.ndarray

    @property
    def classes(self) -> tuple[int, ...]:
        """Number of classes of each source."""
        return tuple(int(m.max()) + 1 for m in self.maps)


@dataclass(frozen=True, eq=False)
class Tables:
    """Context models of every codebook of every level of one model.

    Attributes:
        model_name: name of the model whose codes these tables fit.
        model_hash: that model's 4-byte weights hash.
        codebook_size: K, codes per codebook.
        ratio: frames of the fine level per frame of the coarse level.
        levels: per level (coarse to fine), per codebook, its table; a model with a pitch stream has a
            third "level" of one codebook, its pitch codes (coded after the bottom level of each channel).
    """

    model_name: str
    model_hash: bytes
    codebook_size: int
    ratio: int
    levels: tuple[tuple[CodebookTable, ...], ...]

    def level_ratio(self, i: int) -> int:
        """Frames of level ``i`` per coarse frame: 1 for the coarse level, ``ratio`` for every finer one (the
        bottom level, and the pitch stream, which shares the bottom's frames)."""
        return self.ratio ** min(i, 1)

    @property
    def hash(self) -> bytes:
        """4-byte identity of the tables, written into every stream they code."""
        h = hashlib.sha256(_layout(self).encode())
        for name, array in sorted(_arrays(self).items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(array).astype("<i8" if array.dtype.kind == "i" else "<u2").tobytes())
        return h.digest()[:4]

    def nbytes(self) -> int:
        return sum(a.nbytes for a in _arrays(self).values())


def _arrays(tables: Tables) -> dict[str, np.ndarray]:
    out = {}
    for i, level in enumerate(tables.levels):
        for j, table in enumerate(level):
            out[f"{i}.{j}.freqs"] = table.freqs
            for s, m in enumerate(table.maps):
                out[f"{i}.{j}.map{s}"] = m
    return out


def _layout(tables: Tables) -> str:
    return json.dumps(
        {
            "format": FORMAT,
            "model_name": tables.model_name,
            "model_hash": tables.model_hash.hex(),
            "codebook_size": tables.codebook_size,
            "ratio": tables.ratio,
            "sources": [[list(t.sources) for t in level] for level in tables.levels],
        },
        sort_keys=True,
    )


def save(tables: Tables, path: str | os.PathLike, provenance: dict | None = None) -> None:
    """Write ``tables`` to ``path`` atomically (maps as int16, frequencies as uint16; gzip-compressed if the
    name ends in ``.gz``, reproducibly: no time stamp)."""
    arrays = {
        k: (v.astype(np.int16) if k.rsplit(".", 1)[1].startswith("map") else v) for k, v in _arrays(tables).items()
    }
    meta = {"layout": _layout(tables), "provenance": json.dumps(provenance or {}, sort_keys=True)}
    data = _canonical(save_bytes(arrays, metadata=meta))
    if str(path).endswith(".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    with atomic_path(Path(path)) as tmp:
        Path(tmp).write_bytes(data)


def _canonical(data: bytes) -> bytes:
    """The safetensors bytes ``data`` with its JSON header's keys sorted: safetensors writes the metadata in
    hash-map order, which changes from run to run, and a committed file must be reproducible."""
    (size,) = struct.unpack("<Q", data[:8])
    header = json.dumps(json.loads(data[8 : 8 + size]), separators=(",", ":"), sort_keys=True).encode()
    header += b" " * (-len(header) % 8)  # the tensors' data starts 8-byte aligned
    return struct.pack("<Q", len(header)) + header + data[8 + size :]


def load(path: str | os.PathLike) -> Tables:
    """Read and check tables written by :func:`save`."""
    path = Path(path)
    try:
        meta, arrays = _read(path)
        layout = json.loads(meta["layout"])
    except (SafetensorError, OSError, EOFError, ValueError, KeyError, struct.error, zlib.error) as e:
        raise UserError(f"{path}: not a vqcodec entropy tables file ({e})") from None
    if layout.get("format") != FORMAT:
        raise UserError(f"{path}: not a vqcodec entropy tables file (format {layout.get('format')!r})")
    tables = _from_layout(layout, arrays)
    check(tables)
    return tables


def _read(path: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The metadata and arrays of a safetensors file, gzip-compressed or not (told by its first bytes)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    (size,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8 : 8 + size]).get("__metadata__") or {}
    return meta, load_bytes(data)


def provenance(path: str | os.PathLike) -> dict:
    """The provenance JSON stored with the tables (how they were fitted)."""
    return json.loads(_read(Path(path))[0].get("provenance", "{}"))


def _from_layout(layout: dict, arrays: dict[str, np.ndarray]) -> Tables:
    levels = []
    for i, level in enumerate(layout["sources"]):
        row = []
        for j, sources in enumerate(level):
            maps = tuple(arrays[f"{i}.{j}.map{s}"].astype(np.int64) for s in range(len(sources)))
            row.append(CodebookTable(tuple(sources), maps, arrays[f"{i}.{j}.freqs"]))
        levels.append(tuple(row))
    return Tables(
        layout["model_name"],
        bytes.fromhex(layout["model_hash"]),
        int(layout["codebook_size"]),
        int(layout["ratio"]),
        tuple(levels),
    )


def check(tables: Tables) -> None:
    """Raise ValueError unless every table is well formed: shapes, classes, dtypes and row sums."""
    k = tables.codebook_size
    total = row_sum(k)
    for level in tables.levels:
        for j, t in enumerate(level):
            _check_table(t, k, total, j)


def _check_table(t: CodebookTable, k: int, total: int, index: int) -> None:
    if not set(t.sources) <= set(SOURCES) or len(t.maps) != len(t.sources):
        raise ValueError(f"unknown context sources {t.sources}")
    if "above" in t.sources and index == 0:
        raise ValueError("the first codebook of a level has no codebook above it")
    for m in t.maps:
        if m.shape != (k + 1,) or m.min() < 0:
            raise ValueError("a context map must send each of K + 1 codes to a class >= 0")
    rows = int(np.prod(t.classes)) if t.maps else 1
    if t.freqs.dtype != np.uint16 or t.freqs.shape != (rows, k):
        raise ValueError(f"frequency table must be uint16 [{rows}, {k}], got {t.freqs.dtype} {t.freqs.shape}")
    if not np.all(t.freqs.sum(axis=1, dtype=np.int64) == total):
        raise ValueError(f"every frequency row must sum to {total}")
