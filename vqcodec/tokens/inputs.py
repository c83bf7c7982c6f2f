"""What to extract: files, folders and manifests -> utterances with stable, unique ids.

An id is a relative path without its extension, in POSIX form:

- a folder: the path of each audio file under it (recursively) relative to the folder
  (``corpus/spk1/a.flac`` given as ``corpus`` -> ``spk1/a``);
- a ``.csv`` manifest: its ``id`` column if it has one, else its ``path`` column (paths are relative to
  the manifest's folder);
- a ``.txt`` manifest: one path per line, relative to the manifest's folder (blank lines and lines
  starting with ``#`` are skipped); the id is the line;
- any other file: the path as given (``data/a.wav`` -> ``data/a``).

The same file reached twice is kept once. Two different files with the same id are a conflict: the first
(in the order the inputs were given) keeps the id, the other is rejected with a message.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vqcodec.errors import UserError
from vqcodec.io.audio import audio_files
from vqcodec.io.corpus import read_manifest


@dataclass(frozen=True)
class Item:
    """One utterance to extract: its id and the audio file it comes from."""

    id: str
    path: Path


def make_id(rel: str | os.PathLike) -> str:
    """A relative path -> an id: POSIX separators, no extension, no leading ``/`` or ``./``."""
    parts = [p for p in PurePosixPath(os.fspath(rel).replace(os.sep, "/")).parts if p not in ("/", ".")]
    if not parts:
        raise UserError(f"no id can be made from {os.fspath(rel)!r}")
    parts[-1] = PurePosixPath(parts[-1]).stem if PurePosixPath(parts[-1]).suffix else parts[-1]
    return "/".join(parts)


def _from_folder(root: Path) -> list[Item]:
    return [Item(make_id(p.relative_to(root)), p) for p in audio_files(root)]


def _from_csv(manifest: Path) -> list[Item]:
    return [Item(e.id or make_id(e.listed), e.path) for e in read_manifest(manifest)]


def _from_txt(manifest: Path) -> list[Item]:
    lines = [line.strip() for line in manifest.read_text().splitlines()]
    return [Item(make_id(line), manifest.parent / line) for line in lines if line and not line.startswith("#")]


def _expand(arg: str | os.PathLike) -> list[Item]:
    path = Path(arg)
    if path.is_dir():
        return _from_folder(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.suffix.lower() == ".csv":
        return _from_csv(path)
    if path.suffix.lower() == ".txt":
        return _from_txt(path)
    return [Item(make_id(os.path.normpath(arg)), path)]


def collect(inputs: Sequence[str | os.PathLike]) -> tuple[list[Item], list[tuple[Item, str]]]:
    """Expand the inputs into utterances.

    Returns:
        The utterances sorted by id, and the rejected ones with the reason (a duplicate id).

    Raises:
        UserError: an input does not exist or a manifest has no ``path`` column.
    """
    by_file: set[Path] = set()
    by_id: dict[str, Item] = {}
    rejected: list[tuple[Item, str]] = []
    for item in (item for arg in inputs for item in _expand(arg)):
        key = Path(os.path.abspath(item.path))
        if key in by_file:
            continue
        by_file.add(key)
        if item.id in by_id:
            rejected.append((item, f"duplicate id {item.id!r} (also given by {by_id[item.id].path})"))
        else:
            by_id[item.id] = item
    return sorted(by_id.values(), key=lambda it: it.id), rejected
