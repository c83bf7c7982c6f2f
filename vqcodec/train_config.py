"""Training recipe: the model config plus the optimisation settings, read from a JSON file."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from vqcodec.config import ModelConfig
from vqcodec.errors import UserError


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. ``segment_frames`` counts top frames (``model.top_hop`` samples each).

    The commitment weight warms up linearly from ``commit_start`` to ``commit_weight`` over
    ``commit_warmup`` steps: early on the encoder moves fast and codebooks are still being placed, and a
    strong pull towards bad codes would freeze it there.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    steps: int = 7000
    batch_size: int = 16
    segment_frames: int = 12
    lr: float = 1e-3
    lr_final: float = 1e-4
    warmup: int = 200
    grad_clip: float = 1.0
    mel_weight: float = 1.0
    spectral_weight: float = 1.0
    codebook_weight: float = 1.0
    commit_weight: float = 0.02
    commit_start: float = 0.002
    commit_warmup: int = 1000
    log_every: int = 25
    ckpt_every: int = 250
    seed: int = 0
    split: str = "train"

    def commit_at(self, step: int) -> float:
        frac = min(1.0, step / max(1, self.commit_warmup))
        return self.commit_start + frac * (self.commit_weight - self.commit_start)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def load_train_config(path: str | Path, **overrides) -> TrainConfig:
    """Read a recipe JSON: ``{"model": {...ModelConfig}, ...TrainConfig fields}``."""
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: cannot read training config ({e})") from None
    model = ModelConfig.from_json(json.dumps(raw.pop("model", {})))
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    if set(raw) - names:
        raise UserError(f"{path}: unknown training config fields {sorted(set(raw) - names)}")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(model=model, **raw)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="recipe JSON (see recipes/)")
    p.add_argument("--data", required=True, help="folder of audio (a manifest.csv there selects --split)")
    p.add_argument("--out", required=True, help="run folder: checkpoint, exported model, logs")
    p.add_argument("--steps", type=int, help="override the recipe's number of steps")
    p.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--init", help="fine-tune from a model file, or 'default' for the shipped model")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--device", help="cpu or cuda (default: cuda when available)")
