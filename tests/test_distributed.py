"""Tests for vqcodec.distributed: the rank resolver, and two gloo processes on CPU that train a few steps, whose
parameters and codebook buffers must agree afterwards."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from conftest import TINY

from vqcodec.distributed import Context, resolve_rank
from vqcodec.errors import UserError
from vqcodec.train.config import TrainConfig
from vqcodec.train.data import SegmentSampler
from vqcodec.train.loop import Trainer


def _worker(rank: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    # 30 top frames = 1200 samples: the longest mel window (2048) needs more than 1024
    cfg = TrainConfig(model=TINY, steps=4, batch_size=2, segment_frames=30, warmup=1, commit_warmup=2)
    rng = np.random.default_rng(rank)  # each rank sees different audio
    clips = [(rng.standard_normal(4000) * 3000).astype(np.int16) for _ in range(3)]
    trainer = Trainer(
        cfg, SegmentSampler(clips, 30 * TINY.top_hop, seed=rank), out=None, ctx=Context(rank, 2, torch.device("cpu"))
    )
    quantizers = [*trainer.model.hierarchy.top_quantizer.layers, *trainer.model.hierarchy.bottom_quantizer.layers]
    for q in quantizers:  # restart every other step, and call most codes dead so restarts really happen
        q.restart_every, q.restart_threshold = 2, 2.0
    before = quantizers[0].codebook.weight.detach().clone()
    for _ in range(cfg.steps):
        trainer.train_step()
    assert not torch.equal(before, quantizers[0].codebook.weight)
    torch.save(trainer.model.state_dict(), f"{out}/rank{rank}.pt")
    dist.destroy_process_group()


def test_ranks_agree_after_training(tmp_path):
    mp.spawn(_worker, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert a.keys() == b.keys()
    codebooks = [k for k in a if k.endswith(("codebook.weight", "usage"))]
    assert codebooks
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_resolve_rank():
    assert resolve_rank(env={}) == (0, 1)
    assert resolve_rank(env={"RANK": "3", "WORLD_SIZE": "4"}) == (3, 4)
    assert resolve_rank(1, 2, env={"RANK": "3", "WORLD_SIZE": "4"}) == (1, 2)
    for bad in ((2, 2), (1, None)):
        with pytest.raises(UserError):
            resolve_rank(*bad, env={})
