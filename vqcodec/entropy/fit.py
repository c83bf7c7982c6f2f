"""Fit the context tables of a model from token shards, choosing each codebook's context by measurement.

    python -m vqcodec.entropy.fit TRAIN_TOKENS DEV_TOKENS -o vqcodec/pretrained/default.tables.safetensors.gz

Both folders come from ``vqcodec tokens ... -b <top rung>`` (every codebook) with the model the tables are
for. For every codebook each candidate context (``CANDIDATES``) is fitted on the training tokens and costed
on the dev tokens, in bits per code under the quantised integer table the coder will use; the cheapest
wins. The candidates' costs are written beside the tables (``--report``) for the README and model card.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vqcodec.entropy.context import source_codes
from vqcodec.entropy.tables import CodebookTable, Tables, row_sum, save

# (sources, classes per source): at most 128 context rows per codebook keeps the tables under 4 MB.
CANDIDATES: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
    ((), ()),
    (("prev",), (128,)),
    (("above",), (128,)),
    (("top",), (128,)),
    (("prev", "above"), (16, 8)),
    (("prev", "top"), (16, 8)),
    (("above", "top"), (16, 8)),
)
# Pseudo-counts of the marginal mixed into each context row; measured on dev (bits per code of top
# codebook 0 with prev/64: 9.58 at 8, 9.15 at 32, 9.08 at 128).
SMOOTHING = 128.0


@dataclass(frozen=True)
class Corpus:
    """Codes of many utterances, one channel each.

    Attributes:
        levels: per level (top, bottom, and the pitch stream for a model with one), a list of ``[n_cb, T]``
            int64 arrays, one per utterance and channel.
    """

    levels: tuple[list[np.ndarray], ...]


def read_corpus(folder: str | Path) -> tuple[Corpus, dict]:
    """Every utterance and channel of a merged token folder (``index.jsonl`` and its ``.npz`` shards, the
    format of ``docs/tokens.md``), and the model facts of its index. Read here without the tokens API,
    which needs torch, so that fitting needs only numpy."""
    folder = Path(folder)
    index = folder / "index.jsonl"
    if not index.is_file():
        raise SystemExit(f"{folder}: no index.jsonl (run vqcodec tokens, or vqcodec tokens --merge)")
    records = [json.loads(line) for line in index.read_text().splitlines() if line.strip()]
    streams = ("top", "bottom", "pitch") if records and records[-1].get("pitch_bits") else ("top", "bottom")
    levels: tuple[list[np.ndarray], ...] = tuple([] for _ in streams)
    for shard in sorted({r["shard"] for r in records}):
        with np.load(folder / shard, allow_pickle=False) as arrays:
            for r in (r for r in records if r["shard"] == shard):
                for name, level in zip(streams, levels, strict=True):
                    x = arrays[f"{r['id']}/{name}"]
                    level += [x[c].astype(np.int64) for c in range(x.shape[0])]
    return Corpus(levels), (records[-1] if records else {})


def cluster(counts: np.ndarray, n: int, prior: np.ndarray, iters: int = 20) -> np.ndarray:
    """Group the rows of ``counts`` ``[A, K]`` into at most ``n`` classes that lose the least information.

    Information-theoretic k-means: each row goes to the class whose pooled distribution codes it in the
    fewest bits, then the pools are recounted. It starts from the ``n - 1`` commonest rows alone and the
    rest pooled. (Measured on the shipped model's dev codes: farthest-first seeds code the training rows
    in fewer bits but dev codes in more, 0.1 bit per code on the top level.)
    Returns ``[A]`` int64 classes, numbered densely.
    """
    if n >= len(counts):
        return np.arange(len(counts), dtype=np.int64)
    order = np.argsort(-counts.sum(axis=1), kind="stable")
    start = np.full(len(counts), n - 1, np.int64)
    start[order[: n - 1]] = np.arange(n - 1)
    classes, _ = _kmeans(counts, start, n, prior, iters)
    _, dense = np.unique(classes, return_inverse=True)
    return dense.astype(np.int64)


def _kmeans(counts: np.ndarray, classes: np.ndarray, n: int, prior: np.ndarray, iters: int):
    """Refine ``classes`` ``[A]``; returns them and the bits the rows cost under their classes' pools."""
    totals = counts.sum(axis=1)
    for _ in range(iters + 1):
        pooled = np.zeros((n, counts.shape[1]))
        np.add.at(pooled, classes, counts)
        cost = _bits_under(counts, _smooth(pooled, prior))  # [A, n]
        cost[totals == 0] = _bits_under(prior[None], _smooth(pooled, prior))  # unseen: fits the marginal best
        new = cost.argmin(axis=1)
        if np.array_equal(new, classes):
            break
        classes = new
    return classes, float(cost[np.arange(len(classes)), classes][totals > 0].sum())


def _bits_under(counts: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``[A, R]`` bits of each row of ``counts`` ``[A, K]`` under each distribution of ``probs`` ``[R, K]``."""
    return -(counts @ np.log2(probs).T)


def _smooth(counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``[R, K]`` probabilities: counts mixed with ``SMOOTHING`` pseudo-counts of ``prior``."""
    return (counts + SMOOTHING * prior) / (counts.sum(axis=1, keepdims=True) + SMOOTHING)


def quantise(probs: np.ndarray, k: int) -> np.ndarray:
    """``[R, K]`` probabilities -> uint16 frequencies, each row summing exactly to ``row_sum(k)``
    (largest remainders get the leftover units; ties go to the lower code)."""
    total = row_sum(k)
    scaled = probs / probs.sum(axis=1, keepdims=True) * total
    base = np.floor(scaled).astype(np.int64)
    short = total - base.sum(axis=1)
    order = np.argsort(-(scaled - base), axis=1, kind="stable")
    for r in range(len(base)):
        base[r, order[r, : short[r]]] += 1
    return base.astype(np.uint16)


def _pairs(corpus: Corpus, i: int, j: int, sources: tuple[str, ...], ratio: int, k: int):
    """Codes of codebook ``j`` of level ``i`` and the raw codes of each source, concatenated."""
    codes, raw = [], [[] for _ in sources]
    for u, x in enumerate(corpus.levels[i]):
        if x.shape[0] <= j:
            continue
        top = corpus.levels[0][u]
        codes.append(x[j])
        for s, source in enumerate(sources):
            raw[s].append(source_codes(source, x, j, top if i else None, ratio ** min(i, 1), k))
    return np.concatenate(codes), [np.concatenate(r) for r in raw]


def fit_table(corpus: Corpus, i: int, j: int, sources, classes, ratio: int, k: int) -> CodebookTable:
    """Fit one codebook's table with the given context on ``corpus``."""
    codes, raw = _pairs(corpus, i, j, sources, ratio, k)
    prior = (np.bincount(codes, minlength=k) + 0.5) / (len(codes) + 0.5 * k)
    maps = []
    for r, n in zip(raw, classes, strict=True):
        counts = np.zeros((k + 1, k))
        np.add.at(counts, (r, codes), 1)
        maps.append(cluster(counts, n, prior))
    ctx = np.zeros(len(codes), np.int64)
    for r, m in zip(raw, maps, strict=True):
        ctx = ctx * (int(m.max()) + 1) + m[r]
    rows = int(np.prod([int(m.max()) + 1 for m in maps])) if maps else 1
    counts = np.zeros((rows, k))
    np.add.at(counts, (ctx, codes), 1)
    return CodebookTable(tuple(sources), tuple(maps), quantise(_smooth(counts, prior), k))


def cost(table: CodebookTable, corpus: Corpus, i: int, j: int, ratio: int, k: int) -> float:
    """Bits per code of codebook ``j`` of level ``i`` of ``corpus`` under ``table``."""
    codes, raw = _pairs(corpus, i, j, table.sources, ratio, k)
    ctx = np.zeros(len(codes), np.int64)
    for r, m, n in zip(raw, table.maps, table.classes, strict=True):
        ctx = ctx * n + m[r]
    freq = table.freqs[ctx, codes].astype(np.float64)
    return float(-np.log2((256 * freq + 1) / 2**24).mean())


def fit(train: Corpus, dev: Corpus, info: dict, ratio: int) -> tuple[Tables, list[dict]]:
    """Choose and fit every codebook's table; returns the tables and the costs of all candidates."""
    k = int(info["codebook_size"])
    levels, report = [], []
    counts = [int(info["n_top"]), int(info["n_bottom"])] + ([1] if train.levels[2:] else [])
    for i, n_cb in enumerate(counts):
        row = []
        for j in range(n_cb):
            best, scores = None, {}
            for sources, classes in CANDIDATES:
                if ("above" in sources and j == 0) or ("top" in sources and i == 0):
                    continue
                table = fit_table(train, i, j, sources, classes, ratio, k)
                scores["+".join(sources) or "none"] = bits = cost(table, dev, i, j, ratio, k)
                if best is None or bits < best[0]:
                    best = (bits, table)
            row.append(best[1])
            report.append({"level": i, "codebook": j, "bits": scores})
            print(json.dumps(report[-1]), flush=True)
        levels.append(tuple(row))
    tables = Tables(info["model"], bytes.fromhex(info["model_hash"]), k, ratio, tuple(levels))
    return tables, report


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m vqcodec.entropy.fit", description=__doc__.split("\n\n")[0])
    p.add_argument("train", help="token folder of the training split (all codebooks)")
    p.add_argument("dev", help="token folder of the dev split, to choose contexts on")
    p.add_argument("-o", "--output", required=True, help="tables file to write")
    p.add_argument("--report", help="JSON file for every candidate's bits per code")
    args = p.parse_args(argv)
    train, info = read_corpus(args.train)
    dev, dev_info = read_corpus(args.dev)
    if info.get("model_hash") != dev_info.get("model_hash"):
        raise SystemExit("train and dev tokens come from different models")
    ratio = round(int(info["bottom_frames"]) / max(1, int(info["top_frames"])))
    tables, report = fit(train, dev, info, ratio)
    provenance = {"train": args.train, "dev": args.dev, "candidates": report}
    save(tables, args.output, provenance)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
    print(f"{args.output}: {tables.nbytes() / 1e6:.2f} MB, tables hash {tables.hash.hex()}")


if __name__ == "__main__":
    main()
