"""Training loop: ``vqcodec train CONFIG --data DIR --out DIR`` or ``python -m vqcodec.train``.

Writes ``OUT/checkpoint.pt`` (resumable, tensors and plain values only, loaded with
``weights_only=True``), ``OUT/model.safetensors`` (the shipped-model format) and ``OUT/log.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from vqcodec.atomic import atomic_path
from vqcodec.data import SegmentSampler, list_audio, load_corpus
from vqcodec.distributed import Context, barrier, setup
from vqcodec.errors import UserError
from vqcodec.losses import CompressedSpectralLoss, MultiScaleMelLoss
from vqcodec.model import VQCodecModel
from vqcodec.stats import codebook_stats
from vqcodec.train_config import TrainConfig, add_arguments, load_train_config
from vqcodec.weights import load_model, save_model


class Trainer:
    """Owns the model, optimiser, sampler and losses of one run."""

    def __init__(self, cfg: TrainConfig, sampler: SegmentSampler, out: Path, ctx: Context | None = None):
        torch.manual_seed(cfg.seed)  # the same initial weights on every rank
        self.cfg, self.sampler, self.out, self.ctx = cfg, sampler, out, ctx or Context()
        self.model = VQCodecModel.from_config(cfg.model).to(self.ctx.device).train()
        self.parallel = DistributedDataParallel(self.model) if self.ctx.world_size > 1 else self.model
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, betas=(0.8, 0.99), weight_decay=0.0)
        self.mel = MultiScaleMelLoss(cfg.model.sample_rate).to(self.ctx.device)
        self.spectral = CompressedSpectralLoss()
        self.step = 0
        self.counts = self._zero_counts()

    def _zero_counts(self) -> dict[str, torch.Tensor]:
        """Per level, [n_codebooks, K] counts of the codes chosen since the last log line."""
        c = self.cfg.model
        return {"top": torch.zeros(c.n_top, c.codebook_size), "bottom": torch.zeros(c.n_bottom, c.codebook_size)}

    def _count(self, level: str, codes: torch.Tensor) -> None:
        """Add codes [B, n_q, T] to the level's counts."""
        flat = codes.detach().transpose(0, 1).reshape(codes.shape[1], -1).cpu()  # [n_q, B*T]
        self.counts[level].scatter_add_(1, flat, torch.ones(flat.shape))

    def take_counts(self) -> dict[str, torch.Tensor]:
        counts, self.counts = self.counts, self._zero_counts()
        return counts

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then cosine from ``lr`` to ``lr_final``."""
        c = self.cfg
        if step < c.warmup:
            return c.lr * (step + 1) / c.warmup
        frac = min(1.0, (step - c.warmup) / max(1, c.steps - c.warmup))
        return c.lr_final + 0.5 * (c.lr - c.lr_final) * (1 + math.cos(math.pi * frac))

    def train_step(self) -> dict[str, float]:
        c = self.cfg
        x = self.sampler.batch(c.batch_size).to(self.ctx.device)  # [B, 1, T]
        out = self.parallel(x)
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
        self._count("top", out.top_codes)
        self._count("bottom", out.bottom_codes)
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


def _log_line(step: int, metrics: dict[str, float], counts: dict[str, torch.Tensor]) -> dict:
    """One log row: loss terms, speed, and per level the mean usage and perplexity of the codes actually
    chosen since the previous row (not the restart-reset usage EMA, which would flatter them)."""
    row = {"step": step, **{k: round(v, 5) for k, v in metrics.items()}}
    for level, table in counts.items():
        stats = [codebook_stats(c) for c in table]
        row[f"{level}_usage"] = round(sum(s.usage for s in stats) / len(stats), 4)
        row[f"{level}_perplexity"] = round(sum(s.perplexity for s in stats) / len(stats), 1)
    return row


def run(cfg: TrainConfig, data: Path, out: Path, resume: bool, init: str | None,
        ctx: Context | None = None) -> Trainer:
    """Train until ``cfg.steps``; returns the trainer. Under torchrun each rank draws its own batches
    (seed + rank) and rank 0 alone writes logs and checkpoints."""
    ctx = ctx or Context()
    if cfg.segment_frames * cfg.model.top_hop <= MultiScaleMelLoss.longest_window // 2:
        raise UserError(f"segments of {cfg.segment_frames * cfg.model.top_hop} samples are too short for the "
                        f"{MultiScaleMelLoss.longest_window}-point mel loss: raise segment_frames")
    out.mkdir(parents=True, exist_ok=True)
    clips = load_corpus(list_audio(data, cfg.split), cfg.model.sample_rate)
    if not clips:
        raise UserError(f"{data}: no audio files found")
    sampler = SegmentSampler(clips, cfg.segment_frames * cfg.model.top_hop, seed=cfg.seed + ctx.rank)
    trainer = Trainer(cfg, sampler, out, ctx)
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.exists():
        trainer.load_state(torch.load(ckpt, weights_only=True, map_location=ctx.device))
        if ctx.rank:  # the checkpoint holds rank 0's sampler state; the others draw their own
            sampler.set_state(SegmentSampler(clips, sampler.segment, seed=cfg.seed + ctx.rank + trainer.step).state())
    elif init:
        _init_from(trainer.model, init)
    if ctx.is_main:
        (out / "config.json").write_text(cfg.to_json())
    _loop(trainer, out / "log.jsonl")
    barrier()
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
    main = trainer.ctx.is_main
    with open(log_path if main else os.devnull, "a") as log:
        while trainer.step < cfg.steps:
            metrics = trainer.train_step()
            if main and (trainer.step % cfg.log_every == 0 or trainer.step == cfg.steps):
                metrics["audio_s_per_s"] = seconds * (trainer.step - done0) / (time.time() - t0)
                row = _log_line(trainer.step, metrics, trainer.take_counts())
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            if main and (trainer.step % cfg.ckpt_every == 0 or trainer.step == cfg.steps):
                trainer.save()


def main_args(args: argparse.Namespace) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_train_config(args.config, steps=args.steps, batch_size=args.batch_size)
    run(cfg, Path(args.data), Path(args.out), args.resume, args.init, setup(args.device))


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
