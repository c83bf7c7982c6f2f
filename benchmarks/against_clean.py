"""Rooms and noises scored against the clean speech: what a codec that removes them is for.

    python benchmarks/conditions.py --limit 12 --out bench_out/conditions --rates 3   # writes OUT/clean, room, noise
    python benchmarks/against_clean.py --conditions bench_out/conditions [--model M] [--runtime torch] \
        [--rates 1.35 3 6] [--no-reference]

conditions.py scores each condition against its own degraded file: a codec is asked to reproduce the room and
the noise. A codec trained to remove them (``augment_target: "clean"``, :mod:`vqcodec.train.augment`) is asked
something else, so here every condition's decoded file is scored against the *clean* file it was made from:
PESQ-WB and STOI against it, delay-compensated, and DNSMOS OVRL (which needs no reference). The first row is the
degraded input itself, what a codec that changed nothing would score; Opus 6 kbps and Codec2 3200 run on the same
files unless ``--no-reference``. Prints Markdown.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from _common import add_runtime_argument, log
from conditions import CONDITIONS

from vqcodec.analysis import metrics
from vqcodec.analysis.reference_codecs import codec2_coder, opus_coder, require_tools


def scores(clean: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """PESQ-WB and STOI of ``y`` against ``clean`` (delay-compensated), and ``y``'s DNSMOS OVRL."""
    y = metrics.compensated(clean, y)
    return metrics.pesq_wb(clean, y), metrics.stoi(clean, y), metrics.dnsmos_ovrl(y)


def coders(args: argparse.Namespace) -> dict[str, object]:
    """Row name -> coder ``(ref, wav_path, tmp) -> Coded`` (:mod:`vqcodec.analysis.reference_codecs`)."""
    from vqcodec.analysis.vqcodec_coder import rung_label, vqcodec_coder, vqcodec_rungs
    from vqcodec.pipeline import files
    from vqcodec.pipeline.commands import runtime

    codec = files.load(args.model, args.threads, runtime(args))  # as vqcodec compress picks
    out = {f"vqcodec {rung_label(r)}": vqcodec_coder(codec, r) for r in vqcodec_rungs(codec, args.rates)}
    if not args.no_reference:
        require_tools()
        out["opus 6 kbps"], out["codec2 3200"] = opus_coder(6), codec2_coder("3200")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conditions", type=Path, default=Path("bench_out/conditions"), help="conditions.py's --out")
    ap.add_argument("--model", help="a model file (default: the shipped model)")
    ap.add_argument("--rates", type=float, nargs="+", default=[1.35, 3.0, 6.0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--no-reference", action="store_true", help="vqcodec alone (a candidate beside a run that had them)"
    )
    add_runtime_argument(ap)
    args = ap.parse_args()
    metrics.require_eval()
    cleans = sorted((args.conditions / "clean").rglob("*.flac"))
    if not cleans:
        raise SystemExit(f"against_clean: no files under {args.conditions}/clean: run conditions.py first")
    run = coders(args)
    rows = {name: {c: [] for c in CONDITIONS} for name in ("input", *run)}
    with tempfile.TemporaryDirectory() as tmp:
        for f in cleans:
            clean, _ = sf.read(f, dtype="float32")
            for condition in CONDITIONS:
                path = args.conditions / condition / f.relative_to(args.conditions / "clean")
                x, _ = sf.read(path, dtype="float32")
                wav = Path(tmp) / "in.wav"
                sf.write(wav, x, metrics.SR, subtype="PCM_16")
                rows["input"][condition].append(scores(clean, x))
                for name, code in run.items():
                    rows[name][condition].append(scores(clean, code(x, wav, Path(tmp)).audio))
            log(f"{f.stem}: done")
    print("| codec | " + " | ".join(f"{c} (PESQ-WB / STOI / DNSMOS)" for c in CONDITIONS) + " |")
    print("|---|" + "---:|" * len(CONDITIONS))
    for name, by_condition in rows.items():
        cells = [" / ".join(f"{v:.3f}" for v in np.mean(by_condition[c], axis=0)) for c in CONDITIONS]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
