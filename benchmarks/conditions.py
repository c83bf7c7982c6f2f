"""Speech as users record it: the same files clean, in a room and with a background noise, through vqcodec and the
reference codecs in one run each (issue 21's naturalness bar on held-out speech).

    python benchmarks/conditions.py --data ../shared/speech/dev/resemblyzer_librispeech --limit 12 \
        --out bench_out/conditions [--model M --runtime torch] [--rates 1.35 3 6] [--no-reference]

Writes ``OUT/clean``, ``OUT/room`` and ``OUT/noise``: the ``--limit`` evenly spaced files of ``--data`` as they are,
convolved with a fixed synthetic room (a direct path, then a Gaussian tail 9 dB below it in energy decaying by
60 dB in 0.4 s, from 2 ms on), and with a pink noise (power falling as 1/f) added at 15 dB SNR; each level is
kept. Then ``vqcodec eval`` runs on each folder with ``--reference-codecs`` (Opus and Codec2 on the same files,
each delay compensated) into ``OUT/eval_<condition>``, and a Markdown table gives PESQ-WB / STOI / DNSMOS OVRL
per codec and condition. Each condition's reference is its own degraded file: a codec is asked to reproduce the
room and the noise, not to remove them. The room and noise are synthetic and deterministic (seed 0); training's
rooms and noises (:mod:`vqcodec.train.augment`) are drawn from ranges that contain them, so held-out recordings
remain the test that counts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from _common import list_files

from vqcodec.train.augment import coloured_noise, convolve

SR = 16000
CONDITIONS = ("clean", "room", "noise")


def room(seed: int = 0, rt60: float = 0.4, drr_db: float = 9.0) -> np.ndarray:
    """The fixed room response: unit direct path, a tail ``drr_db`` below it from 2 ms on."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(1.5 * rt60 * SR)) / SR
    h = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
    h[: int(0.002 * SR)] = 0.0
    h *= 10 ** (-drr_db / 20) / np.sqrt(np.sum(h**2))
    h[0] = 1.0
    return h


def degrade(x: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """``x`` [T] float64 in ``condition``, at its own mean power."""
    if condition == "clean":
        return x
    power = np.mean(x**2)
    if condition == "room":
        y = convolve(x, room())
        return y * np.sqrt(power / np.mean(y**2))
    return x + coloured_noise(rng, len(x), 1.0) * np.sqrt(power) * 10 ** (-15 / 20)


def write_conditions(files: list[Path], root: Path, out: Path) -> None:
    rng = np.random.default_rng(0)
    for f in files:
        x, sr = sf.read(f, dtype="float64")
        if sr != SR or x.ndim != 1:
            raise SystemExit(f"conditions: {f}: expected 16 kHz mono")
        for condition in CONDITIONS:
            target = out / condition / f.relative_to(root).with_suffix(".flac")
            target.parent.mkdir(parents=True, exist_ok=True)
            sf.write(target, np.clip(degrade(x, condition, rng), -1, 1), SR, subtype="PCM_16")


def evaluate(out: Path, args: argparse.Namespace) -> dict[str, dict]:
    """``vqcodec eval`` on each condition's folder; its ``eval.json`` per condition."""
    runs = {}
    for condition in CONDITIONS:
        dest = out / f"eval_{condition}"
        cmd = [sys.executable, "-m", "vqcodec", "eval", str(out / condition), "-o", str(dest)]
        cmd += [] if args.no_reference else ["--reference-codecs"]
        cmd += ["-b", *map(str, args.rates), "--runtime", args.runtime, "--threads", str(args.threads)]
        cmd += ["-m", args.model] if args.model else []
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        runs[condition] = json.loads((dest / "eval.json").read_text())
    return runs


def input_dnsmos(out: Path) -> dict[str, float]:
    """Each condition's mean DNSMOS OVRL of its own input files: what a codec that changed nothing would score."""
    from vqcodec.analysis.metrics import dnsmos_ovrl

    return {
        c: float(np.mean([dnsmos_ovrl(sf.read(f, dtype="float32")[0]) for f in sorted((out / c).rglob("*.flac"))]))
        for c in CONDITIONS
    }


def table(runs: dict[str, dict], inputs: dict[str, float]) -> str:
    head = " | ".join(f"{c}: PESQ-WB / STOI / DNSMOS" for c in CONDITIONS)
    lines = [f"| codec | setting | {head} |", "|---|---|" + "---:|" * len(CONDITIONS)]
    lines.append(
        "| input | the condition's own file | " + " | ".join(f"– / – / {inputs[c]:.2f}" for c in CONDITIONS) + " |"
    )
    for i, row in enumerate(runs["clean"]["rows"]):
        cells = []
        for c in CONDITIONS:
            r = runs[c]["rows"][i]
            cells.append(f"{r['pesq_wb']:.3f} / {r['stoi']:.3f} / {r['dnsmos']:.2f}")
        lines.append(f"| {row['codec']} | {row['setting']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/speech/dev/resemblyzer_librispeech"))
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--out", type=Path, default=Path("bench_out/conditions"))
    ap.add_argument("--model", help="a model file (default: the shipped model)")
    ap.add_argument("--rates", type=float, nargs="+", default=[1.35, 3.0, 6.0])
    ap.add_argument("--runtime", default="onnx", choices=("onnx", "torch"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--no-reference", action="store_true", help="vqcodec alone (a candidate beside a run that had them)"
    )
    args = ap.parse_args(argv)
    write_conditions(list_files(args.data, args.limit), args.data, args.out)
    md = table(evaluate(args.out, args), input_dnsmos(args.out))
    (args.out / "conditions.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
