"""A corpus of audio files: its manifest (one CSV row per audio file, paths relative to the manifest's
folder), the files' lengths from their headers, and an evenly spaced subset of a file list.

Columns (those of ``../shared/speech/manifest.csv``, plus ``frames``): path, split, source, speaker, sex,
lang, orig_sr, sr, duration_s, license, frames. Only ``path`` is required when reading; ``split`` selects
rows, and ``sr`` with ``frames`` (or ``duration_s``) spare the streaming loader from opening every file
to learn its length. ``vqcodec prepare`` writes manifests (see :mod:`vqcodec.train.prepare`).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import soundfile as sf

from vqcodec.errors import UserError
from vqcodec.io.atomic import atomic_path

COLUMNS = ("path", "split", "source", "speaker", "sex", "lang", "orig_sr", "sr", "duration_s", "license", "frames")


@dataclass(frozen=True)
class AudioEntry:
    """One audio file of a corpus. ``sample_rate`` and ``frames`` are 0 while unknown; ``id`` is the
    manifest's ``id`` column, "" where it has none; ``listed`` is the path as the manifest wrote it."""

    path: Path
    split: str = ""
    speaker: str = ""
    sample_rate: int = 0
    frames: int = 0
    id: str = ""
    listed: str = field(default="", compare=False, repr=False)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def evenly_spaced(items: list, n: int | None) -> list:
    """``n`` items at indices ``floor(i * len / n)`` (all of them when ``n`` is None, 0 or too big):
    a deterministic subset that samples every part of a sorted list."""
    if not n or n >= len(items):
        return items
    return [items[i * len(items) // n] for i in range(n)]


def _int(text: str | None) -> int:
    try:
        return int(float(text)) if text not in (None, "") else 0
    except ValueError:
        return 0


def _entry(base: Path, row: dict) -> AudioEntry:
    sr = _int(row.get("sr"))
    frames = _int(row.get("frames"))
    if not frames and sr and row.get("duration_s"):
        try:  # durations are rounded: stay a little short of the end rather than read past it
            frames = max(0, math.floor(float(row["duration_s"]) * sr) - sr // 1000)
        except ValueError:
            frames = 0
    return AudioEntry(
        base / row["path"].strip(),
        (row.get("split") or "").strip(),
        (row.get("speaker") or "").strip(),
        sr,
        frames,
        (row.get("id") or "").strip(),
        row["path"].strip(),
    )


def read_manifest(path: str | os.PathLike, split: str | None = None) -> list[AudioEntry]:
    """The rows of a manifest, in file order; with ``split``, only that split's rows (a manifest without
    a ``split`` column has no splits: all its rows are returned)."""
    path = Path(path)
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if "path" not in (reader.fieldnames or []):
                raise UserError(f"{path}: a manifest needs a 'path' column")
            has_split = "split" in reader.fieldnames
            rows = [row for row in reader if (row.get("path") or "").strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"{path}: cannot read manifest ({e})") from None
    entries = [_entry(path.parent, row) for row in rows]
    if split and has_split:
        entries = [e for e in entries if e.split == split]
    return entries


def write_manifest(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    """Write rows (dicts keyed by :data:`COLUMNS`; missing keys are left empty) atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})


def probe(path: Path) -> tuple[int, int] | None:
    """(sample rate, frames) from the file's header, or None when it cannot be read."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError):
        return None
    return int(info.samplerate), int(info.frames)


def probe_all(paths: Sequence[Path], jobs: int = 8) -> list[tuple[int, int] | None]:
    """:func:`probe` of each path, in order, reading headers on ``jobs`` threads."""
    if jobs <= 1 or len(paths) < 64:
        return [probe(p) for p in paths]
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(probe, paths, chunksize=64))


def with_lengths(entries: Sequence[AudioEntry], jobs: int = 8) -> list[AudioEntry]:
    """Entries whose sample rate or length is unknown get them from their headers; unreadable files are
    dropped."""
    todo = [i for i, e in enumerate(entries) if not (e.sample_rate and e.frames)]
    found = dict(zip(todo, probe_all([entries[i].path for i in todo], jobs), strict=True))
    out = []
    for i, e in enumerate(entries):
        if i in found:
            if found[i] is None:
                continue
            e = replace(e, sample_rate=found[i][0], frames=found[i][1])
        out.append(e)
    return out
