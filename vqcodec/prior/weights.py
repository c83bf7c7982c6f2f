"""Prior weights on disk: safetensors (no pickle), config and provenance (the codec model's hash, the
token folders, the measured bits per code) as JSON metadata."""

from __future__ import annotations

import json
import os
from pathlib import Path

from safetensors.torch import save_file

from vqcodec.errors import UserError
from vqcodec.io import int8
from vqcodec.io.atomic import atomic_path
from vqcodec.io.weights import read_tagged
from vqcodec.prior.config import PriorConfig
from vqcodec.prior.model import Prior

FORMAT = "vqcodec-prior-1"
FORMAT_INT8 = "vqcodec-prior-2"  # int8 tensors with scales (vqcodec.io.int8): a reader that knows them
PRECISIONS = ("float16", "int8")


def default_prior_path() -> Path:
    """Path of the prior shipped for the default model (:attr:`vqcodec.pretrained.Shipped.prior`'s name)."""
    from vqcodec.pretrained import DEFAULT_STEM, PRIOR, default_model_path

    return default_model_path().with_name(DEFAULT_STEM + PRIOR)


def prior_for(model: str | os.PathLike | None) -> Path:
    """The prior shipped for ``model`` (None: the default model; or a shipped model's name).

    Raises:
        UserError: ``model`` is a model file (no prior ships with one), or no prior is shipped for it.
    """
    from vqcodec import pretrained

    found = pretrained.find(pretrained.DEFAULT_STEM) if model is None else pretrained.named(model)
    if found is None:
        raise UserError(f"{model}: no prior is shipped with a model file: give --prior FILE (vqcodec train-prior)")
    if not found.prior.is_file():
        raise UserError(f"no prior is shipped for model {found.name}: give --prior FILE (vqcodec train-prior)")
    return found.prior


def save_prior(prior: Prior, path: str | os.PathLike, facts: dict, precision: str = "float16") -> None:
    """Write the weights, the config and ``facts`` (must hold ``model_hash``) to ``path`` atomically.

    ``precision``: float16, or int8 for the matrices and embeddings (:func:`int8_names`; the rest float16),
    half the bytes again. Round the prior first (:func:`round_to_int8`) so that the facts measured on it hold.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    packed = int8_names(prior) if precision == "int8" else set()
    state = {k: v.detach().cpu().float().contiguous() for k, v in prior.state_dict().items()}
    state = {k: v if k in packed else v.half() for k, v in state.items()}
    meta = {
        "format": FORMAT_INT8 if packed else FORMAT,
        "config": prior.config.to_json(),
        "facts": json.dumps(facts, sort_keys=True),
    }
    with atomic_path(Path(path)) as tmp:
        save_file(int8.pack(state, packed), str(tmp), metadata=meta)


def int8_names(prior: Prior) -> set[str]:
    """The tensors an int8 prior file stores as int8: matrices and embeddings of at least ``int8.MIN_SIZE``
    values."""
    return int8.worth_packing(prior.state_dict())


def round_to_int8(prior: Prior) -> Prior:
    """``prior`` with the weights an int8 file stores replaced by the values that file will give back (in
    place; returned for chaining): what is measured on it afterwards is what the int8 file holds."""
    names = int8_names(prior)
    state = {k: v.detach().float() for k, v in prior.state_dict().items()}
    prior.load_state_dict(int8.unpack(int8.pack({k: state[k] for k in names}, names)), strict=False)
    return prior


def load_prior(path: str | os.PathLike | None = None) -> tuple[Prior, dict]:
    """The prior at ``path`` (default: the shipped one) in eval mode, and its facts."""
    path = Path(path) if path is not None else default_prior_path()
    meta, state = read_tagged(path, (FORMAT, FORMAT_INT8), "prior")
    try:
        state = int8.unpack(state)
    except ValueError as e:
        raise UserError(f"{path}: its weights are damaged ({e})") from None
    prior = Prior(PriorConfig.from_json(meta["config"]))
    prior.load_state_dict({k: v.float() for k, v in state.items()})
    return prior.eval(), json.loads(meta.get("facts", "{}"))
