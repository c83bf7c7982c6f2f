"""Speech tokens for downstream models: batch extraction to shards, and sequences for language models.

Extract (command line, or :func:`extract` from Python)::

    vqcodec tokens corpus/ manifest.csv -o tokens/ --bitrate 3 --batch-size 8
    torchrun --nproc-per-node 4 -m vqcodec tokens corpus/ -o tokens/ --device cuda

Read them back (shapes for a model with K = 1024, 4 top and 11 bottom codebooks, 4 bottom frames per top
frame, as the shipped model; 3 kbps keeps 4 + 5 codebooks; a 2.0 s mono utterance has 25 top frames)::

    from vqcodec.tokens import TokenDataset, iter_utterances, unflatten

    for u in iter_utterances("tokens/"):
        u.id, u.top.shape, u.bottom.shape    # 'spk1/a', (1, 4, 25), (1, 5, 100), int16
    ds = TokenDataset("tokens/", pattern="hierarchical", max_len=1200)
    ds.vocab_size                            # (4 + 5) * 1024 = 9216
    seq = ds[0]                              # LongTensor [25 * (4 + 4 * 5)] = [600]
    top, bottom = unflatten(seq, ds.n_top, ds.n_bottom, ds.ratio, ds.codebook_size)   # [4, 25], [5, 100]

The on-disk format is described in :mod:`vqcodec.tokens.shards` and ``docs/tokens.md``.
"""

from vqcodec.distributed import resolve_device, resolve_rank
from vqcodec.tokens.dataset import TokenDataset
from vqcodec.tokens.extract import Result, extract
from vqcodec.tokens.inputs import Item, collect
from vqcodec.tokens.sequence import PATTERNS, flatten, tokens_per_frame, unflatten, vocab_size
from vqcodec.tokens.shards import (
    Utterance,
    iter_utterances,
    load_shard,
    merge,
    read_errors,
    read_index,
)

__all__ = [
    "PATTERNS",
    "Item",
    "Result",
    "TokenDataset",
    "Utterance",
    "collect",
    "extract",
    "flatten",
    "iter_utterances",
    "load_shard",
    "merge",
    "read_errors",
    "read_index",
    "resolve_device",
    "resolve_rank",
    "tokens_per_frame",
    "unflatten",
    "vocab_size",
]
