"""Short clips of a few dev files, and their credits, for the listening page ``docs/listen/``.

    python benchmarks/listen_clips.py ../shared/speech -o listen_clips
    vqcodec eval listen_clips --reference-codecs -b 1.35 2.85 6.35 -o listen_out \
        --html docs/listen --credits listen_clips/credits.txt

Each clip is one file of ``CLIPS`` from where its speech starts, cut at the quietest 20 ms between
``--min-seconds`` and ``--max-seconds`` (so no word is cut in half) with a 10 ms fade, written as 16-bit
FLAC at the file's rate.
Only LibriSpeech (CC BY 4.0) and LJSpeech (public domain) files are used, and the manifest's source,
speaker and licence of each go into ``credits.txt``, which the page shows.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import soundfile as sf

# Three LibriSpeech speakers the model never trained on, and LJSpeech's one speaker, whom it did.
CLIPS = (
    "dev/resemblyzer_librispeech/audio_data/librispeech_train-clean-100/163-121908-0000.flac",
    "dev/resemblyzer_librispeech/audio_data/librispeech_train-clean-100/1963-142393-0000.flac",
    "dev/resemblyzer_librispeech/audio_data/librispeech_train-clean-100/1723-141149-0000.flac",
    "dev/ljspeech_part1/LJSpeech-1.1/wavs/LJ002-0161.flac",
)
LICENCES = ("CC-BY-4.0 (LibriSpeech)", "public domain (LJSpeech 1.1)")
CREDITS = (
    "Clips: the first seconds of four files of the dev split, files the model never trained on. "
    "LibriSpeech (Panayotov et al., 2015; https://www.openslr.org/12), CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/): speakers the model never heard. "
    "LJSpeech 1.1 (Keith Ito and Linda Johnson, 2017; https://keithito.com/LJ-Speech-Dataset/), public domain: "
    "a speaker whose other utterances the model trained on. "
    "Cut to a few seconds and decoded; the decodings are shared under the same terms."
)


def cut_point(audio: np.ndarray, sr: int, lo: float, hi: float) -> int:
    """The sample where the quietest 20 ms frame between ``lo`` and ``hi`` seconds starts (mono ``audio``)."""
    frame = sr // 50
    starts = np.arange(int(lo * sr), min(int(hi * sr), len(audio) - frame), frame // 2)
    if len(starts) == 0:
        return len(audio)
    energy = [float(np.mean(audio[s : s + frame] ** 2)) for s in starts]
    return int(starts[int(np.argmin(energy))] + frame // 2)


def speech_start(audio: np.ndarray, sr: int, below_peak_db: float = 40.0, margin: float = 0.15) -> int:
    """The sample ``margin`` seconds before the first 20 ms frame within ``below_peak_db`` of the loudest."""
    frame = sr // 50
    energy = np.array([np.mean(audio[s : s + frame] ** 2) for s in range(0, len(audio) - frame + 1, frame)])
    first = int(np.argmax(energy >= energy.max() * 10 ** (-below_peak_db / 10)))
    return max(0, first * frame - int(margin * sr))


def clip(src: Path, dst: Path, lo: float, hi: float) -> float:
    """Write ``src`` from where its speech starts to :func:`cut_point`, faded out over 10 ms; its seconds."""
    audio, sr = sf.read(src, dtype="float32", always_2d=True)
    audio = audio[speech_start(audio.mean(axis=1), sr) :]
    end = cut_point(audio.mean(axis=1), sr, lo, hi)
    out = audio[:end].copy()
    fade = min(len(out), sr // 100)
    out[len(out) - fade :] *= np.linspace(1, 0, fade, dtype=np.float32)[:, None]
    sf.write(dst, out, sr, subtype="PCM_16", format="FLAC")
    return end / sr


def manifest_rows(root: Path) -> dict[str, dict]:
    with open(root / "manifest.csv", newline="") as f:
        return {row["path"]: row for row in csv.DictReader(f)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path, help="the speech folder holding manifest.csv and dev/")
    p.add_argument("-o", "--out", type=Path, default=Path("listen_clips"))
    p.add_argument("--min-seconds", type=float, default=2.6)
    p.add_argument("--max-seconds", type=float, default=3.2)
    args = p.parse_args(argv)
    rows = manifest_rows(args.root)
    args.out.mkdir(parents=True, exist_ok=True)
    lines = [CREDITS, ""]
    for i, rel in enumerate(CLIPS, 1):
        row = rows[rel]
        if row["license"] not in LICENCES:
            raise SystemExit(f"{rel}: licence {row['license']!r} is not one the page may carry")
        name = f"{i}-{Path(rel).name}"
        seconds = clip(args.root / rel, args.out / name, args.min_seconds, args.max_seconds)
        lines.append(f"{name}: {row['source']}, speaker {row['speaker']} ({row['sex']}), {row['license']}, {rel}")
        print(f"{args.out / name}: {seconds:.2f} s")
    (args.out / "credits.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
