"""How often the "this sounds like music" check (:mod:`vqcodec.pipeline.content`) is wrong, and how its
thresholds were chosen.

    python benchmarks/music_check.py --speech-train ../shared/speech/train --music-train ../shared-data/general/train \
        --speech ../shared/speech/dev ../shared/speech/extra ../shared/speech/probe \
        --music ../shared-data/general/dev

Each file's first seconds are read as ``vqcodec compress`` judges them (files under 2 s or silent are not
judged). On the training folders, every pair of thresholds on a grid is tried and the one flagging the most
music while flagging at most ``--max-speech`` % of speech is printed (the package's constants should be it);
on the other folders, the share of files the package's thresholds flag: speech flagged is the check being
wrong, music (and sounds) not flagged is the check missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vqcodec.io.audio import audio_files
from vqcodec.pipeline import content


def features(roots: list[Path]) -> np.ndarray:
    """``[files, 2]``: low-energy ratio and spectral stability of each judged file under ``roots``."""
    found = [content.file_features(path) for root in roots for path in audio_files(root)]
    return np.array([f for f in found if f is not None]).reshape(-1, 2)


def flagged(f: np.ndarray, low_max: float, stab_min: float) -> np.ndarray:
    return (f[:, 0] < low_max) & (f[:, 1] > stab_min)


def choose(speech: np.ndarray, music: np.ndarray, max_speech: float) -> tuple[float, float]:
    """The grid's threshold pair that flags the most of ``music`` with at most ``max_speech`` % of ``speech``."""
    best = (-1.0, 0.0, 1.0)
    for low_max in np.round(np.arange(0.05, 0.41, 0.05), 2):
        for stab_min in np.round(np.arange(0.86, 0.97, 0.01), 2):
            if 100 * flagged(speech, low_max, stab_min).mean() <= max_speech:
                best = max(best, (float(flagged(music, low_max, stab_min).mean()), -low_max, stab_min))
    return -best[1], best[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speech-train", type=Path, nargs="+", required=True)
    ap.add_argument("--music-train", type=Path, nargs="+", required=True)
    ap.add_argument("--speech", type=Path, nargs="*", default=[], help="held-out speech folders")
    ap.add_argument("--music", type=Path, nargs="*", default=[], help="held-out music and sound folders")
    ap.add_argument("--max-speech", type=float, default=0.5, help="%% of training speech the choice may flag")
    args = ap.parse_args()
    train = {"speech": features(args.speech_train), "music": features(args.music_train)}
    low_max, stab_min = choose(train["speech"], train["music"], args.max_speech)
    print(f"chosen on the training folders: low-energy ratio < {low_max:g} and stability > {stab_min:g}")
    print(f"the package's: low-energy ratio < {content.LOW_ENERGY_MAX:g} and stability > {content.STABILITY_MIN:g}")
    print("| folder | kind | files judged | flagged as music |\n|---|---|---:|---:|")
    sets = [(r, "speech (train)") for r in args.speech_train] + [(r, "music (train)") for r in args.music_train]
    sets += [(r, "speech") for r in args.speech] + [(r, "music / sound") for r in args.music]
    for root, kind in sets:
        f = features([root])
        share = 100 * flagged(f, content.LOW_ENERGY_MAX, content.STABILITY_MIN).mean() if len(f) else 0.0
        print(f"| {root} | {kind} | {len(f)} | {share:.2f} % |")


if __name__ == "__main__":
    main()
