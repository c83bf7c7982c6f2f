"""Model weights on disk: safetensors (no pickle) with the config stored beside the tensors."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from vqcodec.errors import ConfigError, UserError
from vqcodec.io.atomic import atomic_path
from vqcodec.nn.config import ModelConfig
from vqcodec.nn.model import VQCodecModel

FORMAT = "vqcodec-model-1"


def save_model(model: VQCodecModel, path: str | os.PathLike, half: bool = True) -> None:
    """Write weights (float16 by default, to keep the package small) and config to ``path``."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if half:  # parameters only: statistics such as whitening variances can exceed float16's 65504
        params = {name for name, _ in model.named_parameters()}
        state = {
            k: v.half() if k in params and v.is_floating_point() and _fits_half(v) else v for k, v in state.items()
        }
    meta = {"format": FORMAT, "config": model.config.to_json()}
    with atomic_path(Path(path)) as tmp:
        save_file(state, tmp, metadata=meta)


def _fits_half(t: torch.Tensor) -> bool:
    return bool(t.abs().max() < torch.finfo(torch.float16).max) if t.numel() else True


def read_tagged(path: Path, fmt: str, kind: str) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """The metadata and tensors of a safetensors file whose metadata says ``format: fmt`` (no pickle);
    anything else is one error naming ``path`` as not a vqcodec ``kind`` file."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path}: not a vqcodec {kind} file ({e})") from None
    if meta.get("format") != fmt:
        raise UserError(f"{path}: not a vqcodec {kind} file (format {meta.get('format')!r})")
    return meta, state


def load_model(path: str | os.PathLike) -> VQCodecModel:
    """Build the model from the config stored in ``path`` and load its weights, in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such model file")
    meta, state = read_tagged(path, FORMAT, "model")
    if "config" not in meta:
        raise ConfigError(f"{path}: holds no model config")
    try:
        model = VQCodecModel.from_config(ModelConfig.from_json(meta["config"]))
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
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
