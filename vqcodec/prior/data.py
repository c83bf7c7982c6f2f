"""Token shards as the prior's data: the tokens API reads them, this module crops and batches them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vqcodec.errors import UserError


@dataclass(frozen=True)
class Tokens:
    """Codes of a token folder, one entry per utterance and channel.

    Attributes:
        top: ``[n_top, T]`` int64 arrays.
        bottom: ``[n_bottom, ratio * T]`` int64 arrays.
        info: the index record of the last utterance (model, model_hash, codebook_size, n_top, ...).
    """

    top: list[np.ndarray]
    bottom: list[np.ndarray]
    info: dict

    @property
    def ratio(self) -> int:
        return self.bottom[0].shape[1] // max(1, self.top[0].shape[1])


def read_tokens(folder: str) -> Tokens:
    """Every utterance of a ``vqcodec tokens`` folder (read with :func:`vqcodec.tokens.iter_utterances`)."""
    from vqcodec.tokens import iter_utterances

    top, bottom, info = [], [], {}
    for u in iter_utterances(folder):
        info = u.info
        for c in range(u.top.shape[0]):
            if u.top.shape[2]:
                top.append(u.top[c].astype(np.int64))
                bottom.append(u.bottom[c].astype(np.int64))
    if not top:
        raise UserError(f"{folder}: holds no tokens")
    return Tokens(top, bottom, info)


def random_batch(tokens: Tokens, rng: np.random.Generator, size: int, frames: int) -> tuple[torch.Tensor, ...]:
    """``size`` random crops of ``frames`` top frames (utterances drawn by length; shorter ones padded by
    repeating their last frame is avoided: only utterances at least ``frames`` long are drawn).

    Returns:
        ``[size, n_top, frames]`` and ``[size, n_bottom, ratio * frames]`` int64 tensors.
    """
    lengths = np.array([t.shape[1] for t in tokens.top])
    ok = np.flatnonzero(lengths >= frames)
    if not len(ok):
        raise UserError(f"no utterance has {frames} top frames: use fewer --frames")
    weights = lengths[ok] / lengths[ok].sum()
    picks = rng.choice(ok, size=size, p=weights)
    starts = [int(rng.integers(0, lengths[i] - frames + 1)) for i in picks]
    r = tokens.ratio
    top = np.stack([tokens.top[i][:, s : s + frames] for i, s in zip(picks, starts, strict=True)])
    bottom = np.stack([tokens.bottom[i][:, r * s : r * (s + frames)] for i, s in zip(picks, starts, strict=True)])
    return torch.from_numpy(top), torch.from_numpy(bottom)
