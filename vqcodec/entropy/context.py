"""Which earlier codes a code is predicted from, computed for whole arrays (encoding, fitting, costs).

Codes of one channel are coded level by level (coarse first); within a level frame by frame, and within
a frame codebook by codebook (the residual stack's order). So when code ``[j, t]`` of a level is coded,
these are known and may form its context:

- ``prev``: the same codebook's code of the previous frame, ``[j, t - 1]`` (none at ``t = 0``);
- ``above``: the previous codebook's code of the same frame, ``[j - 1, t]`` (the residual stack);
- ``top``: for the fine level, the coarse level's first code over this frame, ``top[0, t // ratio]``.

"None" is the code ``K``. A source's code is sent to a class by the table's map; a context is the
mixed-radix number of its sources' classes.
"""

from __future__ import annotations

import numpy as np

from vqcodec.entropy.tables import CodebookTable


def source_codes(source: str, codes: np.ndarray, j: int, top: np.ndarray | None, ratio: int, k: int) -> np.ndarray:
    """The earlier codes one source names for every frame of codebook ``j``.

    Args:
        source: one of ``prev``, ``above``, ``top``.
        codes: ``[n_cb, T]`` codes of this level (one channel).
        j: the codebook.
        top: ``[n_top, T_top]`` codes of the coarse level, for the ``top`` source.
        ratio: frames of this level per coarse frame.
        k: codebook size, the code that means "none".

    Returns:
        ``[T]`` int64 codes in ``0..k``.
    """
    frames = codes.shape[1]
    if source == "prev":
        return np.concatenate([[k], codes[j, :-1]]).astype(np.int64)[:frames]
    if source == "above":
        return codes[j - 1].astype(np.int64) if j > 0 else np.full(frames, k, np.int64)
    if top is None or top.shape[1] == 0:
        return np.full(frames, k, np.int64)
    above = np.minimum(np.arange(frames) // ratio, top.shape[1] - 1)
    return top[0, above].astype(np.int64)


def contexts(table: CodebookTable, codes: np.ndarray, j: int, top: np.ndarray | None, ratio: int, k: int) -> np.ndarray:
    """``[T]`` row of ``table.freqs`` for each frame of codebook ``j`` of ``codes`` ``[n_cb, T]``."""
    ctx = np.zeros(codes.shape[1], np.int64)
    for source, mapping, n in zip(table.sources, table.maps, table.classes, strict=True):
        ctx = ctx * n + mapping[source_codes(source, codes, j, top, ratio, k)]
    return ctx


def level_contexts(
    tables: tuple[CodebookTable, ...], codes: np.ndarray, top: np.ndarray | None, ratio: int, k: int
) -> np.ndarray:
    """``[n_cb, T]`` context rows of every code of a level ``codes`` ``[n_cb, T]`` (one channel)."""
    return np.stack([contexts(tables[j], codes, j, top, ratio, k) for j in range(codes.shape[0])]).reshape(codes.shape)
