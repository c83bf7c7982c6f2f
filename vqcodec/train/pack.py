"""Store a trained model's weights at the precision it ships in (the last step before a model is shipped).

    python -m vqcodec.train.pack MODEL -o OUT [--precision int8] [--name NAME]

``int8`` (the default) keeps the large matrices and kernels as int8 with a scale per output channel
(:mod:`vqcodec.io.int8`): about half the bytes of the trainer's float16 file, read back by both runtimes as
the same float32 values. ``float16`` is what the trainer writes. Measure a packed model before shipping it:
its codes and audio are those of slightly different weights, so it has its own hash. ``--name`` sets the name
it is picked by and every .vqc it writes carries (``--model NAME``; the trainer names a model after its run's
folder unless told ``--name``); the name is not part of the hash.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from vqcodec.errors import VQCodecError
from vqcodec.io.weights import PRECISIONS, load_model, save_model


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m vqcodec.train.pack", description=__doc__.split("\n")[0])
    p.add_argument("model", type=Path, help="model file (.safetensors)")
    p.add_argument("-o", "--output", type=Path, required=True, help="the packed model file")
    p.add_argument("--precision", choices=PRECISIONS, default="int8")
    p.add_argument("--name", help="the model's name in the packed file (default: its own)")
    args = p.parse_args(argv)
    try:
        model = load_model(args.model)
        if args.name:
            model.config = dataclasses.replace(model.config, name=args.name)
        save_model(model, args.output, precision=args.precision)
    except VQCodecError as e:
        sys.exit(f"vqcodec: {e}")
    before, after = args.model.stat().st_size, args.output.stat().st_size
    print(f"{args.output}: {after / 1e6:.1f} MB ({args.precision}; {before / 1e6:.1f} MB before)")


if __name__ == "__main__":
    main()
