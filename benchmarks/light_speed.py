"""Speed, memory and start-up of the light runtime, against Opus, in one run (issue 12, item 5).

    python benchmarks/light_speed.py ../shared/speech/dev --minutes 60 --threads 2

On the same files:
- **dev's short files**: vqcodec compress + decompress in process (one model load, 3 kbps, files written
  to disk), on the light runtime (onnxruntime) and on the torch runtime, against ``opusenc --bitrate 6`` +
  ``opusdec`` run per file; ratio = Opus seconds / vqcodec seconds (>= 1: vqcodec at least as fast).
- **a long file** (``--minutes`` of dev's speech repeated, 16 kHz WAV): the CLI's compress and decompress on
  the light runtime in child processes, their peak RSS and wall time, and Opus on the same file.
- **start-up**: wall time of ``vqcodec --help`` and ``vqcodec info FILE`` (FILE: dev's first file
  compressed) in fresh processes (median of 5); and ``info`` of the long file once.

With ``--folder N`` (and ``--model M.onnx.json`` for a candidate model, exported with ``vqcodec export``) it
measures only what issue 25's bar names: the CLI's folder mode, start-up included
(``vqcodec compress DIR -o VQC -b 3 -q`` then ``vqcodec decompress VQC -o OUT -q``, fresh processes, on
``--threads``), against Opus on the same files, on N evenly spaced files of dev written as WAV, in
``--rounds`` interleaved rounds (medians).

Prints a Markdown table; ``--json`` writes every number.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import soundfile as sf
from _common import list_files, peak_rss_mb

SR = 16000
KBPS = 3.0
OPUS_KBPS = "6"


def seconds_of(files: list[Path]) -> float:
    return sum(sf.info(str(f)).duration for f in files)


def opus_seconds(files: list[Path], tmp: Path) -> float:
    """Wall seconds of ``opusenc`` + ``opusdec`` over ``files``, one process pair per file."""
    start = time.perf_counter()
    for f in files:
        subprocess.run(["opusenc", "--quiet", "--bitrate", OPUS_KBPS, str(f), str(tmp / "x.opus")], check=True)
        subprocess.run(["opusdec", "--quiet", "--rate", str(SR), str(tmp / "x.opus"), str(tmp / "x.wav")], check=True)
    return time.perf_counter() - start


def light_seconds(files: list[Path], tmp: Path, threads: int) -> float:
    """Wall seconds of the light runtime's compress + decompress over ``files`` (model loaded once, outside)."""
    from vqcodec.pipeline import files as light

    codec = light.load(threads=threads)
    codec.backend.load()  # both graphs loaded before the clock starts, as vqcodec.load() is for torch
    start = time.perf_counter()
    for f in files:
        light.compress_file(codec, f, tmp / "x.vqc", KBPS)
        light.decompress_file(codec, tmp / "x.vqc", tmp / "y.wav")
    return time.perf_counter() - start


def torch_seconds(files: list[Path], tmp: Path, threads: int) -> float:
    """The same on the torch runtime (``vqcodec.load``, ``vqcodec.compress``)."""
    import torch

    import vqcodec
    from vqcodec.compress import compress_file, decompress_file

    torch.set_num_threads(threads)
    codec = vqcodec.load()
    start = time.perf_counter()
    for f in files:
        compress_file(codec, f, tmp / "x.vqc", KBPS)
        decompress_file(codec, tmp / "x.vqc", tmp / "y.wav")
    return time.perf_counter() - start


def cache_bytecode() -> None:
    """Compile the package's modules to bytecode once, before any timing: Python caches them so on a user's
    first run, but a machine with ``PYTHONDONTWRITEBYTECODE`` set (this project's is) would compile them again
    in every timed process, about 40 modules, a cost no user pays."""
    import compileall
    import importlib.util

    compileall.compile_dir(importlib.util.find_spec("vqcodec").submodule_search_locations[0], quiet=1)


def folder_rounds(files: list[Path], tmp: Path, threads: int, rounds: int, model: str | None = None) -> dict:
    """Opus, then ``vqcodec compress`` and ``decompress`` of a folder of ``files`` (as WAV), ``rounds`` times
    interleaved; the median seconds of each. ``model``: an exported model's ``.onnx.json`` (or a shipped
    model's name) for both commands, instead of the default."""
    src = tmp / "wav"
    src.mkdir()
    for i, f in enumerate(files):
        x, sr = sf.read(str(f), dtype="int16", always_2d=True)
        sf.write(str(src / f"{i:03d}_{f.stem}.wav"), x, sr, subtype="PCM_16")
    wavs = sorted(src.iterdir())
    exe, t = shutil.which("vqcodec") or "vqcodec", ["--threads", str(threads), *(["-m", model] if model else [])]
    times: dict[str, list[float]] = {"opus_s": [], "compress_s": [], "decompress_s": []}
    for r in range(rounds):
        times["opus_s"].append(opus_seconds(wavs, tmp))
        vqc, out = tmp / f"vqc{r}", tmp / f"out{r}"
        times["compress_s"].append(_wall([exe, "compress", str(src), "-o", str(vqc), "-b", str(KBPS), "-q", *t]))
        times["decompress_s"].append(_wall([exe, "decompress", str(vqc), "-o", str(out), "-q", *t]))
    medians = {k: statistics.median(v) for k, v in times.items()}
    rates = [o / (c + d) for o, c, d in zip(times["opus_s"], times["compress_s"], times["decompress_s"], strict=True)]
    return {**medians, "rounds": times, "folder_ratio": statistics.median(rates)}


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def write_long(path: Path, files: list[Path], minutes: float) -> None:
    """``minutes`` of the files' speech, repeated, written block by block."""
    need = int(minutes * 60 * SR)
    with sf.SoundFile(str(path), "w", SR, 1, "PCM_16") as out:
        while need > 0:
            for f in files:
                x, sr = sf.read(str(f), dtype="float32", always_2d=True)
                assert sr == SR, f"{f}: expected {SR} Hz"
                x = x.mean(axis=1)[:need]
                out.write(x)
                need -= len(x)
                if need <= 0:
                    break


def startup(cmd: list[str], runs: int = 5) -> float:
    """Median wall seconds of ``cmd`` in a fresh process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dev", type=Path, help="folder of 16 kHz speech (../shared/speech/dev)")
    p.add_argument("--minutes", type=float, default=60.0, help="length of the long file")
    p.add_argument("--threads", type=int, help="CPU threads (default: the cores not already busy, as the CLI)")
    p.add_argument("--folder", type=int, metavar="N", help="only the CLI's folder mode, on N files of dev")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds of --folder (default 3)")
    p.add_argument("--model", help="with --folder: an exported model's .onnx.json for both commands (a candidate)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    from vqcodec.threads import default_threads

    args.threads = args.threads or default_threads()
    cache_bytecode()
    if args.folder:
        return folder_main(args)
    files = list_files(args.dev, None)
    exe = shutil.which("vqcodec") or "vqcodec"
    r: dict = {"files": len(files), "audio_s": seconds_of(files), "threads": args.threads, "load": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        r["opus_s"] = opus_seconds(files, tmp)
        r["light_s"] = light_seconds(files, tmp, args.threads)
        r["torch_s"] = torch_seconds(files, tmp, args.threads)
        long = tmp / "long.wav"
        write_long(long, files, args.minutes)
        env_threads = ["--threads", str(args.threads)]
        r["long_compress_mb"], r["long_compress_s"] = peak_rss_mb([exe, "compress", "-q", *env_threads, str(long)])
        out = ["-o", str(tmp / "long_out.wav")]
        r["long_decompress_mb"], r["long_decompress_s"] = peak_rss_mb(
            [exe, "decompress", "-q", *env_threads, str(tmp / "long.vqc"), *out]
        )
        r["long_opus_s"] = opus_seconds([long], tmp)
        r["help_s"] = startup([exe, "--help"])
        subprocess.run([exe, "compress", "-q", str(files[0]), "-o", str(tmp / "short.vqc")], check=True)
        r["info_s"] = startup([exe, "info", str(tmp / "short.vqc")])  # a dev file: what a user inspects
        r["info_long_s"] = startup([exe, "info", str(tmp / "long.vqc")], runs=1)
    r["light_ratio"], r["torch_ratio"] = r["opus_s"] / r["light_s"], r["opus_s"] / r["torch_s"]
    r["long_ratio"] = r["long_opus_s"] / (r["long_compress_s"] + r["long_decompress_s"])
    report(r, args.minutes)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))


def folder_main(args: argparse.Namespace) -> None:
    files = list_files(args.dev, args.folder)
    r: dict = {"files": len(files), "audio_s": seconds_of(files), "threads": args.threads, "load": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp_name:
        r.update(folder_rounds(files, Path(tmp_name), args.threads, args.rounds, args.model))
    print(f"dev: {r['files']} files, {r['audio_s']:.0f} s; {r['threads']} threads; load average {r['load'][0]:.2f}")
    print("| what (median of rounds) | wall | x real time |")
    print("|---|---:|---:|")
    for key, what in (("opus_s", "opusenc + opusdec, a pair per file"), ("compress_s", "vqcodec compress DIR")):
        print(f"| {what} | {r[key]:.2f} s | {r['audio_s'] / r[key]:.0f} |")
    print(f"| vqcodec decompress DIR | {r['decompress_s']:.2f} s | {r['audio_s'] / r['decompress_s']:.0f} |")
    per_round = ", ".join(f"{o / (c + d):.2f}" for o, c, d in zip(*r["rounds"].values(), strict=True))
    print(f"Opus / vqcodec folder mode: **{r['folder_ratio']:.2f}** (rounds: {per_round})")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))


def report(r: dict, minutes: float) -> None:
    a = r["audio_s"]
    print(f"dev: {r['files']} files, {a / 60:.1f} min; {r['threads']} threads; load average {r['load'][0]:.2f}")
    print("| what | wall | x real time | Opus / vqcodec |")
    print("|---|---:|---:|---:|")
    print(f"| opusenc + opusdec, dev | {r['opus_s']:.1f} s | {a / r['opus_s']:.0f} | |")
    print(f"| vqcodec light runtime, dev | {r['light_s']:.1f} s | {a / r['light_s']:.0f} | {r['light_ratio']:.2f} |")
    print(f"| vqcodec torch runtime, dev | {r['torch_s']:.1f} s | {a / r['torch_s']:.0f} | {r['torch_ratio']:.2f} |")
    long_s = r["long_compress_s"] + r["long_decompress_s"]
    print(
        f"| opusenc + opusdec, {minutes:g} min | {r['long_opus_s']:.1f} s | {minutes * 60 / r['long_opus_s']:.0f} | |"
    )
    print(
        f"| vqcodec light CLI, {minutes:g} min | {long_s:.1f} s | {minutes * 60 / long_s:.0f} | {r['long_ratio']:.2f} |"
    )
    rss = f"compress {r['long_compress_mb']:.0f} MB, decompress {r['long_decompress_mb']:.0f} MB"
    print(f"peak RSS, {minutes:g} min, light: {rss}")
    print(f"start-up: vqcodec --help {r['help_s']:.3f} s, vqcodec info FILE {r['info_s']:.3f} s (a dev file)")
    print(
        f"vqcodec info of the {minutes:g}-minute file: {r['info_long_s']:.2f} s (its codes entropy-decoded and checked)"
    )


if __name__ == "__main__":
    main()
