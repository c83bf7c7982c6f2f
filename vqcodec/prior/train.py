"""``vqcodec train-prior``: train the top and bottom priors on token shards, report bits per code on dev
tokens next to the context models of :mod:`vqcodec.entropy`, and write the prior file.

    vqcodec tokens ../shared/speech/train -o tokens/train -b 100
    vqcodec tokens ../shared/speech/dev -o tokens/dev -b 100
    vqcodec train-prior tokens/train --dev tokens/dev -o vqcodec/pretrained/default.prior.safetensors
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from vqcodec.errors import UserError
from vqcodec.prior.config import PriorConfig
from vqcodec.prior.data import Tokens, random_batch, read_tokens
from vqcodec.prior.model import Prior
from vqcodec.prior.weights import PRECISIONS, round_to_int8, save_prior


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "train", help="token folder of the training split (vqcodec tokens -b 100: the top rung, every codebook)"
    )
    p.add_argument("--dev", required=True, help="token folder to report bits per code on")
    p.add_argument("-o", "--output", required=True, help="prior file to write (.safetensors)")
    p.add_argument("--minutes", type=float, default=25.0, help="training time limit (default 25)")
    p.add_argument("--steps", type=int, default=100_000, help="step limit (default 100000: time decides)")
    p.add_argument("--batch", type=int, default=16, help="crops per step (default 16)")
    p.add_argument("--frames", type=int, default=24, help="top frames per crop (default 24: 1.9 s)")
    p.add_argument("--dim", type=int, default=PriorConfig.dim, help="model width (default 128)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--holdout", type=float, default=0.05, help="share of training utterances held out to keep the best step"
    )
    p.add_argument("--check-every", type=int, default=200, help="steps between held-out checks (default 200)")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="float16",
        help="stored weights (default float16; int8: half the bytes, rounded before dev is measured)",
    )
    p.add_argument("-f", "--force", action="store_true", help="replace an existing output file")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: the cores not already busy)")


def main_args(args: argparse.Namespace) -> None:
    from pathlib import Path

    if Path(args.output).exists() and not args.force:
        raise UserError(f"{args.output}: already exists (use --force to replace it)")
    train, dev = read_tokens(args.train), read_tokens(args.dev)
    if train.info.get("model_hash") != dev.info.get("model_hash"):
        raise UserError("train and dev tokens come from different models")
    prior, facts = fit(train, dev, args)
    save_prior(prior, args.output, facts, args.precision)
    print(f"{args.output}: top {facts['dev_bits']['top']:.3f}, bottom {facts['dev_bits']['bottom']:.3f} bits per code")


def config_of(tokens: Tokens, dim: int) -> PriorConfig:
    i = tokens.info
    return PriorConfig(int(i["codebook_size"]), int(i["n_top"]), int(i["n_bottom"]), tokens.ratio, dim)


def split(tokens: Tokens, share: float, rng: np.random.Generator) -> tuple[Tokens, Tokens | None]:
    """``tokens`` -> (training part, held-out part of about ``share`` of the utterances, or None)."""
    count = int(round(share * len(tokens.top)))
    if count < 1:
        return tokens, None
    held = set(rng.choice(len(tokens.top), size=count, replace=False).tolist())
    parts = [[i for i in range(len(tokens.top)) if (i in held) == side] for side in (False, True)]
    train, out = (Tokens([tokens.top[i] for i in p], [tokens.bottom[i] for i in p], tokens.info) for p in parts)
    return train, out


def fit(train: Tokens, dev: Tokens, args: argparse.Namespace) -> tuple[Prior, dict]:
    """Train until ``args.minutes`` or ``args.steps``, keeping the step with the fewest held-out bits
    (``args.holdout`` of the training utterances); returns the prior (eval mode) and its facts."""
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, held = split(train, getattr(args, "holdout", 0.0), rng)
    every = getattr(args, "check_every", 200)
    prior = Prior(config_of(train, args.dim))
    opt = torch.optim.AdamW(prior.parameters(), lr=args.lr, weight_decay=0.01)
    start, step, log, best = time.monotonic(), 0, [], (math.inf, 0, None)
    while (done := max(step / args.steps, (time.monotonic() - start) / (60 * args.minutes))) < 1:
        # linear warm-up over 200 steps, then a cosine over the step or time budget, whichever ends first
        lr = args.lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * done))
        bits = _train_step(prior, opt, random_batch(train, rng, args.batch, args.frames), lr)
        step += 1
        if step % 100 == 0:
            print(f"step {step}: top {bits[0]:.3f} bottom {bits[1]:.3f} bits/code (train batch)", flush=True)
        if held is not None and step % every == 0:
            best = _check(prior, held, step, best, log)
    if held is not None:
        if step % every or best[2] is None:  # the last step was not checked yet
            best = _check(prior, held, step, best, log)
        prior.load_state_dict(best[2])
    precision = getattr(args, "precision", "float16")
    if precision == "int8":
        round_to_int8(prior)
    prior.eval()
    minutes = (time.monotonic() - start) / 60
    facts = {
        "model": train.info.get("model"),
        "model_hash": train.info.get("model_hash"),
        "steps": step,
        "kept_step": best[1] if held is not None else step,
        "cpu_minutes": round(minutes, 1),
        "threads": torch.get_num_threads(),
        "precision": precision,
        "dev_bits": bits_per_code(prior, dev),
        "context_model_bits": context_bits(dev),
        "log": log,
    }
    print(f"dev bits per code: prior {facts['dev_bits']}, context models {facts['context_model_bits']}")
    return prior, facts


def _train_step(prior: Prior, opt: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...], lr: float):
    """One optimiser step on ``batch`` (top ``[B, n_top, T]``, bottom ``[B, n_b, ratio * T]``); returns the
    batch's bits per code of each level."""
    for group in opt.param_groups:
        group["lr"] = lr
    loss_top, loss_bottom = prior.losses(*batch)
    opt.zero_grad()
    (loss_top + loss_bottom).backward()
    torch.nn.utils.clip_grad_norm_(prior.parameters(), 1.0)
    opt.step()
    return loss_top.item() / math.log(2), loss_bottom.item() / math.log(2)


def _check(prior: Prior, held: Tokens, step: int, best: tuple, log: list) -> tuple:
    """Held-out bits per code now; the best (bits, step, state) so far."""
    prior.eval()
    bits = bits_per_code(prior, held)
    prior.train()
    log.append({"step": step, "held_out_bits": bits})
    print(f"step {step}: held-out top {bits['top']:.3f} bottom {bits['bottom']:.3f} bits/code", flush=True)
    total = bits["top"] + bits["bottom"]
    if total < best[0]:
        return total, step, {k: v.detach().clone() for k, v in prior.state_dict().items()}
    return best


@torch.no_grad()
def bits_per_code(prior: Prior, tokens: Tokens) -> dict[str, float]:
    """Mean bits per code of each level of every utterance of ``tokens`` under the prior."""
    sums, counts = {"top": 0.0, "bottom": 0.0}, {"top": 0, "bottom": 0}
    for top, bottom in zip(tokens.top, tokens.bottom, strict=True):
        t, b = torch.from_numpy(top)[None], torch.from_numpy(bottom)[None]
        lt, lb = prior.losses(t, b)
        for name, loss, x in (("top", lt, top), ("bottom", lb, bottom)):
            sums[name] += loss.item() * x.size / math.log(2)
            counts[name] += x.size
    return {name: round(sums[name] / counts[name], 3) for name in sums}


def context_bits(tokens: Tokens) -> dict[str, float] | None:
    """Bits per code of the same tokens under the shipped context tables of their model, if any."""
    from vqcodec import entropy
    from vqcodec.entropy.coder import level_bits

    coder = entropy.coder_for(bytes.fromhex(tokens.info.get("model_hash", "")))
    if coder is None:
        return None
    sums = [0.0, 0.0]
    for top, bottom in zip(tokens.top, tokens.bottom, strict=True):
        sums[0] += level_bits(coder.tables, 0, top, None)
        sums[1] += level_bits(coder.tables, 1, bottom, top)
    counts = [sum(x.size for x in tokens.top), sum(x.size for x in tokens.bottom)]
    return {"top": round(sums[0] / counts[0], 3), "bottom": round(sums[1] / counts[1], 3)}
