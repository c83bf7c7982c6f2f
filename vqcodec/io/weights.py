"""Model weights on disk: safetensors (no pickle) with the config stored beside the tensors.

Parameters are stored in float16 (``vqcodec-model-1``), or, for a shipped model, its large matrices and kernels
in int8 with a scale per output channel (``vqcodec-model-2``, :mod:`vqcodec.io.int8`); reading gives float32.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from vqcodec.errors import ConfigError, UserError
from vqcodec.io import int8
from vqcodec.io.atomic import atomic_path
from vqcodec.nn.config import ModelConfig
from vqcodec.nn.model import VQCodecModel

FORMAT = "vqcodec-model-1"
FORMAT_INT8 = "vqcodec-model-2"  # int8 tensors with scales: a reader that knows them, or a clear refusal
PRECISIONS = ("float32", "float16", "int8")


def save_model(model: VQCodecModel, path: str | os.PathLike, precision: str = "float16") -> None:
    """Write weights and config to ``path``. ``precision``: of the parameters; float16 by default, to keep the
    package small; int8 (:func:`int8_names`) halves a shipped model again. Statistics (buffers) stay as they
    are: whitening variances can exceed float16's 65504."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    packed = int8_names(model) if precision == "int8" else set()
    if precision != "float32":
        params = {name for name, _ in model.named_parameters()} - packed
        state = {
            k: v.half() if k in params and v.is_floating_point() and _fits_half(v) else v for k, v in state.items()
        }
    meta = {"format": FORMAT_INT8 if packed else FORMAT, "config": model.config.to_json()}
    with atomic_path(Path(path)) as tmp:
        save_file(int8.pack(state, packed), tmp, metadata=meta)


def int8_names(model: VQCodecModel) -> set[str]:
    """The parameters stored as int8 in an int8 file: matrices and kernels of at least ``int8.MIN_SIZE``
    values, except the quantizers' codebooks (the encoder's nearest-neighbour search: kept as trained)."""
    params = {name: p for name, p in model.named_parameters() if "codebook" not in name}
    return int8.worth_packing(params)


def _fits_half(t: torch.Tensor) -> bool:
    return bool(t.abs().max() < torch.finfo(torch.float16).max) if t.numel() else True


def read_tagged(path: Path, fmt: str | tuple[str, ...], kind: str) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """The metadata and tensors of a safetensors file whose metadata says ``format: fmt`` (or one of them; no
    pickle); anything else is one error naming ``path`` as not a vqcodec ``kind`` file."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path}: not a vqcodec {kind} file ({e})") from None
    if meta.get("format") not in ((fmt,) if isinstance(fmt, str) else fmt):
        raise UserError(f"{path}: not a vqcodec {kind} file (format {meta.get('format')!r})")
    return meta, state


def load_model(path: str | os.PathLike) -> VQCodecModel:
    """Build the model from the config stored in ``path`` and load its weights, in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such model file")
    meta, state = read_tagged(path, (FORMAT, FORMAT_INT8), "model")
    if "config" not in meta:
        raise ConfigError(f"{path}: holds no model config")
    try:
        model = VQCodecModel.from_config(ModelConfig.from_json(meta["config"]))
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    if meta["format"] == FORMAT_INT8:
        try:
            state = int8.unpack(state)
        except ValueError as e:
            raise UserError(f"{path}: its weights are damaged ({e})") from None
    _load_state(model, {k: v.float() if v.is_floating_point() else v for k, v in state.items()}, path)
    return model.eval()


def _load_state(model: VQCodecModel, state: dict[str, torch.Tensor], path: Path) -> None:
    """Load ``state`` into ``model``; weights that do not fit the config are one error naming a tensor."""
    ours = model.state_dict()
    missing, extra = sorted(set(ours) - set(state)), sorted(set(state) - set(ours))
    if missing or extra:
        which = f"lacks {missing[0]}" if missing else f"has {extra[0]}, which its config does not make"
        raise UserError(f"{path}: its weights do not fit its config: it {which}")
    for name, tensor in state.items():
        if tensor.shape != ours[name].shape:
            raise UserError(
                f"{path}: its weights do not fit its config: {name} is {tuple(tensor.shape)}, "
                f"the config makes {tuple(ours[name].shape)}"
            )
    model.load_state_dict(state)


def weights_hash(model: torch.nn.Module) -> bytes:
    """4-byte identity of a model's weights: SHA-256 over names, shapes and float32 values.

    Written into every .vqc file, so a stream is never decoded by a model other than its encoder's.
    """
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        if name.endswith(("usage", "steps", "num_batches_tracked")):  # bookkeeping: decoding ignores them
            continue
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().float().contiguous().numpy().tobytes())
    return h.digest()[:4]
