"""``vqcodec sample``: audio drawn from the prior. Top codes, then bottom codes given the top, then the
codec's decoder; or a file's own top codes with sampled bottom codes (``--keep-top``): what the bottom
level carries, made audible.

    vqcodec sample -o out.wav --seconds 5 --seed 1
    vqcodec sample --keep-top speech.vqc -o out.wav --seed 1

Deterministic for a seed (on one machine and thread count: the sampler draws from torch's CPU generator).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from vqcodec.errors import UserError
from vqcodec.prior.model import Prior


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", required=True, help="audio file to write (.wav, .flac or .ogg)")
    p.add_argument("--seconds", type=float, default=5.0, help="length to sample (default 5; not with --keep-top)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--keep-top", metavar="VQC", help="keep this file's top codes (and pitch stream) and sample only the bottom"
    )
    p.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (default 1)")
    p.add_argument("--prior", help="prior file (default: the one shipped for the model)")
    p.add_argument("-m", "--model", help="codec model file or a shipped model's name (default: the shipped model)")
    p.add_argument("-f", "--force", action="store_true", help="replace an existing output file")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: the cores not already busy)")


_MAX_SEED = 2**64 - 1  # what torch's generator takes


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse, in one line, what the sampler cannot use: before any model loads."""
    if not 0 < args.seconds <= 600:  # NaN fails too
        raise UserError(f"--seconds must be in (0, 600], not {args.seconds:g}")
    if not (math.isfinite(args.temperature) and args.temperature > 0):
        raise UserError(f"--temperature must be a positive number, not {args.temperature:g}")
    if not 0 <= args.seed <= _MAX_SEED:
        raise UserError(f"--seed must be in 0..2**64-1, not {args.seed}")


def sample_top(prior: Prior, frames: int, generator: torch.Generator, temperature: float = 1.0) -> torch.Tensor:
    """``[1, n_top, frames]`` top codes drawn from the top prior."""
    return prior.top.sample(frames, prior.config.n_top, generator, temperature=temperature)


def sample_bottom(
    prior: Prior, top: torch.Tensor, n_bottom: int, generator: torch.Generator, temperature: float = 1.0
) -> torch.Tensor:
    """``[1, n_bottom, ratio * T]`` bottom codes drawn given ``top`` ``[1, n_top, T]``."""
    frames = prior.config.ratio * top.shape[-1]
    with torch.no_grad():
        cond = prior.condition(top, frames)
    return prior.bottom.sample(frames, n_bottom, generator, cond=cond, temperature=temperature)


def main_args(args: argparse.Namespace) -> None:
    import vqcodec
    from vqcodec.codes import Codes
    from vqcodec.compress import read_codes
    from vqcodec.io.audio import output_format, write_audio
    from vqcodec.prior.weights import load_prior, prior_for

    output_format(args.output)  # a format we write, before any work
    if Path(args.output).exists() and not args.force:
        raise UserError(f"{args.output}: already exists (use --force to replace it)")
    check_arguments(args)
    codec = vqcodec.load(args.model)
    prior, facts = load_prior(args.prior if args.prior else prior_for(args.model))
    if facts.get("model_hash") != codec.hash.hex():
        raise UserError(f"the prior was trained on codes of model {facts.get('model_hash')}, not {codec.hash.hex()}")
    generator = torch.Generator().manual_seed(args.seed)
    if args.keep_top:
        given = read_codes(args.keep_top)
        top, rate, samples = given.top[:1], given.sample_rate, given.num_samples  # its first channel
        pitch = None if given.pitch is None else given.pitch[:1]  # its pitch stream too, if it has one
    else:
        rate = codec.sample_rate
        samples = round(args.seconds * rate)
        if samples < 1:
            raise UserError(f"--seconds {args.seconds:g} is less than one sample at {rate} Hz")
        top = sample_top(prior, math.ceil(samples / codec.config.top_hop), generator, args.temperature)
        pitch = None  # the decoder's predicted F0 drives its source
    bottom = sample_bottom(prior, top, prior.config.n_bottom, generator, args.temperature)
    codes = Codes(top, bottom, rate, samples, codec.name, codec.hash, pitch)
    try:
        codec.check(codes)
    except ValueError as e:
        raise UserError(f"{args.keep_top}: {e}") from None
    write_audio(args.output, codec.decode(codes).numpy(), rate)
    if not args.quiet:
        print(f"{args.output}: {samples / rate:.2f} s sampled (seed {args.seed})")
