"""What the codes mean: linear probes of digit and speaker on the spoken-digit set.

    vqcodec probe PROBE_DIR [--model M] [--bitrate KBPS] [--limit N] [--test-every 5] [-o OUT_DIR]

Files are named ``<digit>_<speaker>_<n>`` (Free Spoken Digit Dataset; others are skipped). Each file
(channels averaged to mono) is encoded at one rung (default: the top rung, every codebook).

Features, one vector per file (a bag of codes, so no timing and no order):

- ``top``: for each top codebook ``c`` kept at the rung, the normalised histogram of its codes over the
  file, ``h_c[k] = (frames whose code is k) / frames`` (K values summing to 1); the codebooks' histograms
  concatenated (``n_top * K`` values).
- ``bottom``: the same over the bottom codebooks kept (``n_bottom * K`` values).
- ``top+bottom``: both concatenated.
- ``log-mel`` (a yardstick that does not use the codes): mean and standard deviation over frames of the
  log10 mel power of the file resampled to 16 kHz (80 mels, n_fft 1024, hop 256, floor 1e-5), 160 values.

Classifier: scikit-learn ``StandardScaler`` then ``LogisticRegression(C=PROBE_C, max_iter=2000)``
(multinomial, L2), fit on the training files. Split by the repetition index ``n``: files with
``n % test_every == 0`` are held out (every speaker says every digit in both sets). Reported per task
(digit, speaker) and feature set: train and test accuracy, and chance = the test accuracy of always
answering the most frequent training label. ``--limit N`` keeps N files with the same train/test
proportion, the lowest repetition indices first, each set as even as can be over digits and speakers.

Writes ``OUT_DIR/probe.json`` and ``OUT_DIR/probe.md`` and prints the table. Needs scikit-learn
(``pip install 'vqcodec[inspect]'``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from vqcodec.analysis.inspection import encode_files, pick_rung
from vqcodec.analysis.references import list_files, load_reference
from vqcodec.analysis.stats import code_counts
from vqcodec.codec import Codec, Rung
from vqcodec.codes import Codes
from vqcodec.errors import UserError

NAME = re.compile(r"^(?P<digit>\d+)_(?P<speaker>[A-Za-z0-9-]+)_(?P<rep>\d+)$")
TASKS = ("digit", "speaker")
PROBE_C = 0.1
INSPECT_HINT = "pip install 'vqcodec[inspect]'"


@dataclass(frozen=True)
class Item:
    """A labelled file: ``<digit>_<speaker>_<rep>``."""

    path: Path
    digit: str
    speaker: str
    rep: int


def label_files(files: Sequence[Path]) -> list[Item]:
    """The files whose names carry digit, speaker and repetition; the others are left out."""
    items = []
    for f in files:
        m = NAME.match(Path(f).stem)
        if m:
            items.append(Item(Path(f), m["digit"], m["speaker"], int(m["rep"])))
    return items


def is_test(item: Item, test_every: int) -> bool:
    return item.rep % test_every == 0


def balanced_order(items: Sequence[Item]) -> list[Item]:
    """The items by repetition index, and within one repetition in an order whose every prefix is as even
    as can be over digits and over speakers (greedy: next the item whose digit and speaker are rarest so far)."""
    digits, speakers = Counter(), Counter()
    out = []
    for rep in sorted({it.rep for it in items}):
        left = sorted((it for it in items if it.rep == rep), key=lambda it: (it.digit, it.speaker, it.path))
        while left:
            best = min(
                range(len(left)),
                key=lambda i: (digits[left[i].digit] + speakers[left[i].speaker], digits[left[i].digit]),
            )
            it = left.pop(best)
            digits[it.digit] += 1
            speakers[it.speaker] += 1
            out.append(it)
    return out


def select(items: Sequence[Item], limit: int | None, test_every: int) -> list[Item]:
    """``limit`` items with the full set's test share, each set balanced over digits and speakers."""
    if limit is None or limit >= len(items):
        return list(items)
    test = balanced_order([it for it in items if is_test(it, test_every)])
    train = balanced_order([it for it in items if not is_test(it, test_every)])
    n_test = min(len(test), max(1 if test else 0, round(limit * len(test) / len(items))))
    n_train = min(len(train), limit - n_test)
    return sorted(test[:n_test] + train[:n_train], key=lambda it: it.path)


def code_features(codes: Codes, codebook_size: int) -> dict[str, np.ndarray]:
    """Per level, the concatenated normalised code histograms of its codebooks (first channel)."""
    out = {}
    for level in ("top", "bottom"):
        c = getattr(codes, level)[0]  # [n_q, T]
        hist = code_counts(c, codebook_size).double()  # [n_q, K]
        out[level] = (hist / max(1, c.shape[1])).flatten().numpy()
    out["top+bottom"] = np.concatenate([out["top"], out["bottom"]])
    return out


def mel_features(path: Path) -> np.ndarray:
    """Mean and standard deviation over frames of the file's log10 mel power at 16 kHz (160 values)."""
    from vqcodec.analysis.metrics import SR, log_mel

    s = log_mel(load_reference(path, SR))  # [80, frames]
    return torch.cat([s.mean(dim=1), s.std(dim=1, unbiased=False)]).double().numpy()


def _sklearn():
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        raise UserError(f"probes need scikit-learn: {INSPECT_HINT}") from None
    return LogisticRegression, make_pipeline, StandardScaler


def require_sklearn() -> None:
    _sklearn()


def fit_probe(
    x_train: np.ndarray, y_train: Sequence[str], x_test: np.ndarray, y_test: Sequence[str], c: float = PROBE_C
) -> dict:
    """Train and test accuracy of the linear probe, and the majority-label chance on the test set."""
    LogisticRegression, make_pipeline, StandardScaler = _sklearn()
    majority = Counter(y_train).most_common(1)[0][0]
    chance = float(np.mean([y == majority for y in y_test])) if len(y_test) else float("nan")
    result = {"classes": len(set(y_train) | set(y_test)), "chance": chance}
    if len(set(y_train)) < 2:
        return {
            **result,
            "train_accuracy": float("nan"),
            "test_accuracy": float("nan"),
            "note": "one label in the training set: nothing to learn",
        }
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    model.fit(x_train, list(y_train))
    return {
        **result,
        "train_accuracy": float(model.score(x_train, list(y_train))),
        "test_accuracy": float(model.score(x_test, list(y_test))) if len(y_test) else float("nan"),
    }


def run_probe(codec: Codec, items: Sequence[Item], rung: Rung, test_every: int = 5, mel_baseline: bool = True) -> dict:
    """Encode the items, build the features and fit every (task, feature set) probe.

    Returns:
        JSON-ready: model, rung, split sizes, the feature descriptions, and ``results``: one dict per
        (task, features) with ``task``, ``features``, ``dims``, ``classes``, ``train_accuracy``,
        ``test_accuracy`` and ``chance``.
    """
    require_sklearn()
    items = list(items)
    if not items:
        raise UserError("no file named <digit>_<speaker>_<n> to probe")
    feats: dict[str, list[np.ndarray]] = {"top": [], "bottom": [], "top+bottom": []}
    if mel_baseline:
        feats["log-mel"] = []
    k = codec.config.codebook_size
    for i, (item, codes) in enumerate(
        zip(items, (c for _, c in encode_files(codec, [it.path for it in items], rung, batch=16)), strict=True), 1
    ):
        if i % 50 == 0 or i == len(items):
            print(f"[{i}/{len(items)}] encoded", file=sys.stderr, flush=True)
        for name, vec in code_features(codes, k).items():
            feats[name].append(vec)
        if mel_baseline:
            feats["log-mel"].append(mel_features(item.path))
    test = np.array([is_test(it, test_every) for it in items])
    results = []
    for task in TASKS:
        y = np.array([getattr(it, task) for it in items])
        for name, rows in feats.items():
            x = np.stack(rows)
            r = fit_probe(x[~test], y[~test], x[test], y[test])
            results.append({"task": task, "features": name, "dims": int(x.shape[1]), **r})
    return {
        "model_name": codec.name,
        "model_hash": codec.hash.hex(),
        "rung": asdict(rung),
        "codebook_size": k,
        "files": len(items),
        "train_files": int((~test).sum()),
        "test_files": int(test.sum()),
        "split": f"repetition n % {test_every} == 0 -> test",
        "classifier": f"StandardScaler + LogisticRegression(C={PROBE_C}, max_iter=2000), scikit-learn",
        "features": FEATURES,
        "results": results,
    }


FEATURES = {
    "top": "per top codebook kept, normalised code histogram over the file (K values summing to 1); concatenated",
    "bottom": "per bottom codebook kept, normalised code histogram over the file; concatenated",
    "top+bottom": "top and bottom features concatenated",
    "log-mel": "mean and std over frames of log10 mel power at 16 kHz (80 mels, n_fft 1024, hop 256); no codes",
}


def table(result: dict) -> str:
    """Markdown: task, features, dims, train accuracy, test accuracy, chance."""
    lines = [
        f"Linear probes, {result['files']} files ({result['train_files']} train, {result['test_files']} test; "
        f"{result['split']}), rung {result['rung']['kbps']:g} kbps "
        f"({result['rung']['n_top']}t+{result['rung']['n_bottom']}b):",
        "",
        "| task | features | dims | classes | train acc | test acc | chance |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["results"]:
        lines.append(
            f"| {r['task']} | {r['features']} | {r['dims']} | {r['classes']} | {r['train_accuracy']:.3f} | "
            f"{r['test_accuracy']:.3f} | {r['chance']:.3f} |"
        )
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="PROBE_DIR", help="folder of <digit>_<speaker>_<n> audio files (recursive)")
    p.add_argument("-m", "--model", help="model file or a shipped model's name (default: the shipped model)")
    p.add_argument("-b", "--bitrate", type=float, help="kbps: the rung at or below it (default: the top rung)")
    p.add_argument("--limit", type=int, help="use N files, balanced over labels, same train/test share")
    p.add_argument(
        "--test-every", type=int, default=5, help="hold out repetitions n with n %% TEST_EVERY == 0 (default 5)"
    )
    p.add_argument("--no-mel", action="store_true", help="skip the log-mel yardstick")
    p.add_argument("-o", "--output", default="probe_out", metavar="OUT_DIR", help="output folder (default probe_out)")
    p.add_argument("--threads", type=int, help="torch CPU threads")


def main_args(args: argparse.Namespace) -> None:
    require_sklearn()
    if args.limit is not None and args.limit < 2:
        raise UserError("--limit must be at least 2")
    if args.test_every < 2:
        raise UserError("--test-every must be at least 2")
    if args.threads:
        torch.set_num_threads(args.threads)
    items = label_files(list_files(Path(args.input), None))
    if not items:
        raise UserError(f"{args.input}: no file named <digit>_<speaker>_<n>")
    items = select(items, args.limit, args.test_every)
    import vqcodec

    codec = vqcodec.load(args.model)
    result = run_probe(codec, items, pick_rung(codec, args.bitrate), args.test_every, not args.no_mel)
    result["data"], result["model"] = str(args.input), args.model or "shipped default"
    result["file_list"] = [str(it.path) for it in items]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    text = table(result)
    (out / "probe.md").write_text(text + "\n")
    (out / "probe.json").write_text(json.dumps(result, indent=2) + "\n")
    print(text)
    print(f"wrote {out / 'probe.md'} and {out / 'probe.json'}")
