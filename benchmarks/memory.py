"""Peak memory of ``vqcodec compress`` and ``decompress`` as the file grows: it must not grow with it.

    python benchmarks/memory.py --minutes 1 10 60 [--runtime onnx]

The torch runtime by default (the light one's peak memory is in ``benchmarks/light_speed.py``).

Writes a synthetic 16 kHz mono WAV of each length (speech-like: a gliding harmonic tone with a syllable
envelope, plus noise), runs the installed CLI on it in a child process, and prints the child's peak RSS.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


def write_signal(path: Path, minutes: float, seed: int = 0) -> None:
    """Write ``minutes`` of speech-like audio block by block (this script's own memory stays small)."""
    rng = np.random.default_rng(seed)
    with sf.SoundFile(path, "w", SR, 1, "PCM_16") as f:
        for start in range(0, int(minutes * 60 * SR), 10 * SR):
            t = (start + np.arange(10 * SR)) / SR
            f0 = 120 + 30 * np.sin(2 * np.pi * 0.3 * t)
            phase = 2 * np.pi * np.cumsum(f0) / SR
            tone = sum(np.sin(k * phase) / k for k in range(1, 12))
            env = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2
            f.write(0.05 * tone * env + 0.003 * rng.standard_normal(t.size))


def peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd`` in a fresh child; (its peak RSS in MB, wall seconds). One child per call, so
    RUSAGE_CHILDREN's maximum is this child's."""
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[-1]) / 1024, time.time() - t0


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0, 60.0])
    p.add_argument("--runtime", choices=("onnx", "torch"), default="torch", help="the CLI's --runtime (default torch)")
    args = p.parse_args(argv)
    print("| audio | compress peak RSS | compress time | decompress peak RSS | decompress time |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            wav, vqc, out = Path(tmp) / "in.wav", Path(tmp) / "in.vqc", Path(tmp) / "out.wav"
            write_signal(wav, minutes)
            runtime = ["--runtime", args.runtime]
            c_mb, c_s = peak_rss_mb(["vqcodec", "compress", "-q", "-f", *runtime, str(wav), "-o", str(vqc)])
            d_mb, d_s = peak_rss_mb(["vqcodec", "decompress", "-q", "-f", *runtime, str(vqc), "-o", str(out)])
            print(f"| {minutes:g} min | {c_mb:.0f} MB | {c_s:.1f} s | {d_mb:.0f} MB | {d_s:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
