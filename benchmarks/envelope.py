"""How well a model's spectral envelope follows the reference, per rung: is the envelope the codes' or the
decoder's loss, and at what detail?

    python benchmarks/envelope.py --data ../shared/speech/dev [--model PATH] [--rates 1.35,2.85,6.35] [--limit 20]

Each file is coded at each rung, decoded and delay-compensated, and both signals are analysed with one STFT
(n_fft 640, hop 160, the head's). On frames within 30 dB of the file's loudest, the real cepstrum of the log
magnitude is compared coefficient by coefficient: the correlation of decoded with reference over frames,
averaged over bands of quefrency (1-3: level and tilt; 4-12: formant positions; 13-30: formant detail).
If the correlations rise with the rung, the extra codes carry envelope the decoder uses; if not, the
envelope is lost before them (encoder) or in the decoder.

Then, at the first rung, the swap test's envelope row split by detail (decoded phase throughout; PESQ-WB /
STOI): the reference's coarse envelope (the first 10 cepstral bins) under the decoded detail (bins 10-30)
and fine structure, and the reverse; and the decoded envelope sharpened, as a post-filter would (its
cepstral bins 2-29 scaled by 1.2). Prints Markdown.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import add_data_arguments, envelope, istft, load, load_reference, log, stft

from vqcodec.analysis.metrics import SR, compensated, pesq_wb, stoi
from vqcodec.compress import compress, decompress

BANDS = {"1-3": (1, 4), "4-12": (4, 13), "13-30": (13, 31)}


def cepstrum(spec: torch.Tensor) -> torch.Tensor:
    """Complex STFT [F, N] -> real cepstrum of its log magnitude [2 (F - 1), N]."""
    return torch.fft.irfft(torch.log(spec.abs() + 1e-7), dim=0)


def loud_frames(spec: torch.Tensor) -> torch.Tensor:
    """[N] bool: frames within 30 dB of the loudest."""
    energy = spec.abs().pow(2).sum(0)
    return energy > energy.max() * 1e-3


def decoded(codec, ref: np.ndarray, kbps: float) -> np.ndarray:
    out = decompress(codec, compress(codec, ref[None], SR, kbps))[0][0].numpy()
    return compensated(ref, out).astype(np.float32)


def correlations(refs: list[torch.Tensor], decs: list[torch.Tensor]) -> dict[str, float]:
    """Cepstra [Q, N] per file -> mean correlation over each band's coefficients, frames pooled."""
    r, d = torch.cat(refs, 1).double(), torch.cat(decs, 1).double()
    r, d = r - r.mean(1, keepdim=True), d - d.mean(1, keepdim=True)
    corr = (r * d).sum(1) / (r.norm(dim=1) * d.norm(dim=1)).clamp(min=1e-12)  # [Q]
    return {name: float(corr[a:b].mean()) for name, (a, b) in BANDS.items()}


def split_swaps(ref: np.ndarray, deg: np.ndarray) -> dict[str, np.ndarray]:
    """The envelope swap split at 10 cepstral bins, rebuilt with the decoded phase."""
    r, d = stft(ref), stft(deg)
    rm, dm = r.abs(), d.abs()
    r10, r30, d10, d30 = envelope(rm, 10), envelope(rm, 30), envelope(dm, 10), envelope(dm, 30)
    fine = torch.log(dm + 1e-7) - d30
    phase = torch.exp(1j * d.angle())
    rows = {
        "reference envelope (30 bins) + decoded fine structure": r30 + fine,
        "reference coarse envelope (10 bins) + decoded detail and fine structure": r10 + (d30 - d10) + fine,
        "decoded coarse envelope + reference detail (bins 10-30) + decoded fine structure": d10 + (r30 - r10) + fine,
        "decoded, envelope sharpened (bins 2-29 times 1.2: a post-filter)": torch.log(dm + 1e-7)
        + 0.2 * (d30 - envelope(dm, 2)),
    }
    return {k: istft(torch.exp(v) * phase, len(ref)) for k, v in rows.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=20, threads=1)
    ap.add_argument("--rates", default="1.35,2.85,6.35", help="rungs in kbps, comma-separated")
    args = ap.parse_args(argv)
    codec, files = load(args)
    rates = [float(r) for r in args.rates.split(",")]
    refs, decs = [], {k: [] for k in rates}
    swaps: dict[str, list[tuple[float, float]]] = {}
    for i, path in enumerate(files, 1):
        log(f"[{i}/{len(files)}] {path.name}")
        ref = load_reference(path)
        spec = stft(ref)
        loud = loud_frames(spec)
        refs.append(cepstrum(spec)[:31, loud])
        for k in rates:
            deg = decoded(codec, ref, k)
            decs[k].append(cepstrum(stft(deg))[:31, loud])
            if k == rates[0]:
                for name, x in {"decoded": deg, **split_swaps(ref, deg)}.items():
                    swaps.setdefault(name, []).append((pesq_wb(ref, x.astype(np.float32)) or np.nan, stoi(ref, x)))
    print(f"# Envelope: {codec.name} ({codec.hash.hex()}), {len(files)} files of `{args.data}`\n")
    print("| rung | " + " | ".join(f"cepstral corr, bins {b}" for b in BANDS) + " |")
    print("|---|" + "---:|" * len(BANDS))
    for k in rates:
        c = correlations(refs, decs[k])
        print(f"| {codec.rung(k).kbps:g} kbps | " + " | ".join(f"{v:.3f}" for v in c.values()) + " |")
    print(f"\n| at {codec.rung(rates[0]).kbps:g} kbps, rebuilt from | PESQ-WB | STOI |\n|---|---:|---:|")
    for name, v in swaps.items():
        a = np.array(v)
        print(f"| {name} | {np.nanmean(a[:, 0]):.3f} | {a[:, 1].mean():.3f} |")


if __name__ == "__main__":
    main()
