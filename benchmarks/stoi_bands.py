"""Where is STOI lost? Its score per third-octave band, for each rung beside Codec2 3200 and Opus 6 kbps.

    python benchmarks/stoi_bands.py --data ../shared/speech/dev/resemblyzer_librispeech --limit 20 \
        [--rates 1.35,2.85,6.35] [--swaps] [--model PATH] [--threads 1]

STOI (Taal et al. 2011, as ``pystoi`` computes it: 10 kHz, 15 third-octave bands from 150 Hz, silent frames
removed, 384 ms segments) is the mean over bands and segments of a correlation between the reference's band
envelope and the decoded one's, each segment's level normalised away. This prints that correlation per band
(the mean over the files), so a gap to another codec can be placed in frequency, and beside it how lively the
decoded band envelopes are: the standard deviation of their frame-to-frame change in dB (12.8 ms frames) over
the reference's (1: as lively; below 1: smoother, the transitions smeared). With ``--swaps``, each rung also
rebuilt as the swap test does (``swap_test.py``: STFT n_fft 640, hop 160): its magnitude under the reference's
phase, and the reference's magnitude under its phase, so that a band's gap can be told magnitude or phase.
Every file's delay is compensated first. Prints Markdown.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from _common import add_data_arguments, istft, load, load_reference, log, stft
from pystoi import utils

from vqcodec.analysis import metrics
from vqcodec.analysis.metrics import SR
from vqcodec.analysis.reference_codecs import codec2_coder, opus_coder, require_tools
from vqcodec.analysis.vqcodec_coder import vqcodec_coder
from vqcodec.errors import UserError

STOI = sys.modules["pystoi.stoi"]  # the module, for its constants (the package exports the function by that name)
CENTRES = 150 * 2 ** (np.arange(15) / 3)  # the bands' centre frequencies in Hz
SWAPS = ("its magnitude, reference phase", "reference magnitude, its phase")


def band_envelopes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference and decoded [T] at 16 kHz -> their third-octave band magnitudes [15, N] on STOI's frames."""
    x, y = (utils.resample_oct(s, STOI.FS, SR) for s in (x, y))
    x, y = utils.remove_silent_frames(x, y, STOI.DYN_RANGE, STOI.N_FRAME, STOI.N_FRAME // 2)
    return tuple(np.sqrt(STOI.OBM @ np.abs(utils.stft(s, STOI.N_FRAME, STOI.NFFT, overlap=2).T) ** 2) for s in (x, y))


def band_scores(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Band magnitudes [15, N] -> [15]: STOI's intermediate correlation per band, the mean over segments (their
    mean over bands is STOI)."""
    n = STOI.N
    xs = np.stack([x[:, m - n : m] for m in range(n, x.shape[1] + 1)])  # [M, 15, n]
    ys = np.stack([y[:, m - n : m] for m in range(n, x.shape[1] + 1)])
    ys = ys * np.linalg.norm(xs, axis=2, keepdims=True) / (np.linalg.norm(ys, axis=2, keepdims=True) + utils.EPS)
    ys = np.minimum(ys, xs * (1 + 10 ** (-STOI.BETA / 20)))
    xs, ys = xs - xs.mean(2, keepdims=True), ys - ys.mean(2, keepdims=True)
    xs /= np.linalg.norm(xs, axis=2, keepdims=True) + utils.EPS
    ys /= np.linalg.norm(ys, axis=2, keepdims=True) + utils.EPS
    return (xs * ys).sum(2).mean(0)


def liveliness(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Band magnitudes [15, N] -> [15]: std of the decoded envelope's frame-to-frame change in dB over the
    reference's."""
    dx, dy = (np.diff(20 * np.log10(s + 1e-4), axis=1) for s in (x, y))
    return dy.std(1) / (dx.std(1) + 1e-9)


def swapped(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Reference and decoded [T] -> the decoded magnitude under the reference's phase, and the reverse."""
    sx, sy = stft(x), stft(y)
    magnitudes, phases = (sy.abs(), sx.abs()), (sx.angle(), sy.angle())
    return {how: istft(m * torch.exp(1j * p), len(x)) for how, m, p in zip(SWAPS, magnitudes, phases, strict=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=20)
    ap.add_argument("--rates", default="1.35,2.85,6.35", help="rungs in kbps, comma-separated")
    ap.add_argument("--swaps", action="store_true", help="also each rung's magnitude and phase swapped")
    args = ap.parse_args()
    codec, files = load(args)
    try:
        require_tools()
    except UserError as e:
        raise SystemExit(str(e)) from None
    rates = [float(r) for r in args.rates.split(",")]
    coders = {f"vqcodec {r:g} kbps": vqcodec_coder(codec, codec.rung(r)) for r in rates}
    swaps = {f"vqcodec {r:g} kbps": [f"{r:g} kbps, {how}" for how in SWAPS] for r in rates} if args.swaps else {}
    coders.update({"Codec2 3200": codec2_coder("3200"), "Opus 6 kbps": opus_coder(6)})
    columns = [*coders, *(column for names in swaps.values() for column in names)]
    scores = {name: [] for name in columns}
    lively = {name: [] for name in columns}
    for path in files:
        ref = load_reference(path)
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "ref.wav"
            sf.write(wav, ref, SR, subtype="PCM_16")
            for name, coder in coders.items():
                y = coder(ref, wav, Path(tmp)).audio
                y = metrics.compensated(ref, y)
                rebuilt = {name: y}
                if name in swaps:
                    rebuilt.update(zip(swaps[name], swapped(ref, y).values(), strict=True))
                for column, signal in rebuilt.items():
                    x_bands, y_bands = band_envelopes(ref, signal.astype(np.float32))
                    scores[column].append(band_scores(x_bands, y_bands))
                    lively[column].append(liveliness(x_bands, y_bands))
        log(f"{path.name}: done")
    for title, table in (("STOI per band", scores), ("band-envelope liveliness (decoded over reference)", lively)):
        print(f"\n{title}\n\n| band (Hz) | " + " | ".join(columns) + " |")
        print("|---:|" + "---:|" * len(columns))
        for j, centre in enumerate(CENTRES):
            print(f"| {centre:.0f} | " + " | ".join(f"{np.mean([r[j] for r in table[n]]):.3f}" for n in columns) + " |")
        print("| mean | " + " | ".join(f"{np.mean(table[n]):.3f}" for n in columns) + " |")


if __name__ == "__main__":
    main()
