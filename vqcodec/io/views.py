"""A safetensors file's tensors as numpy views of one read of its bytes, with where each lies in the file. No
torch here: the light runtime feeds its graphs from these (:mod:`vqcodec.backends.fed`), and the exporter finds
the graphs' weights by them (:mod:`vqcodec.export.link`)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_DTYPES = {"F16": np.float16, "F32": np.float32, "I8": np.int8}


@dataclass(frozen=True)
class View:
    """One tensor: its ``values`` (read-only, a view of the file's bytes) and ``[offset, offset + length)``, where
    those bytes are in the file."""

    values: np.ndarray
    offset: int
    length: int


def views(path: str | Path) -> dict[str, View]:
    """Every float16, float32 and int8 tensor of the safetensors file ``path``, by name.

    Raises:
        ValueError: the header is not a safetensors header (a damaged file).
    """
    data = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header, base = json.loads(data[8 : 8 + size]), 8 + size
    out = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] not in _DTYPES:
            continue
        dtype = _DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        values = np.frombuffer(data, dtype, (end - begin) // np.dtype(dtype).itemsize, base + begin)
        out[name] = View(values.reshape(tuple(entry["shape"])), base + begin, end - begin)
    return out
