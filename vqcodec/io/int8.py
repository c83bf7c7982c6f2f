"""Weights stored as int8 with one scale per output channel: half the bytes of float16, for shipped models.

A float tensor ``W`` [C, ...] is stored as two tensors::

    NAME              int8 [C, ...]       q = round(W / s), within [-127, 127]
    NAME.int8_scale   float32 [C, 1, ...] s = max |W[c]| / 127 (1 where W[c] is all zero)

and read back as ``q * s`` in float32. Both runtimes compute with exactly those values: torch multiplies when
it loads the file (:func:`unpack`), the light runtime with numpy (:func:`dequantize_array`) before it feeds the
values to its graphs (:mod:`vqcodec.backends.fed`); one IEEE multiply each, so they agree bit for bit. Which
tensors are stored so is the caller's choice (:func:`vqcodec.io.weights.save_model`). Importing this module
does not import torch (the light install has none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

SCALE = ".int8_scale"
LEVELS = 127
MIN_SIZE = 1024  # smaller tensors (biases, norms' gains) stay float16: a scale per channel would not pay


def worth_packing(tensors: dict[str, torch.Tensor]) -> set[str]:
    """The names of ``tensors`` worth storing as int8: float matrices and kernels of at least ``MIN_SIZE``
    values (the caller leaves out any it must keep exact)."""
    return {n for n, t in tensors.items() if t.ndim >= 2 and t.numel() >= MIN_SIZE and t.is_floating_point()}


def quantize(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``w`` (a float tensor [C, ...]) -> (int8 values, float32 scales [C, 1, ...]) as described above."""
    import torch

    w = w.detach().float()
    peak = w.abs().amax(dim=tuple(range(1, w.ndim)), keepdim=True)
    scale = (peak / LEVELS).where(peak > 0, peak.new_ones(()))
    q = (w / scale).round().clamp(-LEVELS, LEVELS).to(torch.int8)
    return q.contiguous(), scale.contiguous()


def dequantize(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The float32 values an int8 tensor and its scales stand for: ``q * scale``."""
    return q.float() * scale.float()


def dequantize_array(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """:func:`dequantize` in numpy: the same float32 values, bit for bit, C-contiguous (``q`` and ``scale`` may
    be transposed views: the product is written in the order of their shape)."""
    return np.multiply(q, scale, dtype=np.float32, order="C")


def pack(state: dict[str, torch.Tensor], names: set[str]) -> dict[str, torch.Tensor]:
    """``state`` with each tensor named in ``names`` replaced by its int8 values and ``NAME.int8_scale``."""
    out = {}
    for name, t in state.items():
        if name in names:
            out[name], out[name + SCALE] = quantize(t)
        else:
            out[name] = t
    return out


def unpack(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state read from a file with every int8 tensor (one with a ``NAME.int8_scale`` beside it) turned back
    into float32 and its scale removed; other tensors as they are.

    Raises:
        ValueError: a scale that is not one float per output channel of an int8 tensor (a damaged file).
    """
    import torch

    for name, scale in state.items():
        if name.endswith(SCALE):
            q = state.get(name.removesuffix(SCALE))
            if q is None or q.dtype != torch.int8 or not scale.is_floating_point() or not _fits(scale, q):
                raise ValueError(f"{name} is not one scale per output channel of an int8 tensor")
    return {
        name: dequantize(t, state[name + SCALE]) if name + SCALE in state else t
        for name, t in state.items()
        if not name.endswith(SCALE)
    }


def _fits(scale: torch.Tensor, q: torch.Tensor) -> bool:
    """``scale`` is [C, 1, ...] for ``q`` [C, ...]."""
    return q.ndim >= 1 and tuple(scale.shape) == (q.shape[0],) + (1,) * (q.ndim - 1)
