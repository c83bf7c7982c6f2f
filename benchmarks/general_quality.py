"""Quality of a general-audio model on music and sounds against Opus, on the same excerpts in one run.

    python benchmarks/general_quality.py --data ../shared-data/general/dev --model ga24k [--limit 20]
        [--seconds 10] [--rates 1.5,3,6,12] [--opus 6,12] [--no-visqol] [--out bench_general]
        [--untrained RECIPE (instead of --model: that recipe's model untrained, the floor)]

Each file's middle ``--seconds`` (mono, at the model's rate) is coded by vqcodec at each rung and by Opus at
each rate, decoded back to the model's rate, delay-compensated and scored: full-band log-mel distance, SI-SDR,
ViSQOL in audio mode (``pip install 'vqcodec[music]'``), and the high band's level against the reference's
(:mod:`vqcodec.analysis.general`). Issue 26's bar: at 6 kbps real, above Opus 6 kbps on ViSQOL and log-mel
distance. Writes ``OUT/general.md``, ``OUT/general.json`` and ``OUT/spectrograms/`` (the first two excerpts:
the reference above every decoding, to see the high band kept or lost) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _common import add_data_arguments, add_runtime_argument, load

from vqcodec.analysis.general import evaluate, report
from vqcodec.analysis.report import write_spectrograms
from vqcodec.analysis.vqcodec_coder import vqcodec_rungs


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=20, threads=2)
    add_runtime_argument(ap)
    ap.add_argument("--seconds", type=float, default=10.0, help="excerpt length per file (default 10)")
    ap.add_argument("--rates", default="1.5,3,6,12", help="vqcodec rates in kbps, comma-separated")
    ap.add_argument("--opus", default="6,12", help="Opus rates in kbps, comma-separated")
    ap.add_argument("--no-visqol", action="store_true", help="skip ViSQOL (about 2 s per decoding)")
    ap.add_argument("--out", type=Path, default=Path("bench_general"), help="output folder")
    ap.add_argument(
        "--untrained", type=Path, metavar="RECIPE", help="measure RECIPE's model untrained (seed 0), the floor"
    )
    args = ap.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    args.opus = [int(r) for r in args.opus.split(",") if r.strip()]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.untrained:
            args.model = untrained(args.untrained, Path(tmp))
        codec, files = load(args, metrics=False)
    ev = evaluate(codec, files, vqcodec_rungs(codec, args.rates), args.seconds, args.opus, visqol=not args.no_visqol)
    text = report(ev.rows, shlex.join([sys.executable, *sys.argv]), f"{codec.name} ({codec.hash.hex()})", ev.seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "general.md").write_text(text)
    (args.out / "general.json").write_text(json.dumps({"seconds": ev.seconds, "rows": ev.rows}, indent=2) + "\n")
    write_spectrograms(args.out / "spectrograms", ev.examples, codec.config.sample_rate)
    print(text)


def untrained(recipe: Path, folder: Path) -> str:
    """A recipe's model, freshly initialised (seed 0), saved in ``folder``: the floor a trained model rises from."""
    import torch

    from vqcodec.io.weights import save_model
    from vqcodec.nn.config import ModelConfig
    from vqcodec.nn.model import VQCodecModel

    torch.manual_seed(0)
    config = ModelConfig.from_dict(json.loads(recipe.read_text())["model"])
    path = folder / f"{config.name}-untrained.safetensors"
    save_model(VQCodecModel.from_config(config).eval(), path)
    return str(path)


if __name__ == "__main__":
    main()
