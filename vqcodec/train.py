"""Training loop: ``vqcodec train CONFIG --data DIR --out DIR`` or ``python -m vqcodec.train``.

Writes ``OUT/checkpoint.pt`` (resumable, tensors and plain values only, loaded with
``weights_only=True``), ``OUT/model.safetensors`` (the shipped-model format) and ``OUT/log.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

from vqcodec.atomic import atomic_path
from vqcodec.data import SegmentSampler, list_audio, load_corpus
from vqcodec.errors import UserError
from vqcodec.losses import CompressedSpectralLoss, MultiScaleMelLoss
from vqcodec.model import VQCodecModel
from vqcodec.stats import codebook_stats
from vqcodec.train_config import TrainConfig, load_train_config
from vqcodec.weights import load_model, save_model


class Trainer:
    """Owns the model, optimiser, sampler and losses of one run."""

    def __init__(self, cfg: TrainConfig, sampler: SegmentSampler, out: Path):
        torch.manual_seed(cfg.seed)
        self.cfg, self.sampler, self.out = cfg, sampler, out
        self.model = VQCodecModel.from_config(cfg.model).train()
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, betas=(0.8, 0.99), weight_decay=0.0)
        self.mel = MultiScaleMelLoss(cfg.model.sample_rate)
        self.spectral = CompressedSpectralLoss()
        self.step = 0

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then cosine from ``lr`` to ``lr_final``."""
        c = self.cfg
        if step < c.warmup:
            return c.lr * (step + 1) / c.warmup
        frac = min(1.0, (step - c.warmup) / max(1, c.steps - c.warmup))
        return c.lr_final + 0.5 * (c.lr - c.lr_final) * (1 + math.cos(math.pi * frac))

    def train_step(self) -> dict[str, float]:
        c = self.cfg
        x = self.sampler.batch(c.batch_size)  # [B, 1, T]
        out = self.model(x)
        mel, spec = self.mel(out.audio, x), self.spectral(out.audio, x)
        loss = (c.mel_weight * mel + c.spectral_weight * spec + c.codebook_weight * out.codebook_loss
                + c.commit_at(self.step) * out.commit_loss)
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(self.step)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        grad = torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip)
        self.opt.step()
        self.step += 1
        return {"loss": loss.item(), "mel": mel.item(), "spectral": spec.item(),
                "commit": out.commit_loss.item(), "codebook": out.codebook_loss.item(), "grad": grad.item()}

    def state(self) -> dict:
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                "config": self.cfg.to_json(), "torch_rng": torch.get_rng_state(),
                "sampler_rng": json.dumps(self.sampler.state())}

    def load_state(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.step = int(state["step"])
        torch.set_rng_state(state["torch_rng"])
        self.sampler.set_state(json.loads(state["sampler_rng"]))

    def save(self) -> None:
        """Checkpoint atomically (a crash never leaves a corrupt checkpoint), then export weights."""
        with atomic_path(self.out / "checkpoint.pt") as tmp:
            torch.save(self.state(), tmp)
        save_model(self.model, self.out / "model.safetensors")


def _log_line(step: int, metrics: dict[str, float], model: VQCodecModel) -> dict:
    row = {"step": step, **{k: round(v, 5) for k, v in metrics.items()}}
    for level, rvq in (("top", model.hierarchy.top_quantizer), ("bottom", model.hierarchy.bottom_quantizer)):
        stats = [codebook_stats(layer.usage) for layer in rvq.layers]
        row[f"{level}_usage"] = round(sum(s.usage for s in stats) / len(stats), 4)
        row[f"{level}_perplexity"] = round(sum(s.perplexity for s in stats) / len(stats), 1)
    return row


def run(cfg: TrainConfig, data: Path, out: Path, resume: bool, init: str | None) -> Trainer:
    """Train until ``cfg.steps``; returns the trainer."""
    out.mkdir(parents=True, exist_ok=True)
    clips = load_corpus(list_audio(data, cfg.split), cfg.model.sample_rate)
    if not clips:
        raise UserError(f"{data}: no audio files found")
    sampler = SegmentSampler(clips, cfg.segment_frames * cfg.model.top_hop, seed=cfg.seed)
    trainer = Trainer(cfg, sampler, out)
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.exists():
        trainer.load_state(torch.load(ckpt, weights_only=True))
    elif init:
        _init_from(trainer.model, init)
    (out / "config.json").write_text(cfg.to_json())
    _loop(trainer, out / "log.jsonl")
    return trainer


def _init_from(model: VQCodecModel, init: str) -> None:
    """Fine-tune: start from shipped weights (``default``) or a model file; configs must match."""
    from vqcodec.pretrained import default_model_path

    source = load_model(default_model_path() if init == "default" else init)
    if source.config != model.config:
        raise UserError(f"{init}: its model config differs from the recipe's")
    model.load_state_dict(source.state_dict())


def _loop(trainer: Trainer, log_path: Path) -> None:
    cfg = trainer.cfg
    seconds = cfg.batch_size * cfg.segment_frames * cfg.model.top_hop / cfg.model.sample_rate
    t0, done0 = time.time(), trainer.step
    with open(log_path, "a") as log:
        while trainer.step < cfg.steps:
            metrics = trainer.train_step()
            if trainer.step % cfg.log_every == 0 or trainer.step == cfg.steps:
                metrics["audio_s_per_s"] = seconds * (trainer.step - done0) / (time.time() - t0)
                row = _log_line(trainer.step, metrics, trainer.model)
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            if trainer.step % cfg.ckpt_every == 0 or trainer.step == cfg.steps:
                trainer.save()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="recipe JSON (see recipes/)")
    p.add_argument("--data", required=True, help="folder of audio (a manifest.csv there selects --split)")
    p.add_argument("--out", required=True, help="run folder: checkpoint, exported model, logs")
    p.add_argument("--steps", type=int, help="override the recipe's number of steps")
    p.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--init", help="fine-tune from a model file, or 'default' for the shipped model")
    p.add_argument("--threads", type=int, help="torch CPU threads")


def main_args(args: argparse.Namespace) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_train_config(args.config, steps=args.steps, batch_size=args.batch_size)
    run(cfg, Path(args.data), Path(args.out), args.resume, args.init)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vqcodec.train", description=__doc__.splitlines()[0])
    add_arguments(p)
    try:
        main_args(p.parse_args(argv))
    except UserError as e:
        print(f"vqcodec train: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
