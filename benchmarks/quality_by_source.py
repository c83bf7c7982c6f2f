"""Split a quality run's per-file scores by where the files come from, and by whether their speaker was
trained on.

    python benchmarks/quality_by_source.py bench_out/quality.json

``quality.json`` is what ``benchmarks/quality.py`` writes. ``../shared/speech/dev`` mixes LibriSpeech and
RAVDESS speakers that are not in the training split with LJSpeech utterances whose one speaker is (the
train split holds LJ001-0001 .. LJ002-0159): a codec trained there may do better on LJ files than on
unseen voices, so this prints each codec and rung's mean PESQ-WB and STOI over the unseen speakers' files
and over the LJ files apart. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def source(path: str) -> str:
    """``LJSpeech`` (a speaker in the training split), ``RAVDESS`` or ``LibriSpeech``, from the file name."""
    name = Path(path).name
    if name.startswith("LJ"):
        return "LJSpeech"
    return "RAVDESS" if name.startswith("03-") else "LibriSpeech"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("quality_json", type=Path)
    args = ap.parse_args(argv)
    run = json.loads(args.quality_json.read_text())
    sources = [source(f) for f in run["file_list"]]
    groups = {
        "unseen speakers": [i for i, s in enumerate(sources) if s != "LJSpeech"],
        "LJSpeech (speaker in train)": [i for i, s in enumerate(sources) if s == "LJSpeech"],
    }
    head = " | ".join(f"{g} ({len(ix)} files): PESQ-WB / STOI" for g, ix in groups.items())
    print(f"| codec | setting | {head} |")
    print("|---|---|" + "---:|" * len(groups))
    for row in run["per_file"]:
        cells = []
        for ix in groups.values():
            pesq = [row["pesq"][i] for i in ix if row["pesq"][i] is not None]
            cells.append(f"{np.mean(pesq):.3f} / {np.mean([row['stoi'][i] for i in ix]):.3f}")
        print(f"| {row['codec']} | {row['setting']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
