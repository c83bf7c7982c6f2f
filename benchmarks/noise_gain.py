"""Would more (or less) noise between the harmonics sound better? A decode-time probe of the harmonic head.

    python benchmarks/noise_gain.py --data ../shared/speech/dev/resemblyzer_librispeech --limit 12 \
        --gains 0.63,0.79,1,1.26,1.58 [--above 1000] [--rates 2.85,5.85] [--model PATH]

The same codes decoded with the harmonic head's noise filter multiplied by each gain above ``--above`` Hz
(the decoded harmonics stand 0.6-1.1 dB further above their troughs than the reference's there:
``benchmarks/harmonic_contrast.py``); PESQ-WB, STOI and DNSMOS OVRL of each, delay-compensated, the mean over
the files. A gain of 1 is the model as trained. Nothing here changes the model: it asks whether the trained
noise level is where these measures want it. Prints Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from _common import add_data_arguments, load, load_reference, log

from vqcodec.analysis import metrics
from vqcodec.analysis.metrics import SR
from vqcodec.nn.heads import HarmonicHead


@contextlib.contextmanager
def noise_gain(gain: float, above_hz: float) -> Iterator[None]:
    """Within the block, every harmonic head's noise filter gains above ``above_hz`` are multiplied by ``gain``."""
    trained = HarmonicHead.controls

    def controls(self, x: torch.Tensor):
        gains, f0, voicing = trained(self, x)  # gains [B, 2F, N]: harmonic rows, then noise rows
        scale = torch.ones(gains.shape[1], 1)
        scale[self.bins + int(above_hz * self.n_fft / self.sample_rate) :] = gain
        return gains * scale, f0, voicing

    HarmonicHead.controls = controls
    try:
        yield
    finally:
        HarmonicHead.controls = trained


def scores(codec, refs: list[np.ndarray], codes: list) -> tuple[float, float, float]:
    """Mean PESQ-WB, STOI and DNSMOS OVRL of ``codes`` decoded now, against ``refs``."""
    rows = []
    for x, c in zip(refs, codes, strict=True):
        y = codec.decode(c)[0].numpy()
        y = metrics.compensated(x, y)
        rows.append((metrics.pesq_wb(x, y), metrics.stoi(x, y), metrics.dnsmos_ovrl(y)))
    return tuple(float(np.mean([r[i] for r in rows if r[i] is not None])) for i in range(3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=12)
    ap.add_argument("--gains", default="0.63,0.79,1,1.26,1.58", help="noise gains, comma-separated")
    ap.add_argument("--above", type=float, default=1000.0, help="Hz above which the gain applies (default 1000)")
    ap.add_argument("--rates", default="2.85,5.85", help="rungs in kbps, comma-separated")
    args = ap.parse_args()
    codec, files = load(args)
    refs = [load_reference(f) for f in files]
    print(f"| rung | noise gain above {args.above:g} Hz | PESQ-WB | STOI | DNSMOS OVRL |")
    print("|---|---:|---:|---:|---:|")
    for kbps in (float(r) for r in args.rates.split(",")):
        codes = [codec.encode(x[None], SR, kbps) for x in refs]
        for gain in (float(g) for g in args.gains.split(",")):
            with torch.inference_mode(), noise_gain(gain, args.above):
                p, s, d = scores(codec, refs, codes)
            log(f"{kbps:g} kbps, gain {gain:g}: done")
            print(f"| {kbps:g} kbps | {gain:g} ({20 * np.log10(gain):+.1f} dB) | {p:.3f} | {s:.4f} | {d:.3f} |")


if __name__ == "__main__":
    main()
