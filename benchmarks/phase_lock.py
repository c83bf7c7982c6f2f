"""What locking the harmonic source's phase to the voice's would buy: an oracle, no training.

    python benchmarks/phase_lock.py --data ../shared/speech/dev/resemblyzer_librispeech --limit 12 [--model M]
        [--rates 3,6]

The shipped decoder's harmonic source runs free: its phase is the integral of the coded F0, so it drifts
from the voice's within a few frames and every harmonic keeps the wrong phase (SI-SDR about -25 dB). Here
each file is decoded twice at each rate from the same codes: as the codec does, and with the source
phase-locked to the reference's fundamental at every voiced decoder frame centre (``Pitch.phase``, measured
by :func:`vqcodec.nn.excitation.fundamental_phase` on the reference: unquantized, what an ideal phase stream
would send). Each decoding is delay-compensated and scored against its reference (PESQ-WB, STOI, SI-SDR),
and the means are printed as a markdown table with the decoder's weights unchanged.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import add_data_arguments, load, load_reference

from vqcodec.analysis.metrics import compensated, pesq_wb, si_sdr, stoi
from vqcodec.nn.excitation import Pitch, fundamental_phase


def decodings(model, x: torch.Tensor, n_top: int, n_bottom: int) -> dict[str, np.ndarray]:
    """[1, 1, T] reference -> the free-running and the phase-locked decodings, [T] each."""
    head = model.decoder.head
    top, bottom = model.encode(x, n_top, n_bottom)
    codes = model.track_pitch(x)
    pitch = model.pitch(codes)
    phase = fundamental_phase(x[:, 0], pitch.f0, head.hop, head.sample_rate)
    return {
        "free": model.decode(top, bottom, codes)[0, 0].numpy(),
        "locked": model.decode(top, bottom, pitch=Pitch(pitch.f0, pitch.voiced, phase))[0, 0].numpy(),
    }


def scores(ref: np.ndarray, decoded: np.ndarray) -> tuple[float | None, float, float]:
    deg = compensated(ref, decoded)
    return pesq_wb(ref, deg), stoi(ref, deg), si_sdr(ref, deg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=12, threads=None)
    ap.add_argument("--rates", default="3,6", help="kbps, comma-separated")
    args = ap.parse_args()
    codec, files = load(args)
    model, hop = codec.model, codec.model.config.top_hop
    rows: dict[tuple[float, str], list[tuple]] = {}
    for path in files:
        ref = load_reference(path)
        x = torch.from_numpy(np.pad(ref, (0, -len(ref) % hop)))[None, None]
        for kbps in (float(r) for r in args.rates.split(",")):
            rung = codec.rung(kbps)
            with torch.inference_mode():
                for name, y in decodings(model, x, rung.n_top, rung.n_bottom).items():
                    rows.setdefault((rung.kbps, name), []).append(scores(ref, y[: len(ref)]))
        print(f"{path.name}", flush=True)
    print(f"\n{len(files)} files, model {codec.name} ({codec.hash.hex()})\n")
    print("| rung (kbps) | source | PESQ-WB | STOI | SI-SDR (dB) |\n|---:|---|---:|---:|---:|")
    for (kbps, name), vals in rows.items():
        p = [v[0] for v in vals if v[0] is not None]
        print(
            f"| {kbps:.2f} | {name} | {np.mean(p):.3f} | {np.mean([v[1] for v in vals]):.3f} | "
            f"{np.mean([v[2] for v in vals]):.2f} |"
        )


if __name__ == "__main__":
    main()
