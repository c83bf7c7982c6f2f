"""Where this process sits in a data-parallel run: torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK)
or an initialised process group, read in one place by training (NCCL on GPUs, gloo on CPU) and by token
extraction."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.distributed as dist

from vqcodec.errors import UserError


@dataclass(frozen=True)
class Context:
    """Where this process sits in the run."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str | None = None) -> Context:
    """Join the process group torchrun describes (if any) and pick this rank's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = (device or ("cuda" if torch.cuda.is_available() else "cpu")).startswith("cuda")
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    rank, world = resolve_rank() if dist.is_initialized() else (0, 1)
    return Context(rank, world, dev)


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def process_group():
    """torch.distributed if a process group is initialised, else None."""
    return dist if dist.is_available() and dist.is_initialized() else None


def resolve_rank(
    rank: int | None = None, world_size: int | None = None, env: Mapping[str, str] | None = None
) -> tuple[int, int]:
    """(rank, world_size): as given, else from the process group, else from RANK/WORLD_SIZE, else (0, 1)."""
    env = os.environ if env is None else env
    if (rank is None) != (world_size is None):
        raise UserError("give both --rank and --world-size, or neither")
    if rank is None and process_group() is not None:
        rank, world_size = process_group().get_rank(), process_group().get_world_size()
    elif rank is None and "RANK" in env and "WORLD_SIZE" in env:
        rank, world_size = int(env["RANK"]), int(env["WORLD_SIZE"])
    elif rank is None:
        rank, world_size = 0, 1
    if not 0 <= rank < world_size:
        raise UserError(f"rank {rank} is not in [0, world size {world_size})")
    return rank, world_size


def resolve_device(device: str = "cpu", env: Mapping[str, str] | None = None) -> str:
    """``cuda`` under torchrun means ``cuda:LOCAL_RANK``; refuse a device this machine lacks."""
    env = os.environ if env is None else env
    if device == "cuda" and "LOCAL_RANK" in env:
        device = f"cuda:{int(env['LOCAL_RANK'])}"
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise UserError(f"{device!r}: not a device (use cpu or cuda)") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise UserError("CUDA is not available on this machine (use --device cpu)")
    return device
