"""How much of what noise costs the decoded speech is the pitch stream's? An oracle on conditions.py's noisy files.

    python benchmarks/conditions.py --limit 12 --out bench_out/conditions --rates 3   # writes OUT/clean, OUT/noise
    python benchmarks/noise_voicing.py --conditions bench_out/conditions [--rate 2.85] [--model M]

Each noisy file is encoded as a user's would be, then decoded three ways: as sent; with the pitch stream's
voicing taken from the clean file (frames the tracker calls voiced only in the noise made unvoiced, F0 kept);
with the whole pitch stream the clean file's. The codes of the other streams stay the noisy file's. Per file:
the frames voiced in the noise but not in the clean file (false) and the reverse (missed); DNSMOS OVRL and
PESQ-WB (against the noisy file, as conditions.py scores) of each decode, delay-compensated. If the clean
voicing or pitch closes the gap to a reference codec, the tracker is the lever; if not, the codes and decoder.
Prints Markdown.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from _common import log

from vqcodec.analysis import metrics


def variants(codec, noisy: np.ndarray, clean: np.ndarray, kbps: float) -> tuple[dict, dict]:
    """The voicing counts and the three decodes' (DNSMOS OVRL, PESQ-WB) of one file."""
    codes = codec.encode(torch.from_numpy(noisy)[None], metrics.SR, kbps)
    heard = codec.encode(torch.from_numpy(clean)[None], metrics.SR, kbps).pitch  # [1, 1, T] pitch codes
    said, voiced = codes.pitch, heard > 0
    counts = {
        "false": float(((said > 0) & ~voiced).float().mean()),
        "missed": float(((said == 0) & voiced).float().mean()),
    }
    scores = {}
    for name, pitch in (("as sent", said), ("clean voicing", said * voiced), ("clean pitch", heard)):
        y = metrics.compensated(noisy, codec.decode(dataclasses.replace(codes, pitch=pitch))[0].numpy())
        scores[name] = (metrics.dnsmos_ovrl(y), metrics.pesq_wb(noisy, y))
    return counts, scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conditions", type=Path, default=Path("bench_out/conditions"), help="conditions.py's --out")
    ap.add_argument("--rate", type=float, default=2.85, help="the rung in kbps (default 2.85, the CLI's)")
    ap.add_argument("--model", default="default", help="a model file or shipped name (default: the shipped model)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import vqcodec

    metrics.require_eval()
    torch.set_num_threads(args.threads)
    codec = vqcodec.load(args.model)
    files = sorted((args.conditions / "noise").rglob("*.flac"))
    if not files or codec.model.config.pitch_bits == 0:
        raise SystemExit(f"noise_voicing: no noisy files under {args.conditions}/noise, or a model without pitch")
    print("| file | false voiced | missed | as sent | clean voicing | clean pitch |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = []
    for f in files:
        noisy, _ = sf.read(f, dtype="float32")
        clean, _ = sf.read(args.conditions / "clean" / f.relative_to(args.conditions / "noise"), dtype="float32")
        counts, scores = variants(codec, noisy, clean, args.rate)
        rows.append((counts, scores))
        cells = " | ".join(f"{d:.2f} / {p:.3f}" for d, p in scores.values())
        print(f"| {f.stem} | {counts['false']:.3f} | {counts['missed']:.3f} | {cells} |", flush=True)
        log(f"{f.stem}: done")
    mean = {k: np.mean([r[0][k] for r in rows]) for k in ("false", "missed")}
    cells = " | ".join(
        f"**{np.mean([r[1][k][0] for r in rows]):.2f} / {np.mean([r[1][k][1] for r in rows]):.3f}**" for k in rows[0][1]
    )
    print(f"| mean of {len(rows)} | {mean['false']:.3f} | {mean['missed']:.3f} | {cells} |")


if __name__ == "__main__":
    main()
