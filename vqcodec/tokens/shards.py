"""The token output folder on disk: shards, their indexes, the merged index and the error list.

    OUTDIR/shard-RRRRR-SSSSS.npz          codes of shard S of rank R: "<id>/top" [C, n_top, T_t] and
                                          "<id>/bottom" [C, n_bottom, T_b], int16 (plain .npz, no pickle)
    OUTDIR/shard-RRRRR-SSSSS.index.jsonl  one record per utterance of that shard, written after the .npz:
                                          a shard is complete exactly when its index exists
    OUTDIR/errors-RRRRR.jsonl             files rank R failed on in its latest run
    OUTDIR/rank-RRRRR.done                rank R finished its share (JSON: rank, world_size)
    OUTDIR/index.jsonl                    merged: every record of every complete shard, sorted by id
    OUTDIR/errors.jsonl                   merged: every failed file not extracted since

Every file is written to a temporary name and renamed into place (vqcodec.io.atomic), so a reader never sees
half a shard or half an index.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from vqcodec.errors import UserError
from vqcodec.io.atomic import atomic_path, write_bytes

INDEX = "index.jsonl"
ERRORS = "errors.jsonl"
_SHARD = re.compile(r"^shard-(\d{5,})-(\d{5,})\.npz$")


@dataclass(frozen=True)
class Utterance:
    """One extracted utterance: its index record and its codes (int16, all channels).

    Attributes:
        info: the index record (id, path, sample_rate, num_samples, shard, n_top, ...).
        top: [C, n_top, T_t] int16 codes.
        bottom: [C, n_bottom, T_b] int16 codes.
        pitch: [C, 1, T_b] int16 pitch codes, for a model with a pitch stream (else None).
    """

    info: dict
    top: np.ndarray
    bottom: np.ndarray
    pitch: np.ndarray | None = None

    @property
    def id(self) -> str:
        return self.info["id"]


def shard_name(rank: int, number: int) -> str:
    return f"shard-{rank:05d}-{number:05d}.npz"


def shard_index(shard: str | os.PathLike) -> Path:
    """The index file of a shard: ``shard-R-S.npz`` -> ``shard-R-S.index.jsonl``."""
    return Path(shard).with_suffix(".index.jsonl")


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


STREAMS = ("top", "bottom", "pitch")


def write_shard(path: str | os.PathLike, records: list[dict], codes: list[tuple[np.ndarray, ...]]) -> None:
    """Write a shard's codes (per utterance: top, bottom, and the pitch codes of a model with a pitch stream),
    then its index (the index marks the shard complete)."""
    arrays = {}
    for record, streams in zip(records, codes, strict=True):
        for name, x in zip(STREAMS, streams, strict=False):
            arrays[f"{record['id']}/{name}"] = x
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    write_bytes(shard_index(path), _jsonl(records))


def load_shard(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, ...]]:
    """A shard -> ``{id: (top [C, n_top, T_t], bottom [C, n_bottom, T_b])}`` int16, in the shard's order,
    with the pitch codes ``[C, 1, T_b]`` third for a model with a pitch stream."""
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path, allow_pickle=False) as z:
        for key in z.files:
            uid, level = key.rsplit("/", 1)
            out.setdefault(uid, {})[level] = z[key]
    return {uid: tuple(levels[name] for name in STREAMS if name in levels) for uid, levels in out.items()}


def complete_shards(outdir: str | os.PathLike, rank: int | None = None) -> list[Path]:
    """Shards of ``outdir`` (of one rank, or all) whose index exists, sorted by name."""
    found = []
    for p in sorted(Path(outdir).glob("shard-*.npz")):
        m = _SHARD.match(p.name)
        if m and (rank is None or int(m.group(1)) == rank) and shard_index(p).exists():
            found.append(p)
    return found


def next_shard_number(outdir: str | os.PathLike, rank: int) -> int:
    """One past the highest complete shard number of ``rank`` (an incomplete one there is overwritten)."""
    numbers = [int(_SHARD.match(p.name).group(2)) for p in complete_shards(outdir, rank)]
    return max(numbers, default=-1) + 1


def shard_records(outdir: str | os.PathLike) -> list[dict]:
    """Every record of every complete shard, in shard order (may hold duplicates after misuse)."""
    return [r for p in complete_shards(outdir) for r in read_jsonl(shard_index(p))]


def merge(outdir: str | os.PathLike, log: TextIO | None = None) -> tuple[int, int]:
    """Build ``index.jsonl`` (sorted by id) and ``errors.jsonl`` from the complete shards and rank error lists.

    An id found in two shards (two runs writing one folder at once) is kept from the first shard by name.

    Returns:
        (utterances indexed, failed files listed).
    """
    outdir, log = Path(outdir), sys.stderr if log is None else log
    if not outdir.is_dir():
        raise UserError(f"{outdir}: no such folder")
    records: dict[str, dict] = {}
    for r in shard_records(outdir):
        if r["id"] in records:
            print(
                f"vqcodec: {r['id']}: in both {records[r['id']]['shard']} and {r['shard']}; keeping the first", file=log
            )
            continue
        records[r["id"]] = r
    done = {r["path"] for r in records.values()}
    errors: dict[str, dict] = {}
    for p in sorted(outdir.glob("errors-*.jsonl")):
        errors.update((e["path"], e) for e in read_jsonl(p) if e["path"] not in done)
    write_bytes(outdir / INDEX, _jsonl([records[k] for k in sorted(records)]))
    write_bytes(outdir / ERRORS, _jsonl(sorted(errors.values(), key=lambda e: e["path"])))
    return len(records), len(errors)


def read_index(outdir: str | os.PathLike) -> list[dict]:
    """The merged index of ``outdir``: one record per utterance, sorted by id."""
    path = Path(outdir) / INDEX
    if not path.is_file():
        raise UserError(f"{path}: no merged index (run `vqcodec tokens --merge {outdir}`)")
    return read_jsonl(path)


def read_errors(outdir: str | os.PathLike) -> list[dict]:
    """The merged list of failed files of ``outdir`` (id, path, error); empty if there is none."""
    path = Path(outdir) / ERRORS
    return read_jsonl(path) if path.exists() else []


def iter_utterances(outdir: str | os.PathLike) -> Iterator[Utterance]:
    """Every utterance of the merged index with its codes, shard by shard (each shard is read once)."""
    by_shard: dict[str, list[dict]] = {}
    for record in read_index(outdir):
        by_shard.setdefault(record["shard"], []).append(record)
    for name in sorted(by_shard):
        codes = load_shard(Path(outdir) / name)
        for record in by_shard[name]:
            yield Utterance(record, *codes[record["id"]])
