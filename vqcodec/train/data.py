"""Training data: random fixed-length segments of speech, held in memory or streamed from disk.

Two loaders draw the same kind of segment (random position, near-silent ones skipped, loudness set to a
random level), and a recipe's ``loader`` field picks one:

- ``memory`` (:class:`SegmentSampler`): every clip decoded once into RAM as int16. Fast; for corpora of a
  few hours.
- ``stream`` (:class:`StreamingSegments` behind :class:`StreamSampler`): each segment is read from its file
  with a seek, resampled and normalised in DataLoader worker processes. Memory does not grow with the
  corpus; for LibriSpeech-sized corpora.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from vqcodec.io.audio import AUDIO_EXTENSIONS, audio_files, read_mono
from vqcodec.io.corpus import AudioEntry, read_manifest, with_lengths
from vqcodec.resample import resample_window
from vqcodec.train.augment import Augment, degrade, respeed, span, speed_factor


def list_audio(root: str | Path, split: str | None = None) -> list[Path]:
    """Audio files of ``root``: a folder (recursively), or a manifest ``.csv`` (paths relative to it).

    A folder holding a ``manifest.csv`` is read through it when ``split`` is given; with ``split``, only
    that split's rows (see :func:`vqcodec.io.corpus.read_manifest`).
    """
    return [e.path for e in list_entries(root, split, lengths=False)]


def list_entries(root: str | Path, split: str | None = None, lengths: bool = True) -> list[AudioEntry]:
    """Like :func:`list_audio`, as :class:`AudioEntry` rows; with ``lengths``, sample rates and lengths not
    in the manifest are read from the files' headers (unreadable files are dropped)."""
    root = Path(root)
    if root.is_file() and root.suffix.lower() in AUDIO_EXTENSIONS:
        entries = [AudioEntry(root)]
    elif root.is_file():
        entries = read_manifest(root, split)
    elif split and (root / "manifest.csv").exists():
        entries = read_manifest(root / "manifest.csv", split)
    else:
        entries = [AudioEntry(p) for p in audio_files(root)]
    return with_lengths(entries) if lengths else entries


def load_corpus(paths: list[Path], sample_rate: int) -> list[np.ndarray]:
    """Each file as a mono int16 array at ``sample_rate`` (int16 halves the memory of float32)."""
    clips = []
    for p in paths:
        x = read_mono(p, sample_rate)
        clips.append((x.clamp(-1, 1) * 32767).round().to(torch.int16).numpy())
    return clips


class SegmentSampler:
    """Draws batches of random segments, skipping near-silent ones and normalising loudness.

    Args:
        clips: mono int16 arrays.
        segment: samples per segment.
        seed: seed of the sampler's own generator (batches are reproducible).
        min_rms_db: segments quieter than this (dBFS) are redrawn.
        gain_db: target RMS range in dBFS; each segment is scaled to a random level in it.
        augment: the speed a segment is played at, and rooms and noises a kept segment may be put in before its
            level is set (:mod:`vqcodec.train.augment`); None or inactive: none.
    """

    def __init__(
        self,
        clips: list[np.ndarray],
        segment: int,
        seed: int = 0,
        min_rms_db: float = -50.0,
        gain_db: tuple[float, float] = (-32.0, -16.0),
        augment: Augment | None = None,
    ):
        self.clips = [c for c in clips if len(c) >= segment]
        if not self.clips:
            raise ValueError(f"no clip is at least {segment} samples long")
        self.segment, self.min_rms_db, self.gain_db = segment, min_rms_db, gain_db
        self.augment = augment or Augment()
        self.rng = np.random.default_rng(seed)
        lengths = np.array([len(c) for c in self.clips], dtype=np.float64)
        self.weights = lengths / lengths.sum()

    def _draw(self) -> np.ndarray:
        wanted = span(self.segment, speed_factor(self.rng, self.augment))
        for _ in range(20):
            clip = self.clips[self.rng.choice(len(self.clips), p=self.weights)]
            n = min(wanted, len(clip))
            start = self.rng.integers(0, len(clip) - n + 1)
            x = respeed(clip[start : start + n].astype(np.float32) / 32768.0, self.segment)
            rms_db = 10 * np.log10(np.mean(x**2) + 1e-12)
            if rms_db > self.min_rms_db:
                break
        y, rms_db = _augmented(x, rms_db, self.rng, self.augment)
        return _rows(y, x, rms_db, self.rng.uniform(*self.gain_db), self.augment)

    def batch(self, size: int) -> torch.Tensor:
        """[size, R, segment] float32: R = 1, the input, or 2, the input then its clean target (``augment``)."""
        return _stack([self._draw() for _ in range(size)])

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


def _augmented(x: np.ndarray, rms_db: float, rng: np.random.Generator, spec: Augment) -> tuple[np.ndarray, float]:
    """``x`` degraded as ``spec`` draws, and its RMS in dBFS (unchanged, and nothing drawn, when inactive)."""
    if not spec.active:
        return x, rms_db
    x = degrade(x, rng, spec)
    return x, float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-12))


def _level(x: np.ndarray, rms_db: float, target_db: float) -> np.ndarray:
    """``x`` scaled from ``rms_db`` to ``target_db`` dBFS RMS, clipped to [-1, 1] (as SegmentSampler)."""
    return np.clip(x * 10 ** ((target_db - rms_db) / 20), -1.0, 1.0)


def _rows(y: np.ndarray, x: np.ndarray, rms_db: float, target_db: float, spec: Augment) -> np.ndarray:
    """The degraded segment ``y`` [T] (RMS ``rms_db``) brought to ``target_db``: [T]; with ``spec.clean_target``,
    [2, T], the clean segment ``x`` at the same gain under it."""
    if not spec.clean_target:
        return _level(y, rms_db, target_db)
    return np.stack([_level(y, rms_db, target_db), _level(x, rms_db, target_db)])


def _stack(rows: list[np.ndarray]) -> torch.Tensor:
    """Segments [T] or [R, T] -> a batch [B, R, T] (R = 1 for [T])."""
    batch = np.stack(rows)
    return torch.from_numpy(batch[:, None] if batch.ndim == 2 else batch)


class StreamingSegments(IterableDataset):
    """An endless stream of batches of random segments read from audio files on disk.

    Each segment: a file drawn with probability proportional to its length, a random start, the window
    read with a seek (``soundfile``), mixed to mono, resampled to ``sample_rate`` (exactly the samples a
    whole-file resampling would give there, see :mod:`vqcodec.resample`); a segment quieter than
    ``min_rms_db`` is redrawn (up to 20 draws, as :class:`SegmentSampler`), and the kept one is scaled to a
    random RMS level in ``gain_db``. Files that cannot be read are reported once and redrawn.

    Determinism: batch number ``k`` is a pure function of ``(seed, rank, k)`` (its generator is seeded
    from that triple). In DataLoader worker ``w`` of ``W`` the stream yields batches ``start + w``,
    ``start + w + W``, ... so each worker draws from its own seeds (``(seed, rank)`` and the worker id pick
    them), no two workers share a batch, and the DataLoader, which takes batches from its workers in
    turn, returns ``start, start + 1, ...``: the same batches whatever the number of workers, and a run
    resumed at batch ``k`` continues exactly as if it had not stopped.

    Yields ``(k, [batch_size, R, segment] float32)`` (R as :meth:`SegmentSampler.batch`).

    Args:
        entries: files with known ``sample_rate`` and ``frames`` (see :func:`list_entries`).
        segment: samples per segment, at ``sample_rate``.
        sample_rate: the model's rate.
        batch_size: segments per batch.
        seed, rank: the run's seed and this process's rank.
        start: number of the first batch.
        augment: speeds, rooms and noises, as :class:`SegmentSampler`'s.
    """

    def __init__(
        self,
        entries: Sequence[AudioEntry],
        segment: int,
        sample_rate: int,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        start: int = 0,
        min_rms_db: float = -50.0,
        gain_db: tuple[float, float] = (-32.0, -16.0),
        augment: Augment | None = None,
    ):
        super().__init__()
        self.augment = augment or Augment()
        kept = [
            (str(e.path), e.sample_rate, math.floor(e.frames * sample_rate / e.sample_rate))
            for e in entries
            if e.sample_rate > 0 and e.frames > 0
        ]
        kept = [k for k in kept if k[2] >= segment]
        if not kept:
            raise ValueError(f"no file is at least {segment} samples long at {sample_rate} Hz")
        self.paths = [k[0] for k in kept]
        self.rates = np.array([k[1] for k in kept], dtype=np.int64)
        self.lengths = np.array([k[2] for k in kept], dtype=np.int64)  # at sample_rate
        self.cdf = np.cumsum(self.lengths / self.lengths.sum())
        self.segment, self.sample_rate, self.batch_size = segment, sample_rate, batch_size
        self.seed, self.rank, self.start = seed, rank, start
        self.min_rms_db, self.gain_db = min_rms_db, gain_db
        self._bad: set[int] = set()

    def _read(self, i: int, start: int, length: int) -> np.ndarray:
        """Samples ``[start, start + length)`` of file ``i`` at the model rate, mono float32."""
        with sf.SoundFile(self.paths[i]) as f:

            def fetch(a: int, b: int) -> torch.Tensor:
                out = np.zeros((b - a, f.channels), dtype=np.float32)
                lo, hi = max(a, 0), min(b, f.frames)
                if lo < hi:
                    f.seek(lo)
                    data = f.read(hi - lo, dtype="float32", always_2d=True)
                    out[lo - a : lo - a + len(data)] = data
                return torch.from_numpy(out.T.copy())

            x = resample_window(fetch, int(self.rates[i]), self.sample_rate, start, start + length)
        x = x.mean(dim=0).numpy()
        if not np.isfinite(x).all():
            raise ValueError("NaN or infinite samples")
        return x

    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        x, rms_db = None, 0.0
        wanted = span(self.segment, speed_factor(rng, self.augment))
        for _ in range(20):
            i = min(int(np.searchsorted(self.cdf, rng.random(), side="right")), len(self.paths) - 1)
            n = min(wanted, int(self.lengths[i]))
            start = int(rng.integers(0, self.lengths[i] - n + 1))
            try:
                x = respeed(self._read(i, start, n), self.segment)
            except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as e:
                if i not in self._bad:
                    self._bad.add(i)
                    print(f"vqcodec train: skipping unreadable {self.paths[i]} ({e})", file=sys.stderr)
                continue
            rms_db = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-12)
            if rms_db > self.min_rms_db:
                break
        if x is None:
            raise RuntimeError("20 files in a row could not be read: check the corpus")
        y, rms_db = _augmented(x, rms_db, rng, self.augment)
        return _rows(y, x, rms_db, rng.uniform(*self.gain_db), self.augment).astype(np.float32)

    def batch_at(self, k: int) -> torch.Tensor:
        """Batch number ``k``: ``[batch_size, R, segment]`` float32 (R as :meth:`SegmentSampler.batch`)."""
        rng = np.random.default_rng([self.seed, self.rank, k])
        return _stack([self._draw(rng) for _ in range(self.batch_size)])

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        k = self.start + worker
        while True:
            yield k, self.batch_at(k)
            k += workers


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # workers resample small windows; threads would only fight the trainer


class StreamSampler:
    """:class:`StreamingSegments` through a DataLoader with ``num_workers`` processes, behind the interface
    of :class:`SegmentSampler` (``batch``, ``state``, ``set_state``), so the trainer and its checkpoints
    treat both loaders alike. The state is the number of the next batch."""

    def __init__(self, dataset: StreamingSegments, num_workers: int = 0):
        self.dataset, self.num_workers = dataset, num_workers
        self.next = dataset.start
        self._it = None

    def batch(self, size: int) -> torch.Tensor:
        """The next ``[size, R, segment]`` batch (R as :meth:`SegmentSampler.batch`; ``size`` must be the dataset's
        batch size)."""
        if size != self.dataset.batch_size:
            raise ValueError(f"the stream makes batches of {self.dataset.batch_size}, not {size}")
        if self._it is None:
            self.dataset.start = self.next
            workers = self.num_workers
            # its own generator: creating an iterator draws a base seed, which must not come from (and
            # shift) torch's global generator that the training step uses
            loader = DataLoader(
                self.dataset,
                batch_size=None,
                num_workers=workers,
                worker_init_fn=_worker_init,
                prefetch_factor=2 if workers else None,
                persistent_workers=False,
                generator=torch.Generator().manual_seed(self.dataset.seed),
            )
            self._it = iter(loader)
        k, x = next(self._it)
        if k != self.next:
            raise RuntimeError(f"stream out of order: batch {k} where {self.next} was expected")
        self.next += 1
        return x

    def state(self) -> dict:
        return {"loader": "stream", "next_batch": self.next}

    def set_state(self, state: dict) -> None:
        if not isinstance(state, dict) or "next_batch" not in state:
            raise ValueError("not a stream loader state")
        self.close()
        self.next = int(state["next_batch"])

    def close(self) -> None:
        """Stop the worker processes (a later ``batch`` starts new ones where the stream stopped)."""
        self._it = None
