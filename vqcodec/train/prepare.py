"""Build a training manifest from a local copy of a speech corpus (nothing is downloaded).

    vqcodec prepare KIND ROOT [-o MANIFEST] [--valid-fraction 0.02] [--seed 0]

KIND is the corpus layout under ROOT, which gives each file's speaker:

- ``librispeech``: ``SPEAKER/CHAPTER/SPEAKER-CHAPTER-UTT.flac`` (any subsets below ROOT);
- ``libritts``: ``SPEAKER/CHAPTER/*.wav`` (LibriTTS and LibriTTS-R);
- ``vctk``: ``wav48*/pXXX/pXXX_YYY*.flac|wav`` (VCTK 0.80 ``wav48/`` and 0.92 ``wav48_silence_trimmed/``;
  both microphones of 0.92 are kept);
- ``ljspeech``: ``wavs/LJ*.wav``, one speaker;
- ``folder``: every audio file below ROOT; its speaker is the name of the folder holding it.

The manifest (default ``ROOT/manifest.csv``) has one row per readable file, sorted by path: the path
relative to the manifest, split, source, speaker, sex (from the corpus's speaker list where it has one),
lang, orig_sr and sr (the file's rate), duration_s, license and frames. Splits: with several speakers, a
seeded ``valid-fraction`` of the *speakers* (at least one, never all) is ``valid`` and the rest
``train``, so no voice is in both; with one speaker (LJSpeech, or a folder of one), a seeded fraction of
the files. Train with ``vqcodec train RECIPE --data MANIFEST`` (recipes in ``recipes/``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from vqcodec.errors import UserError
from vqcodec.io.audio import audio_files
from vqcodec.io.corpus import probe_all, write_manifest


def _librispeech(root: Path) -> Iterable[tuple[Path, str]]:
    for p in audio_files(root):
        m = re.fullmatch(r"(\d+)-(\d+)-(\d+)", p.stem)
        if m and p.parent.name == m[2] and p.parent.parent.name == m[1]:
            yield p, m[1]


def _libritts(root: Path) -> Iterable[tuple[Path, str]]:
    for p in audio_files(root):
        if p.parent.name.isdigit() and p.parent.parent.name.isdigit():
            yield p, p.parent.parent.name


def _vctk(root: Path) -> Iterable[tuple[Path, str]]:
    for p in audio_files(root):
        speaker = p.parent.name
        if (
            re.fullmatch(r"[ps]\d+", speaker)
            and p.stem.startswith(speaker + "_")
            and p.parent.parent.name.startswith("wav48")
        ):
            yield p, speaker


def _ljspeech(root: Path) -> Iterable[tuple[Path, str]]:
    for p in audio_files(root):
        if p.parent.name == "wavs" and p.name.startswith("LJ"):
            yield p, "LJ"


def _folder(root: Path) -> Iterable[tuple[Path, str]]:
    for p in audio_files(root):
        yield p, (p.parent.name if p.parent != root else Path(os.path.abspath(root)).name)


# kind: (files and speakers, source, lang, license, speaker-list file names)
KINDS: dict[str, tuple[Callable[[Path], Iterable[tuple[Path, str]]], str, str, str, tuple[str, ...]]] = {
    "librispeech": (_librispeech, "librispeech", "en", "CC-BY-4.0", ("SPEAKERS.TXT",)),
    "libritts": (_libritts, "libritts", "en", "CC-BY-4.0", ("SPEAKERS.txt", "speakers.tsv")),
    "vctk": (_vctk, "vctk", "en", "CC-BY-4.0", ("speaker-info.txt",)),
    "ljspeech": (_ljspeech, "ljspeech", "en", "public domain", ()),
    "folder": (_folder, "", "", "", ()),
}


def _sexes(root: Path, names: tuple[str, ...]) -> dict[str, str]:
    """Speaker id -> "F" or "M" from the corpus's speaker list, looked for in ROOT and its parent
    (``SPEAKERS.TXT``: ``ID | SEX | ...``; VCTK ``speaker-info.txt``: ``ID AGE GENDER ...``)."""
    sexes: dict[str, str] = {}
    for folder in (root, root.parent):
        for name in names:
            path = folder / name
            if not path.is_file():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if not line.strip() or line.lstrip().startswith((";", "#")):
                    continue
                fields = [f.strip() for f in (line.split("|") if "|" in line else line.replace("\t", " ").split())]
                if len(fields) < 2:
                    continue
                sex = next((f.upper() for f in fields[1:3] if f.upper() in ("F", "M")), "")
                if sex:
                    sexes[fields[0]] = sex
                    if fields[0].isdigit():  # VCTK 0.80 lists "225" for speaker "p225"
                        sexes.setdefault(f"p{fields[0]}", sex)
            return sexes
    return sexes


def assign_splits(
    paths: list[str], speakers: list[str], valid_fraction: float, seed: int, by_file: bool = False
) -> list[str]:
    """ "train" or "valid" for each file: a seeded ``valid_fraction`` of the speakers (at least one, never
    all) when there are several and not ``by_file``, else a seeded fraction of the files."""
    n = len(paths)
    splits = ["train"] * n
    if valid_fraction <= 0 or n < 2:
        return splits
    rng = np.random.default_rng(seed)
    distinct = sorted(set(speakers))
    if len(distinct) >= 2 and not by_file:
        n_valid = min(len(distinct) - 1, max(1, round(valid_fraction * len(distinct))))
        valid = {distinct[i] for i in rng.permutation(len(distinct))[:n_valid]}
        return ["valid" if s in valid else "train" for s in speakers]
    order = sorted(range(n), key=lambda i: paths[i])
    n_valid = min(n - 1, max(1, round(valid_fraction * n)))
    for i in rng.permutation(n)[:n_valid]:
        splits[order[i]] = "valid"
    return splits


def prepare(
    kind: str,
    root: str | os.PathLike,
    output: str | os.PathLike | None = None,
    valid_fraction: float = 0.02,
    seed: int = 0,
    jobs: int = 8,
) -> list[dict]:
    """Scan ``root`` as a ``kind`` corpus and write its manifest (see module doc); returns the rows."""
    if kind not in KINDS:
        raise UserError(f"unknown corpus kind {kind!r} (one of {', '.join(KINDS)})")
    if not 0 <= valid_fraction < 1:
        raise UserError("--valid-fraction must be in [0, 1)")
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: no such folder")
    out = Path(output) if output else root / "manifest.csv"
    scan, source, lang, license_, speaker_files = KINDS[kind]
    found = list(scan(root))
    if not found:
        raise UserError(f"{root}: no audio files in the {kind} layout found (see vqcodec prepare -h)")
    lengths = probe_all([p for p, _ in found], jobs)
    unreadable = [p for (p, _), info in zip(found, lengths, strict=True) if info is None or info[1] <= 0]
    if unreadable:
        print(
            f"vqcodec prepare: skipping {len(unreadable)} unreadable or empty files (first: {unreadable[0]})",
            file=sys.stderr,
        )
    sexes = _sexes(root, speaker_files)
    base, root_name = Path(os.path.abspath(out)).parent, Path(os.path.abspath(root)).name
    rows = []
    for (path, speaker), info in zip(found, lengths, strict=True):
        if info is None or info[1] <= 0:
            continue
        sr, frames = info
        rows.append(
            {
                "path": Path(os.path.relpath(os.path.abspath(path), base)).as_posix(),
                "split": "",
                "source": source or root_name,
                "speaker": speaker,
                "sex": sexes.get(speaker, ""),
                "lang": lang,
                "orig_sr": sr,
                "sr": sr,
                "duration_s": f"{frames / sr:.3f}",
                "license": license_,
                "frames": frames,
            }
        )
    if not rows:
        raise UserError(f"{root}: none of the {len(found)} audio files could be read")
    splits = assign_splits(
        [r["path"] for r in rows], [r["speaker"] for r in rows], valid_fraction, seed, by_file=kind == "ljspeech"
    )
    for row, split in zip(rows, splits, strict=True):
        row["split"] = split
    out.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(out, rows)
    return rows


def summary(rows: list[dict], out: Path) -> str:
    parts = []
    for split in ("train", "valid"):
        chosen = [r for r in rows if r["split"] == split]
        hours = sum(int(r["frames"]) / int(r["sr"]) for r in chosen) / 3600
        parts.append(f"{split}: {len(chosen)} files, {len({r['speaker'] for r in chosen})} speakers, {hours:.2f} h")
    return f"{out}: " + "; ".join(parts)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=sorted(KINDS), help="corpus layout")
    p.add_argument("root", help="the corpus folder (a local copy; nothing is downloaded)")
    p.add_argument("-o", "--output", help="manifest to write (default: ROOT/manifest.csv)")
    p.add_argument(
        "--valid-fraction",
        type=float,
        default=0.02,
        help="fraction of speakers (one-speaker corpora: of files) held out as 'valid' (default 0.02)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the valid/train split (default 0)")
    p.add_argument("--jobs", type=int, default=8, help="threads reading file headers (default 8)")
    p.add_argument("-f", "--force", action="store_true", help="replace an existing manifest")


def main_args(args: argparse.Namespace) -> None:
    out = Path(args.output) if args.output else Path(args.root) / "manifest.csv"
    if out.exists() and not args.force:
        raise UserError(f"{out}: already exists (use --force to replace it)")
    try:
        rows = prepare(args.kind, args.root, out, args.valid_fraction, args.seed, args.jobs)
    except OSError as e:
        raise UserError(f"{e.filename or out}: {e.strerror or e}") from None
    print(summary(rows, out))
