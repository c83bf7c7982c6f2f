"""Codes of one channel <-> one token sequence for a language model, and back exactly.

Vocabulary (cumulative offsets): codebook ``q`` of the top level owns tokens ``[q K, (q + 1) K)`` and
codebook ``q`` of the bottom level owns ``[(n_top + q) K, (n_top + q + 1) K)``, so a token is
``offset(level, q) + code`` and ``vocab_size = (n_top + n_bottom) K``. Every rung of a model's rate ladder
keeps all its top codebooks, so a token means the same thing at every rung of one model; a lower rung
only leaves the last bottom ranges unused.

Patterns, for n_top = 2, n_bottom = 1, ratio = 2 (``t1_0`` = top codebook 1 at top frame 0, ``b0_3`` =
bottom codebook 0 at bottom frame 3)::

    hierarchical:  t0_0 t1_0 b0_0 b0_1 | t0_1 t1_1 b0_2 b0_3 | ...   one group per top frame
    flat:          t0_0 t1_0 t0_1 t1_1 ... | b0_0 b0_1 b0_2 b0_3 ...  all top, then all bottom

Both are frame-major: the codebooks of one frame are adjacent.
"""

from __future__ import annotations

import numpy as np
import torch

from vqcodec.errors import UserError

PATTERNS = ("hierarchical", "flat")


def vocab_size(n_top: int, n_bottom: int, codebook_size: int) -> int:
    """Number of distinct tokens: ``(n_top + n_bottom) * codebook_size``."""
    return (n_top + n_bottom) * codebook_size


def tokens_per_frame(n_top: int, n_bottom: int, ratio: int) -> int:
    """Tokens per top frame (with its ``ratio`` bottom frames), in either pattern."""
    return n_top + ratio * n_bottom


def _offsets(n_top: int, n_bottom: int, codebook_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token offsets of each codebook: top ``[n_top, 1]``, bottom ``[n_bottom, 1]``."""
    top = torch.arange(n_top) * codebook_size
    bottom = (n_top + torch.arange(n_bottom)) * codebook_size
    return top[:, None], bottom[:, None]


def _as_long(x: torch.Tensor | np.ndarray, name: str) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).long()
    if x.dim() != 2:
        raise UserError(f"{name} must be [n_codebooks, frames], got shape {tuple(x.shape)}")
    return x


def _check_pattern(pattern: str) -> None:
    if pattern not in PATTERNS:
        raise UserError(f"unknown pattern {pattern!r} (use one of {', '.join(PATTERNS)})")


def flatten(
    top: torch.Tensor | np.ndarray, bottom: torch.Tensor | np.ndarray, codebook_size: int, pattern: str = "hierarchical"
) -> torch.Tensor:
    """Codes of one channel -> a 1-D LongTensor of tokens.

    Args:
        top: [n_top, T_t] codes in ``[0, codebook_size)``.
        bottom: [n_bottom, T_b] codes, ``T_b = ratio * T_t``.
        codebook_size: K, codes per codebook.
        pattern: "hierarchical" or "flat" (see the module docstring).

    Returns:
        [T_t * (n_top + ratio * n_bottom)] int64 tokens in ``[0, vocab_size(n_top, n_bottom, K))``.
    """
    _check_pattern(pattern)
    top, bottom = _as_long(top, "top"), _as_long(bottom, "bottom")
    (n_top, t_top), (n_bottom, t_bottom) = top.shape, bottom.shape
    ratio = t_bottom // t_top if t_top else 0
    if t_bottom != ratio * t_top or (t_top and not ratio):
        raise UserError(f"bottom frames ({t_bottom}) must be a positive multiple of top frames ({t_top})")
    for name, x in (("top", top), ("bottom", bottom)):
        if x.numel() and (x.min() < 0 or x.max() >= codebook_size):
            raise UserError(f"{name} codes must lie in [0, {codebook_size})")
    top_offset, bottom_offset = _offsets(n_top, n_bottom, codebook_size)
    top_tok, bottom_tok = top + top_offset, bottom + bottom_offset  # [n_top, T_t], [n_bottom, T_b]
    if pattern == "flat":
        return torch.cat([top_tok.T.reshape(-1), bottom_tok.T.reshape(-1)])
    groups = torch.cat([top_tok.T, bottom_tok.T.reshape(t_top, ratio * n_bottom)], dim=1)  # [T_t, per frame]
    return groups.reshape(-1)


def unflatten(
    seq: torch.Tensor | np.ndarray,
    n_top: int,
    n_bottom: int,
    ratio: int,
    codebook_size: int,
    pattern: str = "hierarchical",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact inverse of :func:`flatten`.

    Args:
        seq: [L] tokens, ``L`` a multiple of ``tokens_per_frame(n_top, n_bottom, ratio)``.

    Returns:
        top [n_top, T_t] and bottom [n_bottom, ratio * T_t] int64 codes.

    Raises:
        ValueError: the length does not fit, or a token is not a code of the codebook its position holds.
    """
    _check_pattern(pattern)
    seq = torch.as_tensor(np.asarray(seq) if not torch.is_tensor(seq) else seq).long()
    group = tokens_per_frame(n_top, n_bottom, ratio)
    if seq.dim() != 1 or group <= 0 or seq.numel() % group:
        raise UserError(f"expected a 1-D sequence of a multiple of {group} tokens, got shape {tuple(seq.shape)}")
    t_top = seq.numel() // group
    if pattern == "flat":
        top_tok = seq[: t_top * n_top].view(t_top, n_top).T  # [n_top, T_t]
        bottom_tok = seq[t_top * n_top :].view(t_top * ratio, n_bottom).T  # [n_bottom, T_b]
    else:
        groups = seq.view(t_top, group)  # [T_t, n_top + ratio * n_bottom]
        top_tok = groups[:, :n_top].T
        bottom_tok = groups[:, n_top:].reshape(t_top * ratio, n_bottom).T
    top_offset, bottom_offset = _offsets(n_top, n_bottom, codebook_size)
    top, bottom = top_tok - top_offset, bottom_tok - bottom_offset
    for name, x in (("top", top), ("bottom", bottom)):
        if x.numel() and (x.min() < 0 or x.max() >= codebook_size):
            raise UserError(f"a token at a {name} position is outside that codebook's range")
    return top.contiguous(), bottom.contiguous()
