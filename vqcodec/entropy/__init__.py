"""Entropy coding of codes: context-model tables and a range coder (numpy and constriction, no torch).

The bytes side of any runtime (torch or light) codes with it through the container::

    from vqcodec import entropy
    from vqcodec.io import container

    coder = entropy.coder_for(c.model_hash)          # the shipped tables of that model, or None
    data = container.write(c, coder=coder)           # version 2 (entropy-coded) if coder, else plain
    c = container.read(data, coders=entropy.coders())  # reads either version, bit-exactly
    entropy.bits_per_code(c)                         # {level index: bits per code} under its tables

Tables are fitted from token shards by ``python -m vqcodec.entropy.fit`` (see :mod:`.fit`) and ship as
``vqcodec/pretrained/STEM.tables.safetensors.gz`` (gzip-compressed safetensors) beside the model they belong
to (``default.tables.safetensors.gz`` for the default; each set names its model by its weights hash).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from vqcodec.entropy.coder import RangeCoder, StreamError
from vqcodec.entropy.tables import CodebookTable, Tables, load, save

TABLES_SUFFIX = ".tables.safetensors.gz"
DEFAULT_TABLES = "default" + TABLES_SUFFIX

__all__ = [
    "CodebookTable",
    "RangeCoder",
    "StreamError",
    "Tables",
    "bits_per_code",
    "coder_for",
    "coders",
    "default_tables_path",
    "load",
    "save",
]


def default_tables_path() -> Path:
    """Path of the shipped default model's tables."""
    from vqcodec.pretrained import default_model_path

    return default_model_path().with_name(DEFAULT_TABLES)


def _shipped() -> Iterator[RangeCoder]:
    """Coders of every table set shipped in the package (``STEM.tables.safetensors.gz``, one per shipped
    model that has them), each loaded on first need and kept for the process: a model's tables are found by
    its weights hash, not by its file's name."""
    from vqcodec.pretrained import folder

    for path in sorted(folder().glob("*" + TABLES_SUFFIX)):
        with _LOADING:  # a folder's files are coded on two threads: each table file is read once
            if path not in _LOADED:
                _LOADED[path] = RangeCoder(load(path))
        yield _LOADED[path]


_LOADED: dict[Path, RangeCoder] = {}
_LOADING = threading.Lock()


class _ShippedCoders(Mapping[bytes, RangeCoder]):
    """:func:`_shipped` by tables hash, loading no more files than a lookup needs."""

    def __getitem__(self, tables_hash: bytes) -> RangeCoder:
        coder = next((c for c in _shipped() if c.hash == tables_hash), None)
        if coder is None:
            raise KeyError(tables_hash)
        return coder

    def __iter__(self) -> Iterator[bytes]:
        return (c.hash for c in _shipped())

    def __len__(self) -> int:
        return sum(1 for _ in _shipped())


def coders() -> Mapping[bytes, RangeCoder]:
    """The shipped coders by their tables' hash: what :func:`vqcodec.io.container.read` takes. A lookup loads
    the shipped table files one at a time, in the order of their names, until one has the hash (a speech file
    never pays for the general model's tables)."""
    return _ShippedCoders()


def coder_for(model_hash: bytes) -> RangeCoder | None:
    """The shipped coder for the model with this weights hash, or None if none was fitted for it."""
    return next((c for c in _shipped() if c.tables.model_hash == model_hash), None)


def bits_per_code(c) -> dict[int, float] | None:
    """Bits per code of each level of a read ``container.Container`` under the tables it was coded with
    (for a plain stream, the tables of its model, or None when it has none)."""
    coder = coders().get(c.tables_hash) if c.tables_hash else coder_for(c.model_hash)
    if coder is None:
        return None
    levels = [lv.codes for lv in c.levels]
    return {i: bits / max(1, x.size) for i, (bits, x) in enumerate(zip(coder.bits(levels), levels, strict=True))}
