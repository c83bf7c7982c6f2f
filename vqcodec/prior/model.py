"""VQ-VAE-2's priors over the codes: an autoregressive model of the top codes, and one of the bottom codes
conditioned on the whole top level, as in Razavi et al. 2019 ("Generating Diverse High-Fidelity Images
with VQ-VAE-2"), made small: a GRU over frames instead of a PixelSNAIL.

Order of one level: frame by frame; within a frame, codebook by codebook (the residual stack's order).
The probability of code ``[j, t]`` depends only on frames ``< t`` and codebooks ``< j`` of frame ``t``
(and, for the bottom level, on every top code): a GRU reads the frames shifted by one, and codebook ``j``'s
head adds the embeddings of the codes above it in the same frame.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vqcodec.prior.config import PriorConfig


class LevelPrior(nn.Module):
    """Autoregressive prior of one level's codes, optionally conditioned on a ``[B, T, D]`` sequence.

    Args:
        codebook_size: K.
        n_codebooks: codebooks of the level.
        dim: embedding and state width.
        layers: GRU layers.
        dropout: dropout on the GRU input while training.
    """

    def __init__(self, codebook_size: int, n_codebooks: int, dim: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.k, self.n = codebook_size, n_codebooks
        self.embed = nn.Embedding(n_codebooks * codebook_size, dim)  # codebook j's codes at rows j*K..
        nn.init.normal_(self.embed.weight, std=dim**-0.5)  # unit-norm rows: logits start near 0, not ~dim
        self.start = nn.Parameter(torch.zeros(dim))
        self.rnn = nn.GRU(dim, dim, layers, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU())
        self.bias = nn.Parameter(torch.zeros(n_codebooks, codebook_size))

    def _embeddings(self, codes: torch.Tensor) -> torch.Tensor:
        """``[B, n, T]`` codes -> ``[B, T, n, D]`` embeddings."""
        offsets = torch.arange(codes.shape[1], device=codes.device)[None, :, None] * self.k
        return self.embed(codes + offsets).permute(0, 2, 1, 3)

    def forward(self, codes: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of every code given what precedes it.

        Args:
            codes: ``[B, n, T]`` int64 codes (``n`` may be fewer than the level's codebooks).
            cond: ``[B, T, D]`` conditioning, known for every frame (the top level, for the bottom prior).

        Returns:
            ``[B, n, T, K]`` logits.
        """
        b, n, t = codes.shape
        emb = self._embeddings(codes)  # [B, T, n, D]
        frames = emb.sum(dim=2)  # [B, T, D]
        inputs = torch.cat([self.start.expand(b, 1, -1), frames[:, :-1]], dim=1)  # shifted: frame t sees < t
        if cond is not None:
            inputs = inputs + cond
        state, _ = self.rnn(self.drop(inputs))  # [B, T, D]
        # [B, T, n, D]: sum of codebooks < j of the same frame (an exclusive cumsum, so j itself never enters)
        above = F.pad(torch.cumsum(emb[:, :, :-1], dim=2), (0, 0, 1, 0))
        return self._logits(state[:, :, None] + above, n).permute(0, 2, 1, 3)

    def _logits(self, query: torch.Tensor, n: int) -> torch.Tensor:
        """``[..., n, D]`` queries -> ``[..., n, K]`` logits, codebook j scored against its own embeddings."""
        z = self.head(query)
        table = self.embed.weight[: n * self.k].view(n, self.k, -1)  # [n, K, D]
        return torch.einsum("...jd,jkd->...jk", z, table) + self.bias[:n]

    def _logits_of(self, query: torch.Tensor, j: int) -> torch.Tensor:
        """``[..., D]`` queries -> ``[..., K]`` logits of codebook ``j`` alone."""
        table = self.embed.weight[j * self.k : (j + 1) * self.k]  # [K, D]
        return self.head(query) @ table.T + self.bias[j]

    @torch.no_grad()
    def sample(
        self, frames: int, n: int, generator: torch.Generator, cond: torch.Tensor | None = None, temperature=1.0
    ) -> torch.Tensor:
        """Draw ``[1, n, frames]`` codes, frame by frame and codebook by codebook.

        Args:
            cond: ``[1, frames, D]`` conditioning, as in :meth:`forward`.
        """
        codes = torch.zeros(1, n, frames, dtype=torch.long)
        previous = self.start.view(1, 1, -1)
        hidden = None
        for t in range(frames):
            step = previous + (cond[:, t : t + 1] if cond is not None else 0)
            state, hidden = self.rnn(step, hidden)  # [1, 1, D]
            above = torch.zeros_like(state)
            for j in range(n):
                logits = self._logits_of(state + above, j)[0, 0] / temperature
                code = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
                codes[0, j, t] = code
                above = above + self.embed.weight[j * self.k + code].view(1, 1, -1)
            previous = above
        return codes


class Prior(nn.Module):
    """The two priors: ``top`` over top codes, ``bottom`` over bottom codes given all top codes."""

    def __init__(self, config: PriorConfig) -> None:
        super().__init__()
        self.config = c = config
        self.top = LevelPrior(c.codebook_size, c.n_top, c.dim, c.layers, c.dropout)
        self.bottom = LevelPrior(c.codebook_size, c.n_bottom, c.dim, c.layers, c.dropout)
        self.top_embed = nn.Embedding(c.n_top * c.codebook_size, c.dim)
        nn.init.normal_(self.top_embed.weight, std=c.dim**-0.5)
        self.top_context = nn.Conv1d(c.dim, c.dim, kernel_size=5, padding=2)  # sees top frames on both sides

    def condition(self, top: torch.Tensor, bottom_frames: int) -> torch.Tensor:
        """``[B, n_top, T_top]`` top codes -> ``[B, bottom_frames, D]`` conditioning of the bottom prior."""
        offsets = torch.arange(top.shape[1], device=top.device)[None, :, None] * self.config.codebook_size
        emb = self.top_embed(top + offsets).sum(dim=1)  # [B, T_top, D]
        ctx = self.top_context(emb.transpose(1, 2)).transpose(1, 2)  # [B, T_top, D]
        return ctx.repeat_interleave(self.config.ratio, dim=1)[:, :bottom_frames]

    def losses(self, top: torch.Tensor, bottom: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean negative log-likelihood in nats per code of ``top`` ``[B, n_top, T]`` and of ``bottom``
        ``[B, n_b, ratio * T]`` given ``top``."""
        top_logits = self.top(top)
        bottom_logits = self.bottom(bottom, self.condition(top, bottom.shape[-1]))
        return _nll(top_logits, top), _nll(bottom_logits, bottom)


def _nll(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """``[B, n, T, K]`` logits and ``[B, n, T]`` codes -> mean cross-entropy (nats)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), codes.reshape(-1))
