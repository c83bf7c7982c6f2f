"""Does the perceptual training loss rank coded speech as PESQ-WB does? A check of the loss before a run uses it.

    python benchmarks/perceptual_rank.py --data ../shared/speech/dev/resemblyzer_librispeech --limit 8 \
        [--rates 1.35,2.85,3.85,5.85] [--model PATH]

Each file goes through vqcodec's rungs (bytes API, torch), Opus 6 and 8 kbps and Codec2 3200, delay-compensated
as ``vqcodec eval`` does. For every (file, codec) pair it computes PESQ-WB, the perceptual loss
(:class:`vqcodec.train.perceptual.PerceptualLoss`) and the multi-scale mel loss training uses, then prints each
codec's means and the Spearman rank correlation of each loss with PESQ-WB (negated: lower loss, higher
PESQ-WB) over all pairs and over vqcodec's pairs alone. Prints Markdown.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from _common import add_data_arguments, add_runtime_argument, load, load_reference, log
from scipy.stats import spearmanr

from vqcodec.analysis import metrics
from vqcodec.analysis.reference_codecs import codec2_coder, opus_coder, require_tools
from vqcodec.analysis.vqcodec_coder import vqcodec_coder
from vqcodec.train.losses import MultiScaleMelLoss
from vqcodec.train.perceptual import PerceptualLoss


def score(ref: np.ndarray, out: np.ndarray, losses: dict) -> list[float]:
    """PESQ-WB then each loss of ``out`` against ``ref`` (both at 16 kHz), ``out`` delay-compensated first."""
    out = metrics.compensated(ref, out)
    x, y = torch.from_numpy(ref)[None, None], torch.from_numpy(out.astype(np.float32))[None, None]
    with torch.inference_mode():
        return [metrics.pesq_wb(ref, out)] + [float(f(y, x)) for f in losses.values()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=8)
    add_runtime_argument(ap)
    ap.add_argument("--rates", default="1.35,2.85,3.85,5.85", help="vqcodec rungs in kbps, comma-separated")
    args = ap.parse_args()
    require_tools()
    codec, files = load(args)
    coders = {f"vqcodec {float(r):g} kbps": vqcodec_coder(codec, codec.rung(float(r))) for r in args.rates.split(",")}
    coders.update({"opus 6 kbps": opus_coder(6), "opus 8 kbps": opus_coder(8), "codec2 3200": codec2_coder("3200")})
    losses = {"perceptual": PerceptualLoss(metrics.SR), "mel": MultiScaleMelLoss(metrics.SR)}
    rows: dict[str, list[list[float]]] = {name: [] for name in coders}
    for i, path in enumerate(files):
        ref = load_reference(path)
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "ref.wav"
            sf.write(wav, ref, metrics.SR)
            for name, code in coders.items():
                rows[name].append(score(ref, code(ref, wav, Path(tmp)).audio, losses))
        log(f"[{i + 1}/{len(files)}] {path.name}")
    print("| codec | PESQ-WB | " + " | ".join(f"{k} loss" for k in losses) + " |")
    print("|---|---:|" + "---:|" * len(losses))
    for name, r in rows.items():
        m = np.mean(r, axis=0)
        print(f"| {name} | {m[0]:.3f} | " + " | ".join(f"{v:.5f}" for v in m[1:]) + " |")
    every = np.array([v for r in rows.values() for v in r])
    ours = np.array([v for name, r in rows.items() if name.startswith("vqcodec") for v in r])
    print()
    for j, k in enumerate(losses, start=1):
        rho_all, rho_ours = spearmanr(every[:, 0], -every[:, j])[0], spearmanr(ours[:, 0], -ours[:, j])[0]
        print(
            f"- {k} loss against PESQ-WB: Spearman {rho_all:.3f} over all {len(every)} pairs, "
            f"{rho_ours:.3f} over vqcodec's"
        )


if __name__ == "__main__":
    main()
