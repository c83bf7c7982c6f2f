"""DFT bases computed in the graph instead of stored in it: the STFT convolutions' bases
(:mod:`vqcodec.export.spectral`, the encoder's log mel input) are 1.6 MB each as float32 constants, and
a window, two index ranges and a cosine table make them.

A basis ``[2F, 1, N]`` is, in float64 and in this order of operations (as ``dft_basis`` and the modules
that use it compute it, so each product rounds as there), then rounded to float32::

    angle = 2 pi * k * n / N                      k < F = N / 2 + 1 rows, n < N columns
    rows  = [cos(angle); -sin(angle)] * scale * window / divisor

with ``scale = 1, divisor = 1`` for a forward transform and the inverse real DFT's weights (1, 2, ..., 2, 1)
and ``divisor = N`` for the inverse one (multiplying and dividing by 1 is exact, so both are one formula).
A graph constant is replaced only when one of the candidates here equals it exactly in torch. The graph
takes cos and sin from tables of ``2 pi m / N``, ``m = k n mod N`` (see :func:`_row_nodes`): within about
1e-13 of torch's values, so a few entries of the float32 basis round to the neighbouring float (the export
tests bound the effect on the decoded audio).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

from vqcodec.nn.dft import dft_basis


@dataclass(frozen=True)
class Basis:
    """One candidate basis: its ``window`` ``[N]`` float64 and whether it is the inverse transform's."""

    window: torch.Tensor
    inverse: bool

    def scale(self) -> torch.Tensor:
        """``[2F, 1]`` float64 weights of each row: 1, or the inverse real DFT's 1, 2, ..., 2, 1."""
        f = len(self.window) // 2 + 1
        scale = torch.ones(f, 1, dtype=torch.float64)
        if self.inverse:
            scale[1:-1] = 2.0
        return torch.cat([scale, scale])

    def divisor(self) -> float:
        return float(len(self.window)) if self.inverse else 1.0

    def tensor(self) -> torch.Tensor:
        """The basis in torch, ``[2F, 1, N]`` float32."""
        cos, sin = dft_basis(len(self.window))
        rows = torch.cat([cos, -sin]) * self.scale() * self.window[None] / self.divisor()
        return rows.float()[:, None]


def candidates(n_fft: int) -> list[Basis]:
    """The bases the codec builds for ``n_fft``: a float64 Hann window (the encoder's log mels) or a float32
    one (the heads', taken to float64), forward or inverse."""
    windows = (torch.hann_window(n_fft, dtype=torch.float64), torch.hann_window(n_fft).double())
    return [Basis(w, inverse) for w in windows for inverse in (False, True)]


def derive(model: onnx.ModelProto) -> int:
    """Replace each Constant node of ``model`` that is one of :func:`candidates` by nodes computing it (the
    rows ``[cos; -sin]`` computed once per size). Returns how many."""
    graph, nodes, sizes, replaced = model.graph, [], set(), 0
    for node in graph.node:
        basis = _match(node)
        if basis is None:
            nodes.append(node)
            continue
        n = len(basis.window)
        if n not in sizes:
            sizes.add(n)
            graph.initializer.extend(_row_inputs(n))
            nodes += _row_nodes(n)
        prefix = f"{node.output[0]}_basis"
        graph.initializer.extend(_basis_inputs(basis, prefix))
        nodes += _basis_nodes(basis, f"dft{n}_rows", prefix, node.output[0])
        replaced += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return replaced


def _match(node: onnx.NodeProto) -> Basis | None:
    if node.op_type != "Constant" or len(node.attribute) != 1 or node.attribute[0].name != "value":
        return None
    t = node.attribute[0].t
    if t.data_type != onnx.TensorProto.FLOAT or len(t.dims) != 3 or t.dims[1] != 1:
        return None
    n_fft = t.dims[2]
    if t.dims[0] != 2 * (n_fft // 2 + 1):
        return None
    value = torch.from_numpy(numpy_helper.to_array(t).copy())
    return next((b for b in candidates(n_fft) if torch.equal(b.tensor(), value)), None)


def _row_inputs(n: int) -> list[onnx.TensorProto]:
    """k ``[F, 1, 1]``, n ``[1, 1, N]``, N and N (int32), and the table ``[cos; -sin]`` of 2 pi m / N for m < N
    ``[2N]`` (float64)."""
    angle = 2 * math.pi * np.arange(n, dtype=np.float64) / n
    arrays = {
        "k": np.arange(n // 2 + 1, dtype=np.int32)[:, None, None],
        "n": np.arange(n, dtype=np.int32)[None, None],
        "n_fft": np.array(n, dtype=np.int32),
        "table": np.concatenate([np.cos(angle), -np.sin(angle)]),
    }
    return [numpy_helper.from_array(a, f"dft{n}_{name}") for name, a in arrays.items()]


def _row_nodes(n: int) -> list[onnx.NodeProto]:
    """``m = k n mod N; rows = table[[m; m + N]]``: ``[cos; -sin]`` of the angles, ``[2F, 1, N]`` float64,
    named ``dft{n}_rows``.

    The angle's multiple of 2 pi is taken out exactly in integers, so no cosine runs in the graph (onnxruntime
    before 1.18 has none for float64) and the values do not depend on onnxruntime's: they are numpy's of
    angles below 2 pi, within about 1e-13 of torch's ``dft_basis`` (whose angles reach 2000 radians). Few and
    small intermediates (int32 indices, one gather): onnxruntime holds every one while it folds them at load.
    """
    steps = [
        ("Mul", ["k", "n"], "kn"),
        ("Mod", ["kn", "n_fft"], "m"),
        ("Add", ["m", "n_fft"], "m_sin"),
        ("Concat", ["m", "m_sin"], "index"),
        ("Gather", ["table", "index"], "rows"),
    ]
    return [
        helper.make_node(op, [f"dft{n}_{i}" for i in ins], [f"dft{n}_{out}"], **({"axis": 0} if op == "Concat" else {}))
        for op, ins, out in steps
    ]


def _basis_inputs(basis: Basis, prefix: str) -> list[onnx.TensorProto]:
    arrays = {"window": basis.window.numpy()[None, None]}  # [1, 1, N]
    if basis.inverse:
        arrays |= {"scale": basis.scale().numpy()[:, None], "divisor": np.array(basis.divisor())}  # [2F, 1, 1]
    return [numpy_helper.from_array(a, f"{prefix}_{name}") for name, a in arrays.items()]


def _basis_nodes(basis: Basis, rows: str, prefix: str, output: str) -> list[onnx.NodeProto]:
    """``rows * scale * window / divisor`` to float32, ``[2F, 1, N]`` (a forward basis skips the scale and the
    divisor, both 1: multiplying and dividing by 1 is exact)."""

    def p(name: str) -> str:
        return f"{prefix}_{name}"

    nodes = []
    if basis.inverse:
        nodes.append(helper.make_node("Mul", [rows, p("scale")], [p("scaled")]))
        rows = p("scaled")
    nodes.append(helper.make_node("Mul", [rows, p("window")], [p("windowed")]))
    last = p("windowed")
    if basis.inverse:
        nodes.append(helper.make_node("Div", [last, p("divisor")], [p("basis64")]))
        last = p("basis64")
    nodes.append(helper.make_node("Cast", [last], [output], to=onnx.TensorProto.FLOAT))
    return nodes
