"""The CLI's wall time in fresh processes, start-up included, for two source trees of vqcodec in one run.

    git worktree add /tmp/base HEAD~1
    python benchmarks/trees_ab.py /tmp/base . ../shared/speech/dev --rounds 16
    python benchmarks/trees_ab.py /tmp/base . ../shared/speech/dev --folder 20 --rounds 7

Each round runs ``vqcodec compress`` then ``vqcodec decompress`` with each tree first on ``PYTHONPATH`` (the
installed ``vqcodec`` script, so both use the same interpreter and packages), alternating which tree goes
first. Without ``--folder``: dev's first file (as WAV), one file per command, ``-f``. With ``--folder N``: N
evenly spaced dev files written as WAV, the folder mode (``compress DIR`` + ``decompress DIR``), as
``benchmarks/light_speed.py --folder`` runs it. Prints medians per tree; only their difference carries (the
absolute times depend on the machine's load).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import soundfile as sf
from _common import list_files


def wav_inputs(dev: Path, n: int, tmp: Path) -> Path:
    """N evenly spaced dev files as WAV in a folder (N = 1: one file, whose path is returned)."""
    folder = tmp / "in"
    folder.mkdir()
    for i, f in enumerate(list_files(dev, n)):
        x, sr = sf.read(str(f), dtype="float32")
        sf.write(str(folder / f"{i:02d}.wav"), x, sr)
    return folder if n > 1 else folder / "00.wav"


def one_round(tree: Path, source: Path, tmp: Path, threads: int) -> tuple[float, float]:
    """Seconds of compress and of decompress of ``source`` with ``tree`` first on the path."""
    exe, env = shutil.which("vqcodec") or "vqcodec", dict(os.environ, PYTHONPATH=str(tree.resolve()))
    vqc, out = tmp / ("vqc" if source.is_dir() else "x.vqc"), tmp / ("out" if source.is_dir() else "x.wav")
    for p in (vqc, out):
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    common = ["--threads", str(threads), "-q"]
    start = time.perf_counter()
    subprocess.run(
        [exe, "compress", str(source), "-o", str(vqc), "-b", "3", *common], check=True, env=env, capture_output=True
    )
    middle = time.perf_counter()
    subprocess.run([exe, "decompress", str(vqc), "-o", str(out), *common], check=True, env=env, capture_output=True)
    return middle - start, time.perf_counter() - middle


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path, help="source tree A (a folder holding vqcodec/)")
    p.add_argument("b", type=Path, help="source tree B")
    p.add_argument("dev", type=Path, help="folder of 16 kHz speech (../shared/speech/dev)")
    p.add_argument("--folder", type=int, default=1, metavar="N", help="the folder mode on N files (default: one file)")
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    trees = {"A": args.a, "B": args.b}
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        source = wav_inputs(args.dev, args.folder, tmp)
        for r in range(args.rounds):
            for k in ("A", "B") if r % 2 == 0 else ("B", "A"):
                times[k].append(one_round(trees[k], source, tmp, args.threads))
    what = f"a folder of {args.folder} files" if args.folder > 1 else "one file"
    print(f"{what}, {args.rounds} rounds, {args.threads} threads, load average {os.getloadavg()[0]:.2f}")
    for k, v in times.items():
        c, d = statistics.median(a for a, _ in v), statistics.median(b for _, b in v)
        both, rounds = statistics.median(a + b for a, b in v), " ".join(f"{a + b:.2f}" for a, b in v)
        print(f"{k} {trees[k]}: compress {c:.3f} s, decompress {d:.3f} s, both {both:.3f} s (rounds: {rounds})")


if __name__ == "__main__":
    main()
