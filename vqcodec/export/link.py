"""Each weight stored once: a graph's initializers become names the runtime feeds at load, from the safetensors
file the graph was exported from, so the package holds the weights once (int8 or float16) and no graph holds a
copy.

Each fed initializer stays in the graph as a float32 tensor marked as external data in that file, at the
offset and length of its stored bytes: the manifest (:mod:`vqcodec.backends.exported`) says which file tensor
it is and whether it is that tensor transposed (a linear layer's matrix, folded into ``x @ W.T``), and the
light runtime (:mod:`vqcodec.backends.fed`) hands onnxruntime the float32 values (an int8 tensor's ``q * s``,
a float16 one widened, as the torch runtime computes them) instead of letting it read the file. Its stored bytes
are not float32, so onnxruntime refuses a graph that nobody feeds instead of decoding garbage. Nothing is left
for onnxruntime to fold at load (format 2's graphs carried a Cast, a Mul and a Transpose per weight, and
folding them was most of a session's start-up). Initializers found nowhere in the file (values the exporter
derived) stay inside.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from vqcodec.io.int8 import SCALE, dequantize_array
from vqcodec.io.views import views


@dataclass(frozen=True)
class Stored:
    """A weight in the file: its ``tensor`` name, where its bytes are (``[offset, offset + length)``);
    ``transposed``: the graph wants the 2-D matrix transposed."""

    tensor: str
    offset: int
    length: int
    transposed: bool = False


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
    tensors = views(path)
    index = {}
    for name, v in sorted(tensors.items()):
        values, stored = v.values, Stored(name, v.offset, v.length)
        if values.dtype == np.int8:
            if name + SCALE not in tensors:
                continue
            values = dequantize_array(values, tensors[name + SCALE].values)
        index.setdefault(_key(values), stored)
        if values.ndim == 2:
            index.setdefault(_key(values.T), dataclasses.replace(stored, transposed=True))
    return index


def link(model: onnx.ModelProto, weights: Weights) -> dict[str, tuple[str, bool]]:
    """Make each float32 initializer of ``model`` found in ``weights`` a fed one (see the module docstring).
    Returns, per fed initializer, the file tensor it is and whether transposed (what the manifest records)."""
    fed = {}
    for init in model.graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        stored = weights.index.get(_key(numpy_helper.to_array(init)))
        if stored is None:
            continue
        init.CopyFrom(_external(init.name, list(init.dims), stored, weights.name))
        fed[init.name] = (stored.tensor, stored.transposed)
    return fed


def _external(name: str, dims: list[int], s: Stored, location: str) -> onnx.TensorProto:
    """A float32 initializer marked as ``location``'s bytes at the stored weight's offset (fed, never read)."""
    t = onnx.TensorProto(
        name=name, data_type=onnx.TensorProto.FLOAT, dims=dims, data_location=onnx.TensorProto.EXTERNAL
    )
    for key, value in (("location", location), ("offset", str(s.offset)), ("length", str(s.length))):
        t.external_data.add(key=key, value=value)
    return t


def prepend(graph: onnx.GraphProto, nodes: list[onnx.NodeProto]) -> None:
    """Put ``nodes`` before every use: a graph's nodes are in topological order."""
    rest = [*nodes, *graph.node]
    del graph.node[:]
    graph.node.extend(rest)
