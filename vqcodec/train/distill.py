"""Distil a cheaper encoder from a trained model (issue 25): the student codes as the teacher does.

``python -m vqcodec.train.distill RECIPE --teacher default --data ../shared/speech --out runs/fast-encoder``

The student is the teacher with another waveform encoder (the recipe's ``encoder``: channels, strides and
ConvNeXt blocks; the hop stays the teacher's). The hierarchy (top encoder, quantizers, top decoder) and the
decoder are the teacher's, frozen; only the new encoder trains. It learns to give each quantizer what the
teacher's encoder gives it: the loss is the mean squared difference of the bottom latent, the top
quantizer's input and the bottom quantizer's input (conditioned on the student's own top codes), each over
the teacher's mean square. Where the student's inputs are the teacher's the codes are too, so the decoder,
the entropy tables and the prior keep working; the log says how often the first codebook of each level agrees.

The student's log-mel branch, its last convolution and its first ConvNeXt block start as the teacher's, and
so does each layer before that convolution that mirrors the teacher's (the same kind and shapes, counted back
from it: a student that only replaces the teacher's first layers keeps the others); the rest starts new, and
the extra ConvNeXt blocks start as identities.

Writes ``OUT/checkpoint.pt`` (resumable: tensors and plain values, read with ``weights_only=True``),
``OUT/model.safetensors`` (float32, the shipped-model format: pack, export and measure it as any model) and
``OUT/log.jsonl``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import torch

from vqcodec.errors import UserError
from vqcodec.io.atomic import atomic_path
from vqcodec.io.weights import load_model, save_model
from vqcodec.nn.config import ModelConfig
from vqcodec.nn.model import VQCodecModel
from vqcodec.threads import bounded_threads
from vqcodec.train.data import SegmentSampler, list_audio, load_corpus
from vqcodec.train.schedule import warmup_cosine


@dataclasses.dataclass(frozen=True)
class DistillConfig:
    """A distillation recipe (a JSON file with these fields).

    Args:
        encoder: the student's ``encoder_channels``, ``strides`` and ``encoder_blocks`` (ModelConfig fields).
        steps: optimiser steps.
        batch_size: segments per step.
        segment_frames: top-level frames per segment.
        lr, lr_final, warmup: linear warm-up to ``lr``, then a cosine down to ``lr_final``.
        edge_frames: top frames at each end of a segment left out of the loss (zero padding there differs).
        seed: of the segment sampler and the student's new weights.
        split: the corpus split trained on.
        log_every, ckpt_every: steps between log rows and between checkpoints.
    """

    encoder: dict
    steps: int = 4000
    batch_size: int = 16
    segment_frames: int = 16
    lr: float = 1e-3
    lr_final: float = 2e-5
    warmup: int = 200
    edge_frames: int = 1
    seed: int = 0
    split: str = "train"
    log_every: int = 25
    ckpt_every: int = 250

    ENCODER_FIELDS = ("encoder_channels", "strides", "encoder_blocks")

    @classmethod
    def from_json(cls, path: str | Path) -> DistillConfig:
        try:
            raw = json.loads(Path(path).read_text())
            config = cls(**raw)
        except (OSError, ValueError, TypeError) as e:
            raise UserError(f"{path}: not a distillation recipe ({e})") from None
        unknown = set(config.encoder) - set(cls.ENCODER_FIELDS)
        if unknown:
            raise UserError(f"{path}: encoder: unknown field {sorted(unknown)[0]!r} (known: {cls.ENCODER_FIELDS})")
        return config

    def lr_at(self, step: int) -> float:
        return warmup_cosine(step, self.lr, self.lr_final, self.warmup, self.steps)


def student_config(teacher: ModelConfig, encoder: dict) -> ModelConfig:
    """The teacher's config with the student's encoder fields; the hop must stay the teacher's."""
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in encoder.items()}
    config = dataclasses.replace(teacher, **fields)
    if math.prod(config.strides) != math.prod(teacher.strides):
        raise UserError(f"the student's strides {config.strides} must multiply to the teacher's hop")
    return config


def make_student(teacher: VQCodecModel, encoder: dict) -> VQCodecModel:
    """A model with the teacher's weights everywhere but its waveform encoder (see the module docstring)."""
    student = VQCodecModel.from_config(student_config(teacher.config, encoder))
    theirs = {k: v for k, v in teacher.state_dict().items() if not k.startswith("encoder.net.")}
    student.load_state_dict(theirs, strict=False)
    last = len(teacher.encoder.net) - teacher.config.encoder_blocks - 1  # the teacher's conv to the latent
    first_new = len(student.encoder.net) - student.config.encoder_blocks - 1
    pairs = [(first_new + i, last + i) for i in range(teacher.config.encoder_blocks + 1)]  # conv, blocks
    pairs += [(first_new - i, last - i) for i in range(1, min(first_new, last) + 1)]  # back from the conv
    for ours, theirs_index in pairs:
        _copy_if_alike(student.encoder.net[ours], teacher.encoder.net[theirs_index])
    for i in range(teacher.config.encoder_blocks, student.config.encoder_blocks):
        with torch.no_grad():
            student.encoder.net[first_new + 1 + i].scale.zero_()  # a new block adds nothing yet
    return student.eval()  # quantizers track no statistics; the encoder has no batch norm or dropout


def _copy_if_alike(ours: torch.nn.Module, theirs: torch.nn.Module) -> None:
    """Load ``theirs`` into ``ours`` when they are the same kind of layer with tensors of the same shapes (the
    student's layers that mirror the teacher's, counted back from the conv to the latent)."""
    a, b = ours.state_dict(), theirs.state_dict()
    if type(ours) is type(theirs) and a.keys() == b.keys() and all(a[k].shape == b[k].shape for k in a):
        ours.load_state_dict(b)


def freeze_all_but_encoder(student: VQCodecModel) -> list[torch.nn.Parameter]:
    """Only the waveform encoder trains; returns its parameters."""
    student.requires_grad_(False)
    return list(student.encoder.requires_grad_(True).parameters())


def quantizer_inputs(model: VQCodecModel, wav: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """[B, 1, T] -> the bottom latent [B, D, T_b], the top quantizer's input [B, D, T_t] and the bottom
    quantizer's input [B, D, T_b] (conditioned on the model's own top codes at every top codebook)."""
    h = model.encoder(wav)
    z_top, z_bottom = model.hierarchy.quantizer_inputs(h, model.config.n_top)
    return h, z_top, z_bottom


def distill_loss(
    teacher: VQCodecModel, student: VQCodecModel, wav: torch.Tensor, edge_frames: int = 0
) -> tuple[torch.Tensor, dict[str, float]]:
    """The student's loss on a batch ``[B, 1, T]`` and its parts; ``edge_frames`` top frames at each end left
    out. Metrics: each part, and the share of frames whose first top / bottom code is the teacher's."""
    with torch.no_grad():
        want = quantizer_inputs(teacher, wav)
    got = quantizer_inputs(student, wav)
    ratio = student.config.top_hop // student.config.hop
    edges = (edge_frames * ratio, edge_frames, edge_frames * ratio)
    parts = {}
    for name, g, w, e in zip(("latent", "top", "bottom"), got, want, edges, strict=True):
        g, w = (g[..., e : g.shape[-1] - e], w[..., e : w.shape[-1] - e]) if e else (g, w)
        parts[name] = (g - w).pow(2).mean() / w.pow(2).mean().clamp_min(1e-8)
    loss = sum(parts.values())
    metrics = {k: float(v.detach()) for k, v in parts.items()}
    with torch.no_grad():
        for name, q, i in (
            ("top", student.hierarchy.top_quantizer, 1),
            ("bottom", student.hierarchy.bottom_quantizer, 2),
        ):
            metrics[f"agree_{name}"] = float((q.encode(got[i], 1) == q.encode(want[i], 1)).float().mean())
    return loss, metrics


def train(config: DistillConfig, teacher_path: str, data: str, out: Path, threads: int, resume: bool) -> None:
    """Run ``config`` from ``teacher_path`` (a shipped model's name or a model file) on ``data``'s split into
    ``out`` (see the module docstring); with ``resume``, from ``out``'s checkpoint."""
    torch.manual_seed(config.seed)
    teacher = _load_teacher(teacher_path).eval()
    student = make_student(teacher, config.encoder)
    params = freeze_all_but_encoder(student)
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    sampler = _sampler(config, data, teacher.config)
    out.mkdir(parents=True, exist_ok=True)
    step = _resume(out, student, optimizer, sampler) if resume else 0
    torch.set_num_threads(bounded_threads(threads))
    seconds = config.batch_size * sampler.segment / teacher.config.sample_rate  # of audio per step
    with (out / "log.jsonl").open("a" if resume else "w") as log:  # a fresh run starts a fresh log
        while step < config.steps:
            start = time.perf_counter()
            metrics = _step(config, teacher, student, optimizer, params, sampler, step)
            step += 1
            if step % config.log_every == 0:
                _log(log, {"step": step, **metrics, "audio_s_per_s": seconds / (time.perf_counter() - start)})
            if step % config.ckpt_every == 0 or step == config.steps:
                _checkpoint(out, student, optimizer, sampler, step)


def _sampler(config: DistillConfig, data: str, model: ModelConfig) -> SegmentSampler:
    paths = list_audio(data, config.split)
    if not paths:
        raise UserError(f"{data}: no audio in split {config.split!r}")
    segment = config.segment_frames * model.top_hop
    return SegmentSampler(load_corpus(paths, model.sample_rate), segment, seed=config.seed)


def _step(config: DistillConfig, teacher, student, optimizer, params, sampler: SegmentSampler, step: int) -> dict:
    """One optimiser step at ``step``'s learning rate; its loss, the loss's parts and the learning rate."""
    lr = config.lr_at(step)
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss, metrics = distill_loss(teacher, student, sampler.batch(config.batch_size), config.edge_frames)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    return {"loss": float(loss.detach()), **metrics, "lr": lr}


def _log(log, row: dict) -> None:
    log.write(json.dumps(row) + "\n")
    log.flush()
    print(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)


def _load_teacher(name: str) -> VQCodecModel:
    from vqcodec import pretrained

    shipped = pretrained.named(name)
    return load_model(shipped.weights if shipped is not None else name)


def _checkpoint(out: Path, student: VQCodecModel, optimizer, sampler: SegmentSampler, step: int) -> None:
    state = {"encoder": student.encoder.state_dict(), "optimizer": optimizer.state_dict(), "step": step}
    state["sampler"] = json.dumps(sampler.state())
    with atomic_path(out / "checkpoint.pt") as tmp:
        torch.save(state, tmp)
    save_model(student, out / "model.safetensors", precision="float32")


def _resume(out: Path, student: VQCodecModel, optimizer, sampler: SegmentSampler) -> int:
    ckpt = out / "checkpoint.pt"
    if not ckpt.is_file():
        raise UserError(f"{ckpt}: no checkpoint to resume (leave out --resume to start afresh)")
    state = torch.load(ckpt, weights_only=True)
    student.encoder.load_state_dict(state["encoder"])
    optimizer.load_state_dict(state["optimizer"])
    sampler.set_state(json.loads(state["sampler"]))
    return int(state["step"])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m vqcodec.train.distill", description=__doc__.splitlines()[0])
    p.add_argument("recipe", help="a distillation recipe (JSON; DistillConfig's fields)")
    p.add_argument("--teacher", default="default", help="a shipped model's name or a model file")
    p.add_argument("--data", required=True, help="a corpus folder or manifest (its train split)")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    args = p.parse_args(argv)
    try:
        train(DistillConfig.from_json(args.recipe), args.teacher, args.data, args.out, args.threads, args.resume)
    except UserError as e:
        sys.exit(f"vqcodec distill: {e}")


if __name__ == "__main__":
    main()
