"""How many CPU threads torch computes with: ``--threads N``, or a default that holds up on a busy machine.

Measured on the project's 2-core machine with a training run busy on one core (benchmarks/threads.py,
docs/benchmarks.md, "Threads"): OpenMP's default of spinning while it waits made 2 threads 8x slower than 1 at
compressing a 3-minute file (18.2 s against 2.4 s). With passive waiting, 2 threads take 2.5 s busy, and
on an idle machine they are faster than 1. So the CLI asks OpenMP to wait passively (unless
``OMP_WAIT_POLICY`` is set) and, by default, uses the cores not already busy: the usable cores minus the
1-minute load average, at least one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from vqcodec.errors import UserError


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_threads() -> int:
    """The usable cores minus the 1-minute load average (rounded), at least 1."""
    cores = usable_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this OS
        load = 0.0
    return max(1, min(cores, round(cores - load)))


def bounded_threads(n: int | None) -> int:
    """``--threads``: None is :func:`default_threads`; below 1 is refused; above the usable cores is the
    usable cores (more cannot compute faster, and 1000 asked once made onnxruntime start 832 threads and
    hang at an address-space cap)."""
    if n is None:
        return default_threads()
    if n < 1:
        raise UserError(f"--threads must be at least 1, not {n}")
    return min(n, usable_cores())


def prefer_passive_waiting() -> None:
    """Ask OpenMP to sleep rather than spin while waiting (before torch loads it; the user's setting wins).

    Spinning threads steal the cores they wait for when another process is busy on them. Once torch is
    imported OpenMP has read its settings: then nothing is changed.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@contextmanager
def torch_threads(n: int | None) -> Iterator[int]:
    """torch computes with ``n`` threads (see :func:`bounded_threads`) inside; restored on the way out."""
    threads = bounded_threads(n)
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
