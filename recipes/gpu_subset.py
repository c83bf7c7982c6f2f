"""A subset of a training corpus small enough to travel to a GPU machine (64 MiB per transfer, the repository's
tracked files included: about 33 MiB of them, so 22 to 30 MiB of audio a call, and the wheels beside the first
part). Used by both recipes' "On a GPU" sections:

    python recipes/gpu_subset.py OUT --corpus ../shared-data/general [--parts 5] [--part-mib 22] [--excerpt 8]
        [--dev 12] [--shares sqrt]
    python recipes/gpu_subset.py OUT --corpus ../shared/speech --parts 4 --part-mib 18 --excerpt 30 --dev 0 \
        --shares minutes

OUT (keep it out of git: ``gpu_data/`` is ignored) receives ``part1/``, ``part2/``, ... of 16-bit mono FLAC
excerpts at the corpus's rate, each part at most ``--part-mib`` MiB, and ``manifest.csv`` over all of them (the
corpus's columns; ``split`` train, and ``dev`` for ``--dev`` excerpts of the dev package, for validation).
Parts are filled in turn from one interleaved order, so every part is a balanced sample of the whole and a
run that has only the first part trains on a smaller copy of the same mix.

What is taken: excerpts of ``--excerpt`` seconds, evenly spaced through each file (a file shorter than that
whole); every file of a source gives one excerpt before any gives a second. Each source's share of the bytes
follows the square root of its minutes (``--shares sqrt``: in the general corpus the rendered MIDI, 49 % of it,
one sound font, weighs less and the effects, 1.4 %, more) or its minutes (``--shares minutes``: the corpus's own
mix, as the speech recipes train on it). A manifest without a ``frames`` column (the speech corpus's) has them
read from each file's header. Nothing here is random: the same corpus gives the same subset.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

COLUMNS = ("path", "split", "source", "speaker", "sex", "lang", "orig_sr", "sr", "duration_s", "license", "frames")
MIB = 1 << 20


def read_manifest(corpus: Path) -> list[dict]:
    """The corpus's rows; ``frames`` read from the file's header where the manifest has none (``duration_s`` is
    rounded to milliseconds)."""
    with open(corpus / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if not row.get("frames"):
            row["frames"] = str(sf.info(str(corpus / row["path"])).frames)
    return rows


def excerpts(row: dict, seconds: float) -> list[tuple[int, int]]:
    """``(start, frames)`` of the excerpts of one file: ``floor(duration / seconds)`` of them (at least one, the
    whole file when shorter), evenly spaced."""
    total, sr = int(row["frames"]), int(row["sr"])
    n = int(round(seconds * sr))
    if total <= n:
        return [(0, total)]
    count = total // n
    gap = (total - count * n) / count
    return [(int(round(gap / 2 + i * (n + gap))), n) for i in range(count)]


def interleaved(rows: list[dict], seconds: float) -> dict[str, list[tuple[dict, int, int]]]:
    """Per source, its excerpts in round-robin order over its files (each file's first, then each's second ...)."""
    by_source: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_source[row["source"]].append(row)
    order = {}
    for source, files in sorted(by_source.items()):
        lists = [[(row, s, n) for s, n in excerpts(row, seconds)] for row in sorted(files, key=lambda r: r["path"])]
        order[source] = [e for k in range(max(map(len, lists))) for lst in lists if k < len(lst) for e in [lst[k]]]
    return order


def shares(order: dict[str, list], rows: list[dict], rule: str = "sqrt") -> dict[str, float]:
    """Each source's share of the bytes: proportional to the square root of its minutes (``rule`` "sqrt") or to
    its minutes ("minutes")."""
    minutes = defaultdict(float)
    for row in rows:
        minutes[row["source"]] += float(row["duration_s"]) / 60
    weight = {s: math.sqrt(minutes[s]) if rule == "sqrt" else minutes[s] for s in order}
    total = sum(weight.values())
    return {s: w / total for s, w in weight.items()}


def flac_bytes(x: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, sr, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def schedule(order: dict[str, list], share: dict[str, float]) -> list[tuple[str, tuple[dict, int, int]]]:
    """One interleaved order over the sources: at each turn, the source furthest below its share of the
    seconds taken so far gives its next excerpt (short effects are taken more often than long excerpts)."""
    taken, seconds = {s: 0 for s in order}, {s: 0.0 for s in order}
    out = []
    while any(taken[s] < len(order[s]) for s in order):
        live = [s for s in order if taken[s] < len(order[s])]
        total = sum(seconds.values()) or 1.0
        source = min(live, key=lambda s: (seconds[s] / total - share[s], s))
        row, start, frames = order[source][taken[source]]
        out.append((source, (row, start, frames)))
        taken[source] += 1
        seconds[source] += frames / int(row["sr"])
    return out


def write_subset(
    corpus: Path, out: Path, parts: int, part_mib: float, seconds: float, dev: int, rule: str = "sqrt"
) -> list[dict]:
    """Write the parts and ``manifest.csv``; returns the manifest's rows (``rule``: see :func:`shares`)."""
    rows = read_manifest(corpus)
    train = [r for r in rows if r["split"] == "train"]
    dev_rows = [r for r in rows if r["split"] == "dev" and int(r["frames"]) >= seconds * int(r["sr"])]  # whole
    order = interleaved(train, seconds)
    plan = schedule(order, shares(order, train, rule))
    dev_plan = [("dev", e) for e in interleaved(dev_rows, seconds).get(_largest(dev_rows), [])][:dev] if dev else []
    budget = [part_mib * MIB] * parts
    written: list[dict] = []
    part = 0
    for split, (_, (row, start, frames)) in [("dev", e) for e in dev_plan] + [("train", e) for e in plan]:
        x, sr = sf.read(corpus / row["path"], start=start, frames=frames, dtype="int16")
        data = flac_bytes(x, sr)
        while part < parts and len(data) > budget[part]:
            part += 1
        if part == parts:
            break
        budget[part] -= len(data)
        rel = Path(f"part{part + 1}") / row["source"] / f"{Path(row['path']).stem}-{start}.flac"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
        written.append(
            {
                **{k: row.get(k, "") for k in COLUMNS},
                "path": str(rel),
                "split": split,
                "duration_s": f"{len(x) / sr:.3f}",
                "frames": str(len(x)),
            }
        )
    with open(out / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS)
        w.writeheader()
        w.writerows(written)
    return written


def _largest(rows: list[dict]) -> str:
    """The source with the most minutes among ``rows`` (dev has one)."""
    minutes = defaultdict(float)
    for row in rows:
        minutes[row["source"]] += float(row["duration_s"])
    return max(minutes, key=minutes.get) if minutes else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--corpus", type=Path, default=Path("../shared-data/general"))
    ap.add_argument("--parts", type=int, default=5)
    ap.add_argument("--part-mib", type=float, default=22.0, help="MiB per part (a transfer also carries the tree)")
    ap.add_argument("--excerpt", type=float, default=8.0, help="seconds per excerpt")
    ap.add_argument("--dev", type=int, default=12, help="dev excerpts for validation, in the first part")
    ap.add_argument("--shares", choices=("sqrt", "minutes"), default="sqrt", help="each source's share of the bytes")
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.csv").is_file():
        print(
            f"gpu_subset: {args.corpus}/manifest.csv: no such file (run the recipe's prepare step first)",
            file=sys.stderr,
        )
        return 2
    if args.out.exists() and any(args.out.iterdir()):
        print(f"gpu_subset: {args.out}: not empty", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    rows = write_subset(args.corpus, args.out, args.parts, args.part_mib, args.excerpt, args.dev, args.shares)
    for split in ("train", "dev"):
        mine = [r for r in rows if r["split"] == split]
        minutes = defaultdict(float)
        for r in mine:
            minutes[r["source"]] += float(r["duration_s"]) / 60
        print(
            f"{split}: {len(mine)} excerpts, {sum(minutes.values()):.1f} min: "
            + ", ".join(f"{s} {m:.1f}" for s, m in sorted(minutes.items()))
        )
    for p in sorted(args.out.glob("part*")):
        size = sum(f.stat().st_size for f in p.rglob("*.flac"))
        print(f"{p.name}: {size / MIB:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
