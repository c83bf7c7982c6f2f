"""Would the harmonics sound better in the minimum phase of their filter? A decode-time probe of the harmonic head.

    python benchmarks/min_phase.py --data ../shared/speech/dev/resemblyzer_librispeech --limit 12 \
        [--lifters 0,30,320] [--rates 1.35,2.85,5.85] [--model PATH]

The harmonic head's filters are real, so every harmonic keeps the source's sine phase; a voice's harmonics carry
the phase of its vocal tract. Codec2's decoder gives its harmonics the minimum phase of its spectral envelope.
Here the same codes are decoded with the harmonic filter ``A(f)`` given the minimum phase of ``log A`` smoothed
to its first ``L`` cepstral bins (``--lifters``; 0 is the model as trained), as a model trained with the config
field ``minimum_phase`` = L decodes (:func:`vqcodec.nn.heads.minimum_phase_matrix`). PESQ-WB, STOI and
DNSMOS OVRL of each, delay-compensated, the mean over the files. The weights are unchanged, so this asks whether
the phase alone helps, not what a decoder trained with it would make of it. Prints Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

import torch
from _common import add_data_arguments, load, load_reference, log
from noise_gain import scores

from vqcodec.analysis.metrics import SR
from vqcodec.nn.heads import HarmonicHead, minimum_phase_matrix


@contextlib.contextmanager
def harmonic_phase(head: HarmonicHead, lifter: int) -> Iterator[None]:
    """Within the block, ``head``'s harmonic filter carries its minimum phase (0: as trained), as the head of a
    model trained with ``minimum_phase`` = ``lifter`` does; after it, the head's own setting is back."""
    trained = head.minimum_phase, getattr(head, "min_phase", None)
    if lifter:
        head.minimum_phase, head.min_phase = lifter, minimum_phase_matrix(head.n_fft, lifter).float()
    try:
        yield
    finally:
        head.minimum_phase = trained[0]
        if trained[1] is not None:
            head.min_phase = trained[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=12)
    ap.add_argument("--lifters", default="0,30,320", help="cepstral bins kept, comma-separated (0: as trained)")
    ap.add_argument("--rates", default="1.35,2.85,5.85", help="rungs in kbps, comma-separated")
    args = ap.parse_args()
    codec, files = load(args)
    refs = [load_reference(f) for f in files]
    print("| rung | harmonic phase | PESQ-WB | STOI | DNSMOS OVRL |")
    print("|---|---|---:|---:|---:|")
    for kbps in (float(r) for r in args.rates.split(",")):
        codes = [codec.encode(x[None], SR, kbps) for x in refs]
        for lifter in (int(n) for n in args.lifters.split(",")):
            with torch.inference_mode(), harmonic_phase(codec.model.decoder.head, lifter):
                p, s, d = scores(codec, refs, codes)
            name = f"minimum, {lifter} cepstral bins" if lifter else "the source's (as trained)"
            log(f"{kbps:g} kbps, {name}: done")
            print(f"| {kbps:g} kbps | {name} | {p:.3f} | {s:.4f} | {d:.3f} |")


if __name__ == "__main__":
    main()
