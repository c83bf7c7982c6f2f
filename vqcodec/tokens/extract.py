"""Batch extraction: audio files -> token shards, exact, resumable and split across ranks.

Each rank takes the utterances at positions ``i % world_size == rank`` of the list sorted by id (no
overlap, no gap), skips those already in a complete shard of the output folder (so a re-run resumes and
never duplicates), sorts the rest by length and codes them ``batch_size`` files at a time with
``encode_sources`` of the pipeline (:class:`vqcodec.pipeline.coder.Coder`, on either backend, or the torch API's
:class:`vqcodec.codec.Codec`): each file gets exactly the codes ``codec.encode`` gives it alone, the same on
onnxruntime and torch. A file that
fails (unreadable, empty, NaN samples) is reported on one line, listed in ``errors-RRRRR.jsonl`` and skipped.

Merging the shard indexes into ``index.jsonl``: with an initialised torch.distributed process group, rank 0
after a barrier; without one, the rank that finishes last (each rank leaves a ``rank-RRRRR.done`` marker and
merges when it sees the markers of all ranks). ``vqcodec tokens --merge OUTDIR`` (:func:`merge`) does it by
hand, for instance after a rank was restarted alone.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from vqcodec.codes import Codes
from vqcodec.distributed import process_group, resolve_rank
from vqcodec.errors import UserError
from vqcodec.io.atomic import write_bytes
from vqcodec.io.audio import FileSource
from vqcodec.pipeline.coder import Coder
from vqcodec.pipeline.rates import Rung
from vqcodec.pipeline.windows import resampled_length
from vqcodec.progress import ProgressBar
from vqcodec.tokens.inputs import Item, collect
from vqcodec.tokens.shards import merge, next_shard_number, shard_name, shard_records, write_shard

# What one bad file can raise while being read or coded; it fails that file, not the run.
_FAILURES = (UserError, OSError, RuntimeError, ValueError)


@dataclass(frozen=True)
class Probed:
    """An utterance whose header has been read; ``frames``: top frames at the model's rate."""

    item: Item
    num_samples: int
    sample_rate: int
    frames: int


@dataclass
class Result:
    """What one call of :func:`extract` did (this rank, this run).

    ``merged``: this call built ``index.jsonl``; then ``indexed`` utterances are in it and ``listed`` failed
    files (of every rank) in ``errors.jsonl``.
    """

    extracted: int = 0
    skipped: int = 0
    failed: int = 0
    audio_s: float = 0.0
    seconds: float = 0.0
    merged: bool = False
    indexed: int = 0
    listed: int = 0


def _probe(item: Item, codec: Coder) -> Probed | Exception:
    try:
        with FileSource(item.path) as s:
            n = resampled_length(s.num_samples, s.sample_rate, codec.sample_rate)
            return Probed(item, s.num_samples, s.sample_rate, -(-n // codec.config.top_hop))
    except _FAILURES as e:
        return e


def _encode_batch(codec: Coder, batch: list[Probed], kbps: float) -> list[Codes | Exception]:
    """Codes of each file of the batch, or the error it raised; a failing batch is retried file by file."""
    out: list[Codes | Exception | None] = [None] * len(batch)
    retry: list[int] = []
    with ExitStack() as stack:
        opened = []
        for i, p in enumerate(batch):
            try:
                opened.append((i, stack.enter_context(FileSource(p.item.path))))
            except _FAILURES as e:
                out[i] = e
        try:
            if opened:
                for (i, _), codes in zip(opened, codec.encode_sources([s for _, s in opened], kbps), strict=True):
                    out[i] = codes
        except _FAILURES as e:
            if len(opened) == 1:
                out[opened[0][0]] = e
            else:
                retry = [i for i, _ in opened]
    for i in retry:
        out[i] = _encode_batch(codec, [batch[i]], kbps)[0]
    return out


def _record(item: Item, codes: Codes, rung: Rung, codebook_size: int, pitch_bits: int = 0) -> dict:
    return {
        "id": item.id,
        "path": str(item.path),
        "shard": None,
        "sample_rate": codes.sample_rate,
        "num_samples": codes.num_samples,
        "duration": round(codes.duration, 6),
        "channels": codes.channels,
        "top_frames": int(codes.top.shape[-1]),
        "bottom_frames": int(codes.bottom.shape[-1]),
        "n_top": int(codes.top.shape[1]),
        "n_bottom": int(codes.bottom.shape[1]),
        "codebook_size": codebook_size,
        "kbps": rung.kbps,
        "model": codes.model_name,
        "model_hash": codes.model_hash.hex(),
        **({"pitch_bits": pitch_bits} if codes.pitch is not None else {}),
    }


class _ShardWriter:
    """Collects coded utterances and writes a shard every ``size`` of them (and the rest at ``flush``)."""

    def __init__(self, outdir: Path, rank: int, size: int):
        self.outdir, self.rank, self.size = outdir, rank, size
        self.number = next_shard_number(outdir, rank)
        self.records: list[dict] = []
        self.codes: list[tuple[np.ndarray, ...]] = []

    def add(self, record: dict, codes: Codes) -> None:
        # int16 holds every code: extract() refuses codebooks larger than 2**15.
        self.records.append(record)
        self.codes.append(tuple(np.asarray(x).astype(np.int16) for x in codes.streams))  # numpy or tensors
        if len(self.records) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.records:
            return
        name = shard_name(self.rank, self.number)
        for r in self.records:
            r["shard"] = name
        write_shard(self.outdir / name, self.records, self.codes)
        self.number, self.records, self.codes = self.number + 1, [], []


class _ErrorLog:
    """Failed files: one line on ``say`` and one JSON line in ``errors-RRRRR.jsonl`` (rewritten each run)."""

    def __init__(self, path: Path, say):
        self.file, self.say, self.count = open(path, "w"), say, 0

    def add(self, item: Item, error: Exception | str) -> None:
        text = str(error) if isinstance(error, (UserError, str)) else f"{item.path}: {type(error).__name__}: {error}"
        text = " ".join(text.split())  # one line, whatever the exception says
        self.file.write(json.dumps({"id": item.id, "path": str(item.path), "error": text}) + "\n")
        self.file.flush()
        self.say(f"vqcodec: {text}")
        self.count += 1

    def close(self) -> None:
        self.file.close()


def _marker(outdir: Path, rank: int) -> Path:
    return outdir / f"rank-{rank:05d}.done"


def _all_done(outdir: Path, world_size: int) -> bool:
    for r in range(world_size):
        marker = _marker(outdir, r)
        if not marker.exists() or json.loads(marker.read_text()).get("world_size") != world_size:
            return False
    return True


def _finish(outdir: Path, rank: int, world_size: int, log: TextIO) -> tuple[int, int] | None:
    """Mark this rank done and merge if it is the one to: then (utterances indexed, failed files listed)."""
    write_bytes(_marker(outdir, rank), json.dumps({"rank": rank, "world_size": world_size}).encode())
    group = process_group()
    if group is not None:
        group.barrier()
    elif not _all_done(outdir, world_size):
        return None
    return merge(outdir, log) if rank == 0 or group is None else None


def _check_args(codec: Coder, batch_size: int, shard_size: int, rank: int, world_size: int) -> None:
    if batch_size < 1 or shard_size < 1:
        raise UserError("--batch-size and --shard-size must be at least 1")
    if not 0 <= rank < world_size:
        raise UserError(f"rank {rank} is not in [0, world size {world_size})")
    if codec.config.codebook_size > 2**15:
        raise UserError(
            f"model {codec.name} has {codec.config.codebook_size}-entry codebooks: token shards "
            f"store codes as int16, so at most {2**15}"
        )


def _check_compatible(outdir: Path, records: list[dict], codec: Coder, rung: Rung) -> None:
    """Refuse to add tokens of another model or rate to a folder that holds some."""
    ours = (codec.hash.hex(), rung.n_top, rung.n_bottom)
    for r in records:
        if (r["model_hash"], r["n_top"], r["n_bottom"]) != ours:
            raise UserError(
                f"{outdir}: holds tokens of model {r['model']} ({r['model_hash']}) with "
                f"{r['n_top']}+{r['n_bottom']} codebooks; this run makes {codec.name} ({ours[0]}) "
                f"with {ours[1]}+{ours[2]}: use another output folder"
            )


def _rung(codec: Coder, bitrate: float | None) -> Rung:
    try:
        return codec.rung(bitrate)
    except ValueError as e:
        raise UserError(str(e)) from None


def _batches(items: list[Probed], size: int) -> Iterator[list[Probed]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def extract(
    codec: Coder,
    inputs: Sequence[str | os.PathLike] | str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    bitrate: float | None = None,
    batch_size: int = 8,
    shard_size: int = 1000,
    rank: int | None = None,
    world_size: int | None = None,
    progress: bool = True,
    log: TextIO | None = None,
) -> Result:
    """Extract the tokens of every utterance in ``inputs`` into shards under ``outdir``.

    Args:
        codec: the model on its backend (:func:`vqcodec.pipeline.files.load`, or a :class:`vqcodec.codec.Codec`),
            on the device to run on.
        inputs: files, folders and manifests (see :mod:`vqcodec.tokens.inputs`).
        outdir: output folder (created if missing); a folder that already holds shards is resumed.
        bitrate: kbps per channel (the highest rung at or below; default 3).
        batch_size: files coded together.
        shard_size: utterances per shard.
        rank, world_size: this process's share (default: see :func:`resolve_rank`).
        progress: report files/s and audio-hours/s on ``log``.
        log: where failures and progress are written (default: stderr).

    Raises:
        UserError: bad arguments, no audio in the inputs, or ``outdir`` holds tokens of another model or rate.
    """
    rank, world_size = resolve_rank(rank, world_size)
    log = sys.stderr if log is None else log
    _check_args(codec, batch_size, shard_size, rank, world_size)
    rung, outdir, t0 = _rung(codec, bitrate), Path(outdir), time.monotonic()
    items, rejected = collect([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)
    if not items and not rejected:
        raise UserError("no audio files found in the inputs")
    if outdir.exists() and not outdir.is_dir():
        raise UserError(f"{outdir}: exists and is not a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    existing = shard_records(outdir)
    _check_compatible(outdir, existing, codec, rung)  # a refused run touches nothing of a finished one
    _marker(outdir, rank).unlink(missing_ok=True)
    done = {r["id"] for r in existing}
    mine = items[rank::world_size]
    pending = [it for it in mine if it.id not in done]
    result = Result(skipped=len(mine) - len(pending))
    bar = ProgressBar(
        len(pending), unit="file", desc="tokens", mode="auto" if progress else "off", stream=log, every=10.0
    )
    errors = _ErrorLog(outdir / f"errors-{rank:05d}.jsonl", bar.write)
    if progress and pending:
        bar.write(f"tokens: rank {rank} of {world_size}: {len(pending)} files to code, {result.skipped} already done")
    try:
        for item, why in rejected if rank == 0 else []:
            errors.add(item, why)
        _run(
            codec,
            rung,
            _probe_all(pending, codec, errors, bar),
            outdir,
            rank,
            batch_size,
            shard_size,
            errors,
            bar,
            result,
        )
    finally:
        bar.close()
        errors.close()
    result.failed, result.seconds = errors.count, time.monotonic() - t0
    merged = _finish(outdir, rank, world_size, log)
    if merged is not None:
        result.merged, (result.indexed, result.listed) = True, merged
    return result


def _probe_all(pending: list[Item], codec: Coder, errors: _ErrorLog, bar: ProgressBar) -> list[Probed]:
    """Headers of the pending files, sorted by length then id; unreadable ones are reported."""
    probed = []
    for item in pending:
        p = _probe(item, codec)
        if isinstance(p, Probed):
            probed.append(p)
        else:
            errors.add(item, p)
            bar.count(1, 0.0)
    return sorted(probed, key=lambda p: (p.frames, p.item.id))


def _run(
    codec: Coder,
    rung: Rung,
    probed: list[Probed],
    outdir: Path,
    rank: int,
    batch_size: int,
    shard_size: int,
    errors: _ErrorLog,
    bar: ProgressBar,
    result: Result,
) -> None:
    writer = _ShardWriter(outdir, rank, shard_size)
    for batch in _batches(probed, batch_size):
        audio_s = 0.0
        for p, out in zip(batch, _encode_batch(codec, batch, rung.kbps), strict=True):
            if isinstance(out, Codes):
                writer.add(_record(p.item, out, rung, codec.config.codebook_size, codec.config.pitch_bits), out)
                result.extracted, audio_s = result.extracted + 1, audio_s + out.duration
            else:
                errors.add(p.item, out)
        result.audio_s += audio_s
        bar.count(len(batch), audio_s)
    writer.flush()
