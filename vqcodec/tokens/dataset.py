"""A torch Dataset of token sequences over an extraction's merged index, for language-model training."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from vqcodec.errors import UserError
from vqcodec.tokens.sequence import PATTERNS, flatten, tokens_per_frame, vocab_size
from vqcodec.tokens.shards import read_index


class TokenDataset(Dataset):
    """Flattened token sequences (1-D LongTensors), one per utterance and channel.

    Args:
        outdir: a folder written by ``vqcodec tokens`` (its merged ``index.jsonl`` is read).
        pattern: "hierarchical" or "flat" (see :mod:`vqcodec.tokens.sequence`).
        max_len: if given, an utterance longer than this is cut to the most whole top frames whose tokens
            fit, so every item is at most ``max_len`` tokens and still unflattens exactly.
        channels: "first" (default): one item per utterance, its channel 0; "all": one item per channel.
        random_crop: cut long utterances at a random top frame (torch's generator, so DataLoader workers
            seed it) instead of at their start.

    Attributes:
        n_top, n_bottom, ratio, codebook_size: the codes' shape, equal for every utterance.
        vocab_size: tokens are in ``[0, vocab_size)``.
    """

    def __init__(
        self,
        outdir: str | os.PathLike,
        pattern: str = "hierarchical",
        max_len: int | None = None,
        channels: str = "first",
        random_crop: bool = False,
    ):
        if pattern not in PATTERNS:
            raise UserError(f"unknown pattern {pattern!r} (use one of {', '.join(PATTERNS)})")
        if channels not in ("first", "all"):
            raise UserError(f"channels must be 'first' or 'all', got {channels!r}")
        self.outdir, self.pattern, self.random_crop = Path(outdir), pattern, random_crop
        self.records = read_index(outdir)
        self._set_shape()
        self.per_frame = tokens_per_frame(self.n_top, self.n_bottom, self.ratio)
        if max_len is not None and max_len < self.per_frame:
            raise UserError(f"max_len {max_len} is shorter than one top frame ({self.per_frame} tokens)")
        self.max_frames = None if max_len is None else max_len // self.per_frame
        self.items = [
            (i, c) for i, r in enumerate(self.records) for c in (range(r["channels"]) if channels == "all" else (0,))
        ]
        self._open: tuple[int, str, np.lib.npyio.NpzFile] | None = None

    def _set_shape(self) -> None:
        shapes = {
            (r["n_top"], r["n_bottom"], r["bottom_frames"] // r["top_frames"], r["codebook_size"]) for r in self.records
        }
        if len(shapes) > 1:
            raise UserError(f"{self.outdir}: utterances of different code shapes {sorted(shapes)}")
        if not shapes:
            raise UserError(f"{self.outdir}: the index holds no utterances")
        self.n_top, self.n_bottom, self.ratio, self.codebook_size = shapes.pop()
        self.vocab_size = vocab_size(self.n_top, self.n_bottom, self.codebook_size)

    def __len__(self) -> int:
        return len(self.items)

    def _shard(self, name: str) -> np.lib.npyio.NpzFile:
        """The open shard ``name``; one is kept open per process (a forked worker opens its own)."""
        if self._open is None or self._open[:2] != (os.getpid(), name):
            if self._open is not None and self._open[0] == os.getpid():
                self._open[2].close()
            self._open = (os.getpid(), name, np.load(self.outdir / name, allow_pickle=False))
        return self._open[2]

    def codes(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Item ``index`` as codes: top [n_top, T_t] and bottom [n_bottom, T_b] int64, before any cut."""
        i, channel = self.items[index]
        record = self.records[i]
        shard = self._shard(record["shard"])
        top, bottom = shard[f"{record['id']}/top"][channel], shard[f"{record['id']}/bottom"][channel]
        return torch.from_numpy(top.astype(np.int64)), torch.from_numpy(bottom.astype(np.int64))

    def __getitem__(self, index: int) -> torch.Tensor:
        """[L] int64 tokens, L = frames * per_frame (frames cut to ``max_len`` if given)."""
        top, bottom = self.codes(index)
        frames = top.shape[-1]
        if self.max_frames is not None and frames > self.max_frames:
            start = int(torch.randint(frames - self.max_frames + 1, ())) if self.random_crop else 0
            stop = start + self.max_frames
            top, bottom = top[:, start:stop], bottom[:, start * self.ratio : stop * self.ratio]
        return flatten(top, bottom, self.codebook_size, self.pattern)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_open": None}  # an open file does not travel to a spawned worker
