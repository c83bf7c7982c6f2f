"""Each weight stored once: a graph's initializers become references into the safetensors file it was exported
from (ONNX external data: a file beside the graph, an offset and a length), so the package holds the float16
weights once and onnxruntime reads them from that file when it loads the graph.

A weight the exporter stored as it is refers to its bytes with a Cast to float32 after it; one it stored
transposed (a linear layer's matrix, folded into ``x @ W.T``) gets a Transpose after the Cast. onnxruntime
folds both when it loads the graph, so the graph computes on exactly the float32 values of the float16 weights,
as the torch runtime does. A weight stored as int8 (:mod:`vqcodec.io.int8`) refers to its int8 bytes and to its
scales, with a Cast and a Mul after them (and the Transpose last): onnxruntime folds those too, into the same
float32 values the torch runtime multiplies out when it loads the file. Initializers found nowhere in the file
(values the exporter derived) stay inside.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from vqcodec.io.int8 import SCALE

_DTYPES = {
    "F16": (np.float16, onnx.TensorProto.FLOAT16),
    "F32": (np.float32, onnx.TensorProto.FLOAT),
    "I8": (np.int8, onnx.TensorProto.INT8),
}


@dataclass(frozen=True)
class Stored:
    """Where a weight's bytes are in the file: ``[offset, offset + length)``, ``dtype`` (an ONNX type) and
    ``shape`` as stored; ``transposed``: the graph wants the 2-D matrix transposed; ``scale``: where an int8
    weight's scales are."""

    offset: int
    length: int
    dtype: int
    shape: tuple[int, ...]
    transposed: bool = False
    scale: Stored | None = None


def _key(values: np.ndarray) -> tuple:
    """Identity of float values (shape and float32 bytes): two tensors with one key are the same weight."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    return values.shape, hashlib.sha256(values.tobytes()).digest()


@dataclass(frozen=True)
class Weights:
    """A safetensors file the graphs will read: its ``name`` (the graphs lie beside it) and :func:`index`."""

    name: str
    index: dict[tuple, Stored]

    @classmethod
    def of(cls, path: str | Path) -> Weights:
        return cls(Path(path).name, index(path))


def index(path: str | Path) -> dict[tuple, Stored]:
    """Every float tensor of the safetensors file ``path`` (an int8 one as the values it stands for), and the
    transpose of each matrix, by :func:`_key`."""
    data = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header, base = json.loads(data[8 : 8 + size]), 8 + size
    tensors = {
        name: _tensor(data, base, entry)
        for name, entry in header.items()
        if name != "__metadata__" and entry["dtype"] in _DTYPES
    }
    index = {}
    for name, (stored, values) in sorted(tensors.items()):
        if stored.dtype == onnx.TensorProto.INT8:
            if name + SCALE not in tensors:
                continue
            scale, scales = tensors[name + SCALE]
            stored, values = dataclasses.replace(stored, scale=scale), values.astype(np.float32) * scales
        index.setdefault(_key(values), stored)
        if values.ndim == 2:
            index.setdefault(_key(values.T), dataclasses.replace(stored, transposed=True))
    return index


def _tensor(data: bytes, base: int, entry: dict) -> tuple[Stored, np.ndarray]:
    """One safetensors header entry: where its bytes are, and its values (a view of ``data``)."""
    dtype, onnx_type = _DTYPES[entry["dtype"]]
    begin, end = entry["data_offsets"]
    shape = tuple(entry["shape"])
    values = np.frombuffer(data, dtype, (end - begin) // np.dtype(dtype).itemsize, base + begin).reshape(shape)
    return Stored(base + begin, end - begin, onnx_type, shape), values


def link(model: onnx.ModelProto, weights: Weights) -> int:
    """Replace each float32 initializer of ``model`` found in ``weights`` by a reference into that file (beside
    the graph) and the nodes that turn it back into what the graph wants. Returns how many."""
    graph, kept, nodes, linked = model.graph, [], [], 0
    for init in graph.initializer:
        stored = (
            weights.index.get(_key(numpy_helper.to_array(init))) if init.data_type == onnx.TensorProto.FLOAT else None
        )
        if stored is None:
            kept.append(init)
            continue
        stored_name = init.name if stored.dtype == init.data_type and not stored.transposed else f"{init.name}_stored"
        kept.append(_external(stored_name, stored, weights.name))
        if stored.scale is not None:
            kept.append(_external(f"{init.name}_scale", stored.scale, weights.name))
        nodes += _restore(stored_name, init.name, stored)
        linked += 1
    del graph.initializer[:]
    graph.initializer.extend(kept)
    prepend(graph, nodes)
    return linked


def _external(name: str, s: Stored, location: str) -> onnx.TensorProto:
    t = onnx.TensorProto(name=name, data_type=s.dtype, dims=s.shape, data_location=onnx.TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", str(s.offset)), ("length", str(s.length))):
        t.external_data.add(key=key, value=value)
    return t


def _restore(stored_name: str, name: str, s: Stored) -> list[onnx.NodeProto]:
    """Nodes from the stored tensor to the float32 initializer the graph's nodes read (none if it is that):
    a transpose first, on the stored float16 (half the memory of a float32 copy while onnxruntime folds it);
    an int8 weight's Cast and Mul by its scales before its transpose."""
    if s.scale is not None:
        return _dequantize(stored_name, name, s)
    nodes, last = [], stored_name
    if s.transposed:
        last = name if s.dtype == onnx.TensorProto.FLOAT else f"{name}_transposed"
        nodes.append(helper.make_node("Transpose", [stored_name], [last], perm=[1, 0]))
    if s.dtype != onnx.TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", [last], [name], to=onnx.TensorProto.FLOAT))
    return nodes


def _dequantize(stored_name: str, name: str, s: Stored) -> list[onnx.NodeProto]:
    """An int8 weight's nodes: Cast to float32, Mul by its scales ``NAME_scale``, then Transpose if wanted."""
    dequantized = f"{name}_dequantized" if s.transposed else name
    nodes = [
        helper.make_node("Cast", [stored_name], [f"{name}_int"], to=onnx.TensorProto.FLOAT),
        helper.make_node("Mul", [f"{name}_int", f"{name}_scale"], [dequantized]),
    ]
    if s.transposed:
        nodes.append(helper.make_node("Transpose", [dequantized], [name], perm=[1, 0]))
    return nodes


def prepend(graph: onnx.GraphProto, nodes: list[onnx.NodeProto]) -> None:
    """Put ``nodes`` before every use: a graph's nodes are in topological order."""
    rest = [*nodes, *graph.node]
    del graph.node[:]
    graph.node.extend(rest)
