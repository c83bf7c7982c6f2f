"""Training batches with their tracked pitch, prepared ahead in worker processes (``--pitch-workers N``).

A source-filter head is supervised by Praat's pitch of each batch, and Praat tracks at a few hundred
times real time on one core: on a GPU, a step of 60 audio-seconds would wait about 0.3 s for it in the
main process, longer than the step itself. :class:`PitchFeed` draws each batch from the sampler in the main process (the
same batches, in the same order, as without it) and tracks its rows in ``workers`` processes, ``depth``
batches ahead of the step that uses them, so the step does not wait.

A checkpoint then holds the sampler's state ``depth`` batches ahead: a resumed run skips the batches that
were in flight when it stopped.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np
import torch

from vqcodec.pitch.target import PitchSpec


class PitchFeed:
    """Batches ``[B, R, T]`` from ``sampler.batch(batch_size)`` with their F0 ``[B, frames]`` from ``pitch``,
    each input row (``[:, 0]``, what the model codes) tracked in one of ``workers`` processes, ``depth`` batches
    ahead."""

    def __init__(self, sampler, batch_size: int, pitch: PitchSpec, workers: int, depth: int = 2):
        if workers < 1 or depth < 0:
            raise ValueError("a pitch feed needs at least one worker and a depth of at least 0")
        self.sampler, self.batch_size, self.pitch, self.depth = sampler, batch_size, pitch, depth
        # forkserver: no worker is forked from a process that holds CUDA or torch's thread pools
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
        self.ahead: deque[tuple[torch.Tensor, list[Future]]] = deque()

    def _submit(self) -> None:
        x = self.sampler.batch(self.batch_size)  # [B, R, T]: the input, then any clean target
        rows = x[:, 0].double().numpy()
        self.ahead.append((x, [self.pool.submit(self.pitch, row[None]) for row in rows]))

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next batch [B, R, T] and its F0 [B, frames] (float32, Hz, 0 where unvoiced); ``depth``
        batches stay in the workers while the caller steps."""
        while len(self.ahead) <= self.depth:
            self._submit()
        x, rows = self.ahead.popleft()
        return x, torch.from_numpy(np.concatenate([r.result() for r in rows]))

    def close(self) -> None:
        """Cancel the batches ahead and wait for the rows being tracked (milliseconds each). Not waiting left
        the pool's wakeup pipe to the interpreter's exit, which could write to it after it was closed and print
        a traceback ("Bad file descriptor") after a finished run (CPython's known race of ``wait=False``)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.ahead.clear()
