"""Quality and speed of vqcodec against Opus and Codec2, on the same files in one run.

    python benchmarks/quality.py --data ../shared/speech/dev [--model PATH] [--runtime onnx|torch] [--limit N]
        [--out bench_out] [--rates 1,1.5,2,3,4,6]

Every codec codes each reference (mono, 16 kHz) and is decoded back to 16 kHz; each decoded file is shifted
by its own delay (estimated from amplitude envelopes) and trimmed or zero-padded to the reference length
before any metric. Metrics are averaged over files: PESQ-WB, STOI, log-mel distance, SI-SDR, F0 and voicing
errors and the loudness difference. Also reported: codebook usage of vqcodec at its
top rung, and the coding speed of vqcodec (3 kbps) against ``opusenc``/``opusdec`` (6 kbps).

Writes ``OUT/quality.md`` and ``OUT/quality.json``; prints the tables to stdout, progress to stderr.

The machinery lives in the package (``vqcodec.analysis.quality``, ``vqcodec.analysis.metrics``,
``vqcodec.analysis.reference_codecs``, ``vqcodec.analysis.report``; ``vqcodec eval`` is its command-line face):
this script is a thin caller with the reference codecs, the codebook usage pass and the speed comparison switched
on (``--threads``: CPU threads of the backend and the metrics, default 2). vqcodec runs on the backend
``vqcodec compress`` uses for the model unless ``--runtime`` says otherwise (the shipped model and a
``.onnx.json``: onnxruntime; a ``.safetensors`` model: torch); the report names it.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from _common import add_data_arguments, add_runtime_argument, load, log

from vqcodec.analysis.quality import evaluate
from vqcodec.analysis.report import report, result_json, run_meta
from vqcodec.analysis.vqcodec_coder import vqcodec_rungs

DEFAULT_RATES = "1,1.5,2,3,4,6"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=None, threads=2)
    add_runtime_argument(ap)
    ap.add_argument("--out", type=Path, default=Path("bench_out"), help="output folder")
    ap.add_argument("--rates", default=DEFAULT_RATES, help="vqcodec rates in kbps, comma-separated")
    args = ap.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    codec, files = load(args)
    ev = evaluate(codec, files, vqcodec_rungs(codec, args.rates), reference_codecs=True, usage=True, timing=True)
    meta = run_meta(shlex.join([sys.executable, *sys.argv]), args.data, args.model, codec, ev)
    text = report(meta, ev)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(text)
    (args.out / "quality.json").write_text(json.dumps(result_json(meta, ev), indent=2) + "\n")
    print(text)
    log(f"wrote {args.out / 'quality.md'} and {args.out / 'quality.json'}")


if __name__ == "__main__":
    main()
