"""Calibrate a trained model's output level: the gain that makes decoded speech as loud as its input.

    python -m vqcodec.train.calibrate MODEL --data ../shared/speech [--split train] [--limit 100] [--kbps 1.5 3 4 6]

Regression losses on log spectra leave a decoder slightly quiet (the shipped models decoded dev speech
0.9 to 1.1 dB below its input). This decodes ``--limit`` evenly spaced files of a split (the training split
by default: the calibration is part of training, never fitted on the files quality is reported on) at each
rate asked for, measures each decoded file's integrated loudness (ITU-R BS.1770) minus its input's, and
writes the model file back with ``output_gain_db`` set to minus their mean over files and rates: one gain
for the whole ladder, since rungs differ in level by a few tenths of a dB. The measurement is of the uncalibrated
decoder, so running it twice gives the same gain.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

from vqcodec.codec import Codec
from vqcodec.io.corpus import evenly_spaced
from vqcodec.io.weights import load_model, save_model
from vqcodec.nn.model import VQCodecModel
from vqcodec.train.data import list_audio


def with_gain(model: VQCodecModel, gain_db: float) -> VQCodecModel:
    """The same weights with ``output_gain_db = gain_db``."""
    out = VQCodecModel.from_config(dataclasses.replace(model.config, output_gain_db=round(gain_db, 2)))
    out.load_state_dict(model.state_dict())
    return out.eval()


def loudness_offsets(model: VQCodecModel, files: list[Path], kbps: float) -> list[float]:
    """Decoded minus input loudness in dB of each file (too short or silent ones left out), uncalibrated."""
    from vqcodec.analysis.metrics import SR, loudness_difference
    from vqcodec.analysis.references import load_reference

    codec = Codec(with_gain(model, 0.0))
    out = []
    for path in files:
        ref = load_reference(path)
        decoded = codec.decode(codec.encode(ref, SR, kbps))[0].numpy()
        diff = loudness_difference(ref, decoded)
        if diff is not None:
            out.append(diff)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m vqcodec.train.calibrate", description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="model file, rewritten with its calibrated output_gain_db")
    p.add_argument("--data", default="../shared/speech", help="corpus folder (with manifest.csv) or a folder")
    p.add_argument("--split", default="train", help="manifest split to measure on (default: train)")
    p.add_argument("--limit", type=int, default=100, help="evenly spaced files (default 100)")
    p.add_argument(
        "--kbps",
        type=float,
        nargs="+",
        default=[1.5, 3.0, 4.0, 6.0],
        help="rates to decode at; the gain centres their mean (default 1.5 3 4 6)",
    )
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    files = evenly_spaced(list_audio(args.data, args.split), args.limit)
    offsets = [d for kbps in args.kbps for d in loudness_offsets(model, files, kbps)]
    if not offsets:
        raise SystemExit(f"{args.data}: no file of {args.split!r} long and loud enough to measure (0.4 s or more)")
    gain = -float(np.mean(offsets))
    save_model(with_gain(model, gain), args.model)
    rates = " ".join(f"{k:g}" for k in args.kbps)
    print(
        f"{args.model}: decoded speech was {np.mean(offsets):+.2f} dB (median {np.median(offsets):+.2f}) against "
        f"its input on {len(offsets) // len(args.kbps)} files of {args.split!r} at {rates} kbps; "
        f"output_gain_db = {gain:+.2f}"
    )


if __name__ == "__main__":
    main()
