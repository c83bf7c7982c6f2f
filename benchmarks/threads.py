"""Torch threads on a busy machine: compress time with 1, 2 and the default thread count, with OpenMP's
default waiting (spin, then sleep) and with passive waiting, the setting the CLI makes.

    python benchmarks/threads.py --minutes 3 --load 1

``--load N`` starts N busy-looping processes for the duration (on top of whatever else runs); each
setting runs in a fresh child process (OpenMP reads its settings once) and compresses a synthetic
speech-like file of ``--minutes`` with the shipped model. Prints one row per setting and the load average.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vqcodec.analysis.synthetic import write_speech_like

_CHILD = """
import sys, time
import torch
torch.set_num_threads(int(sys.argv[1]))
import vqcodec
from vqcodec.compress import compress_file
codec = vqcodec.load()
t = time.perf_counter()
compress_file(codec, sys.argv[2], sys.argv[3])
print(time.perf_counter() - t)
"""


def timed(threads: int, policy: str | None, src: Path, dst: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    r = subprocess.run(
        [sys.executable, "-c", _CHILD, str(threads), str(src), str(dst)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return float(r.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--load", type=int, default=0, help="busy-looping processes to start alongside")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    from vqcodec.threads import default_threads

    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        time.sleep(2 if busy else 0)
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.vqc"
            write_speech_like(src, args.minutes * 60)
            print(
                f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; extra busy processes "
                f"{args.load}; default threads now {default_threads()}"
            )
            print("| threads | OpenMP waiting | compress (s) |\n|---:|---|---:|")
            for policy in (None, "PASSIVE"):
                for n in args.threads:
                    print(f"| {n} | {policy or 'default (spin)'} | {timed(n, policy, src, dst):.2f} |", flush=True)
    finally:
        for proc in busy:
            proc.kill()


if __name__ == "__main__":
    main()
