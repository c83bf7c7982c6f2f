"""Peak memory of ``vqcodec compress`` and ``decompress`` as the file grows: it must not grow with it.

    python benchmarks/memory.py --minutes 1 10 60 [--runtime onnx]

The torch runtime by default (the light one's peak memory is in ``benchmarks/light_speed.py``).

Writes a synthetic 16 kHz mono WAV of each length (speech-like: a gliding harmonic tone with a syllable
envelope, plus noise: :mod:`vqcodec.analysis.synthetic`), runs the installed CLI on it in a child process,
and prints the child's peak RSS.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import peak_rss_mb

from vqcodec.analysis.synthetic import write_speech_like


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
            write_speech_like(wav, minutes * 60)
            runtime = ["--runtime", args.runtime]
            c_mb, c_s = peak_rss_mb(["vqcodec", "compress", "-q", "-f", *runtime, str(wav), "-o", str(vqc)])
            d_mb, d_s = peak_rss_mb(["vqcodec", "decompress", "-q", "-f", *runtime, str(vqc), "-o", str(out)])
            print(f"| {minutes:g} min | {c_mb:.0f} MB | {c_s:.1f} s | {d_mb:.0f} MB | {d_s:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
