"""Prior weights on disk: safetensors (no pickle), config and provenance (the codec model's hash, the
token folders, the measured bits per code) as JSON metadata."""

from __future__ import annotations

import json
import os
from pathlib import Path

from safetensors.torch import save_file

from vqcodec.errors import UserError
from vqcodec.io.atomic import atomic_path
from vqcodec.io.weights import read_tagged
from vqcodec.prior.config import PriorConfig
from vqcodec.prior.model import Prior

FORMAT = "vqcodec-prior-1"


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


def save_prior(prior: Prior, path: str | os.PathLike, facts: dict) -> None:
    """Write float16 weights, the config and ``facts`` (must hold ``model_hash``) to ``path`` atomically."""
    state = {k: v.detach().cpu().half().contiguous() for k, v in prior.state_dict().items()}
    meta = {"format": FORMAT, "config": prior.config.to_json(), "facts": json.dumps(facts, sort_keys=True)}
    with atomic_path(Path(path)) as tmp:
        save_file(state, str(tmp), metadata=meta)


def load_prior(path: str | os.PathLike | None = None) -> tuple[Prior, dict]:
    """The prior at ``path`` (default: the shipped one) in eval mode, and its facts."""
    path = Path(path) if path is not None else default_prior_path()
    meta, state = read_tagged(path, FORMAT, "prior")
    prior = Prior(PriorConfig.from_json(meta["config"]))
    prior.load_state_dict({k: v.float() for k, v in state.items()})
    return prior.eval(), json.loads(meta.get("facts", "{}"))
