"""A folder tree coded in one process: every file of a tree to a mirrored tree, one model load, a progress
bar, failures reported and skipped, a summary at the end. No torch here: the work is a callable."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

from vqcodec.errors import UserError, VQCodecError
from vqcodec.progress import ProgressBar

# (src, dst, stop) -> seconds of audio coded; once ``stop`` is set the work ends soon (between two blocks),
# raising a BaseException, and leaves no output
Work = Callable[[Path, Path, threading.Event], float]


@dataclass(frozen=True)
class Job:
    """One file of the tree and where its output goes."""

    src: Path
    dst: Path


@dataclass
class TreeResult:
    """Attributes: done (files coded), kept (outputs that existed, left as they were without --force),
    seconds (audio seconds coded), wall (seconds taken), failed (file, reason)."""

    done: int = 0
    kept: int = 0
    seconds: float = 0.0
    wall: float = 0.0
    failed: list[tuple[Path, str]] = field(default_factory=list)


_KEPT = "kept"  # what _attempt returns for an output that exists (a finished file: outputs are atomic)
_SHOWN_COLLISIONS = 3


def plan(src_dir: Path, out_dir: Path, suffixes: tuple[str, ...], suffix: str) -> list[Job]:
    """Every file under ``src_dir`` with one of ``suffixes``, to the same place under ``out_dir`` with ``suffix``.

    Raises:
        UserError: if two inputs would be written to one output (``s.wav`` and ``s.flac`` -> ``s.vqc``),
            naming them, before any work.
    """
    jobs = [Job(p, out_dir / p.relative_to(src_dir).with_suffix(suffix)) for p in _inputs(src_dir, suffixes)]
    _refuse_collisions(jobs, case_insensitive(out_dir))
    return jobs


def _inputs(src_dir: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Every name under ``src_dir`` ending in one of ``suffixes`` that is not a folder, sorted: a FIFO or a
    dangling link is kept, to fail by name (the file twins refuse them before opening) rather than be
    skipped without a word."""
    return sorted(p for p in src_dir.rglob("*") if p.suffix.lower() in suffixes and not p.is_dir())


def case_insensitive(folder: Path) -> bool:
    """Whether names in ``folder`` (or, before it exists, in its nearest existing parent) ignore case, as on
    macOS and Windows by default: the nearest existing folder whose name has letters is found under its
    name with the case swapped."""
    for p in (folder, *folder.absolute().parents):
        if p.exists() and p.name.swapcase() != p.name:
            twin = p.with_name(p.name.swapcase())
            return twin.exists() and os.path.samefile(p, twin)
    return False


def _refuse_collisions(jobs: list[Job], ignore_case: bool = False) -> None:
    """Refuse two inputs for one output (``ignore_case``: one output up to case, as the output's file system
    sees them)."""
    by_output: dict[str, tuple[Path, list[Path]]] = {}
    for job in jobs:
        key = str(job.dst).casefold() if ignore_case else str(job.dst)
        by_output.setdefault(key, (job.dst, []))[1].append(job.src)
    clashes = [(dst, srcs) for dst, srcs in by_output.values() if len(srcs) > 1]
    if not clashes:
        return
    named = "; ".join(f"{' and '.join(map(str, srcs))} -> {dst}" for dst, srcs in clashes[:_SHOWN_COLLISIONS])
    more = f" (and {len(clashes) - _SHOWN_COLLISIONS} more)" if len(clashes) > _SHOWN_COLLISIONS else ""
    what = "1 output would be" if len(clashes) == 1 else f"{len(clashes)} outputs would each be"
    raise UserError(
        f"{what} written from several inputs: {named}{more}; rename one of each, or code them into separate folders"
    )


def run(jobs: list[Job], work: Work, force: bool, workers: int = 1, progress: str = "auto") -> TreeResult:
    """Do ``work`` on every job (``workers`` at a time); an existing output is replaced only with ``force``."""
    result, start, stop = TreeResult(), time.perf_counter(), threading.Event()
    bar = ProgressBar(len(jobs), unit="file", desc="files", mode=progress)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        try:
            for job, outcome in zip(jobs, pool.map(lambda j: _attempt(j, work, force, stop), jobs), strict=True):
                _count(result, job, outcome, bar)
                rate = result.seconds / 60 / max(time.perf_counter() - start, 1e-9)
                bar.update(1, postfix=f"{rate:.1f} audio min/s")
        except BaseException:  # SIGTERM or ^C in the main thread: the files in flight stop at their next block
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    bar.close()
    result.wall = time.perf_counter() - start
    return result


def _count(result: TreeResult, job: Job, outcome: tuple[float, str | None], bar: ProgressBar) -> None:
    seconds, error = outcome
    if error is None:
        result.done, result.seconds = result.done + 1, result.seconds + seconds
    elif error == _KEPT:
        result.kept += 1
    else:
        result.failed.append((job.src, error))
        bar.write(f"vqcodec: {job.src}: {error}")


def _attempt(job: Job, work: Work, force: bool, stop: threading.Event) -> tuple[float, str | None]:
    """(audio seconds, None), (0, :data:`_KEPT`) or (0, a one-line reason): a bad file never stops the tree."""
    if stop.is_set():  # picked up as the run stops: not started, not counted
        return 0.0, "stopped"
    if job.dst.exists() and not force:
        return 0.0, _KEPT
    try:
        job.dst.parent.mkdir(parents=True, exist_ok=True)
        return work(job.src, job.dst, stop), None
    except (VQCodecError, ValueError, sf.SoundFileError, RuntimeError) as e:
        return 0.0, str(e).removeprefix(f"{job.src}: ")
    except OSError as e:
        return 0.0, f"{e.strerror or e}" + (f" ({e.filename})" if e.filename else "")
    except Exception as e:  # a fault no check foresaw stops this file, not the tree (the summary counts it)
        return 0.0, f"{type(e).__name__}: {e}"


def summary(result: TreeResult, verb: str) -> str:
    """One line: files done, audio minutes, speed, outputs kept, failures."""
    minutes, files = result.seconds / 60, "file" if result.done == 1 else "files"
    line = (
        f"{result.done} {files} {verb} ({minutes:.1f} min of audio in {result.wall:.1f} s, "
        f"{minutes / max(result.wall, 1e-9):.1f} audio min/s)"
    )
    if result.kept:
        line += f"; {result.kept} kept (their outputs exist; --force replaces them)"
    return line + (f"; {len(result.failed)} failed" if result.failed else "")


def usable_workers(jobs: int | None, default: int = 1) -> int:
    """``--jobs``: at least 1; None is ``default``."""
    if jobs is not None and jobs < 1:
        raise UserError(f"--jobs must be at least 1, not {jobs}")
    return jobs or default
