"""Is the decoded fine structure noisier or cleaner than the reference's, and does it change with the rung?

    python benchmarks/harmonic_contrast.py --data ../shared/speech/dev/resemblyzer_librispeech [--model PATH]
        [--rates 1.35,2.85,5.85] [--limit 20]

On the reference's voiced frames (Praat's F0, 10 ms), the power at each harmonic (the peak within 0.2 F0 of
k F0) over the power half-way to the next (the trough within 0.15 F0 of (k + 1/2) F0), in dB, from one STFT
(n_fft 1024, hop 160), for the reference and for each rung's delay-compensated decoding; the median over
harmonics per band. A decoder that fills the gaps between harmonics with noise scores below the reference, one
that makes them too clean (buzzy) above it; a value that does not move with the rung is set by the head, not by
the codes. Prints Markdown.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import add_data_arguments, load, load_reference, log

from vqcodec.analysis.metrics import SR, compensated
from vqcodec.compress import compress, decompress
from vqcodec.pitch.tracker import track_one

BANDS = ((0, 1000), (1000, 2000), (2000, 4000), (4000, 8000))
HOP, N_FFT = 160, 1024
PEAK, TROUGH = 0.2, 0.15  # half-widths, in units of F0, of the windows around a harmonic and half-way between


def contrasts(x: np.ndarray, f0: np.ndarray) -> dict[tuple[int, int], list[float]]:
    """Per band, the contrast in dB of every harmonic of every voiced frame (F0 >= 80 Hz) of ``x`` ``[T]``."""
    spec = torch.stft(torch.from_numpy(x), N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True)
    power = spec.abs().pow(2).numpy()  # [F, N]
    freqs = np.arange(power.shape[0]) * SR / N_FFT
    out: dict[tuple[int, int], list[float]] = {b: [] for b in BANDS}
    for j in range(min(power.shape[1], len(f0))):
        if f0[j] < 80:
            continue
        p = power[:, j]
        for k in range(1, int(BANDS[-1][1] / f0[j])):
            peak = p[np.abs(freqs - k * f0[j]) <= PEAK * f0[j]]
            trough = p[np.abs(freqs - (k + 0.5) * f0[j]) <= TROUGH * f0[j]]
            if len(peak) and len(trough):
                band = next((b for b in BANDS if b[0] <= k * f0[j] < b[1]), None)
                if band is not None:
                    out[band].append(10 * np.log10((peak.max() + 1e-12) / (trough.min() + 1e-12)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=20)
    ap.add_argument("--rates", default="1.35,2.85,5.85", help="rungs in kbps, comma-separated")
    args = ap.parse_args()
    codec, files = load(args)
    rates = [float(r) for r in args.rates.split(",")]
    pooled: dict[str, dict] = {"reference": {b: [] for b in BANDS}} | {
        f"{r:g} kbps": {b: [] for b in BANDS} for r in rates
    }
    for i, path in enumerate(files, 1):
        log(f"[{i}/{len(files)}] {path.name}")
        ref = load_reference(path)
        f0 = track_one(ref, SR, HOP, len(ref) // HOP + 1)
        signals = {"reference": ref}
        for r in rates:
            out = decompress(codec, compress(codec, ref[None], SR, r))[0][0].numpy()
            signals[f"{r:g} kbps"] = compensated(ref, out)
        for name, x in signals.items():
            for band, values in contrasts(np.ascontiguousarray(x, dtype=np.float32), f0).items():
                pooled[name][band].extend(values)
    head = " | ".join(f"{a / 1000:g}-{b / 1000:g} kHz" for a, b in BANDS)
    print(f"| signal | {head} |\n|---|" + "---:|" * len(BANDS))
    for name, bands in pooled.items():
        print(f"| {name} | " + " | ".join(f"{np.median(bands[b]):.1f}" for b in BANDS) + " |")


if __name__ == "__main__":
    main()
