"""The weights the light runtime feeds an exported graph when it loads it (manifest format 3,
:mod:`vqcodec.export.link`): each fed initializer's float32 values, computed with numpy from the safetensors
file exactly as the torch runtime computes them (an int8 tensor's ``q * s``, a float16 one widened), and
transposed where the graph wants a matrix transposed. No torch here (the light install has none)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vqcodec.io.int8 import SCALE, dequantize_array
from vqcodec.io.views import View, views


def fed_values(weights: Path, fed: dict[str, tuple[str, bool]]) -> dict[str, np.ndarray]:
    """``fed`` (initializer -> (file tensor, transposed)) -> initializer -> float32 values, C-contiguous.

    Raises:
        KeyError: a tensor the manifest names is not in the file (the caller has checked the file's hash,
            so this is a damaged export).
    """
    tensors = views(weights)
    out = {}
    for init, (tensor, transposed) in fed.items():
        if tensor not in tensors:
            raise KeyError(f"no tensor {tensor!r} in the weights file")
        out[init] = _float32(tensors[tensor], tensors.get(tensor + SCALE), transposed)
    return out


def _float32(v: View, scale: View | None, transposed: bool) -> np.ndarray:
    """One file tensor as the float32 values it stands for, transposed into a new array if asked (one pass)."""
    values = v.values.T if transposed else v.values
    if scale is not None:
        return dequantize_array(values, scale.values.T if transposed else scale.values)
    return np.array(values, dtype=np.float32, order="C")
