"""Spectrograms of what the prior generates, for the README: the sample speech decoded by the codec, the same
file's top codes with bottom codes sampled by the prior (``vqcodec sample --keep-top``), and audio sampled
from nothing (``vqcodec sample --seconds``), each with the seed given.

    python benchmarks/prior_samples.py --seed 1 --out docs/prior.png

Writes the PNG and, beside it in ``--wav-dir`` (default ``bench_out/prior``), the three WAV files.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

import vqcodec
from vqcodec.analysis.plots import spectrogram_stack
from vqcodec.io.audio import read_audio, write_audio
from vqcodec.prior.sample import sample_bottom, sample_top
from vqcodec.prior.weights import load_prior
from vqcodec.resample import resampled_length

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "speech.wav"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--out", default="docs/prior.png")
    p.add_argument("--wav-dir", default="bench_out/prior")
    args = p.parse_args(argv)
    codec = vqcodec.load()
    prior, facts = load_prior()
    wav, sr = read_audio(SAMPLE)
    codes = codec.encode(wav, sr, codec.ladder()[-1].kbps)
    g = torch.Generator().manual_seed(args.seed)
    keep = codes.__class__(
        codes.top,
        sample_bottom(prior, codes.top, prior.config.n_bottom, g),
        sr,
        codes.num_samples,
        codec.name,
        codec.hash,
        codes.pitch,  # the file's pitch stream (if the model has one), like `vqcodec sample --keep-top`
    )
    g = torch.Generator().manual_seed(args.seed)
    samples = round(args.seconds * sr)  # at the sample's rate, so that one spectrogram scale fits all three
    top = sample_top(prior, math.ceil(resampled_length(samples, sr, codec.sample_rate) / codec.config.top_hop), g)
    free = codes.__class__(
        top, sample_bottom(prior, top, prior.config.n_bottom, g), sr, samples, codec.name, codec.hash
    )
    signals = {
        f"samples/speech.wav decoded by the codec ({codec.ladder()[-1].kbps:g} kbps)": codec.decode(codes)[0].numpy(),
        f"its top codes, bottom codes sampled by the prior (seed {args.seed})": codec.decode(keep)[0].numpy(),
        f"top and bottom codes sampled by the prior (seed {args.seed})": codec.decode(free)[0].numpy(),
    }
    out = Path(args.wav_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, x in zip(("decoded", "keep_top", "sampled"), signals.values(), strict=True):
        write_audio(out / f"{name}.wav", x[None], sr)
    spectrogram_stack(signals, sr, Path(args.out), f"prior of model {facts['model_hash']}", args.seconds)
    print(args.out)


if __name__ == "__main__":
    main()
