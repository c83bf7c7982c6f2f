"""Entropy coding on real speech: file sizes with and without it at every rung, decoded audio identical,
and the time it adds to compress + decompress.

    python benchmarks/entropy.py --data ../shared/speech/dev --out bench_out/entropy

Every file of ``--data`` is encoded once at the top rung; each lower rung keeps the first codebooks, as
``compress`` does. Per rung it sums the bytes of the plain stream (format 1, ``--no-entropy``) and of the
entropy-coded one (format 2), headers and checksums included, and checks that the coded stream reads back
to exactly the same codes (so the decoded audio is the same: decoding is a function of the codes). On the
first ``--time-files`` files (default all) it times ``compress`` + ``decompress`` (bytes API, in process)
with and without entropy coding at the lowest, default and top rung, the two interleaved file by file
(alternating which goes first) after one untimed warm-up of each, and compares the decoded audio sample for
sample; then the same with the light runtime (onnxruntime, the CLI's default: ``vqcodec.pipeline.files``,
file to file). Writes ``OUT/entropy.md`` and ``OUT/entropy.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import tempfile
import time
from pathlib import Path

import torch
from _common import list_files

import vqcodec
from vqcodec.compress import compress, decompress, from_bytes, to_bytes
from vqcodec.io.audio import read_audio


def sizes(codec, paths: list[Path]) -> list[dict]:
    """Plain and entropy-coded bytes of every rung, summed over ``paths``; codes checked to read back."""
    ladder = codec.ladder()
    rows = [{"kbps": r.kbps, "plain": 0, "entropy": 0, "codes": 0, "bits": 0.0} for r in ladder]
    seconds = 0.0
    for path in paths:
        wav, sr = read_audio(path)
        codes = codec.encode(wav, sr, ladder[-1].kbps)
        seconds += codes.duration
        for row, rung in zip(rows, ladder, strict=True):
            cut = dataclasses.replace(codes, top=codes.top[:, : rung.n_top], bottom=codes.bottom[:, : rung.n_bottom])
            plain, coded = to_bytes(cut, codec, entropy_coding=False), to_bytes(cut, codec)
            if from_bytes(coded) != cut or coded[3] != 2:
                raise SystemExit(f"{path}: entropy-coded stream does not read back to its codes")
            row["plain"] += len(plain)
            row["entropy"] += len(coded)
            row["codes"] += cut.top.numel() + cut.bottom.numel()
    for row in rows:
        row["saving_pct"] = round(100 * (1 - row["entropy"] / row["plain"]), 2)
        row["plain_kbps"] = round(row["plain"] * 8 / seconds / 1000, 4)
        row["entropy_kbps"] = round(row["entropy"] * 8 / seconds / 1000, 4)
        row["bits_per_code"] = round((row["entropy"] - row["plain"]) * 8 / row["codes"] + codec.config.bits, 3)
    return rows, seconds


def timing(codec, paths: list[Path], kbps: float) -> dict:
    """Seconds of compress + decompress with and without entropy coding, interleaved file by file."""
    spent = {True: 0.0, False: 0.0}
    identical = True
    wav, sr = read_audio(paths[0])
    for on in (False, True):  # warm-up: first calls allocate and build the coder's models
        decompress(codec, compress(codec, wav, sr, kbps, entropy_coding=on))
    for index, path in enumerate(paths):
        wav, sr = read_audio(path)
        decoded = {}
        for on in (False, True) if index % 2 else (True, False):  # alternate which goes first
            t = time.perf_counter()
            data = compress(codec, wav, sr, kbps, entropy_coding=on)
            decoded[on] = decompress(codec, data)[0]
            spent[on] += time.perf_counter() - t
        identical &= torch.equal(decoded[True], decoded[False])
    return {
        "runtime": "torch",
        "kbps": kbps,
        "plain_s": round(spent[False], 3),
        "entropy_s": round(spent[True], 3),
        "overhead_pct": round(100 * (spent[True] / spent[False] - 1), 2),
        "decoded_identical": bool(identical),
    }


def timing_light(paths: list[Path], kbps: float) -> dict:
    """As :func:`timing`, on the light runtime, file to file (the decoded WAV files compared byte for byte)."""
    from vqcodec.pipeline import files

    codec = files.load()
    spent = {True: 0.0, False: 0.0}
    identical = True
    with tempfile.TemporaryDirectory() as tmp:
        vqc = {on: Path(tmp) / f"{on}.vqc" for on in (False, True)}
        wav = {on: Path(tmp) / f"{on}.wav" for on in (False, True)}
        for on in (False, True):  # warm-up
            files.compress_file(codec, paths[0], vqc[on], kbps, on)
            files.decompress_file(codec, vqc[on], wav[on])
        for index, path in enumerate(paths):
            for on in (False, True) if index % 2 else (True, False):
                t = time.perf_counter()
                files.compress_file(codec, path, vqc[on], kbps, on)
                files.decompress_file(codec, vqc[on], wav[on])
                spent[on] += time.perf_counter() - t
            identical &= wav[True].read_bytes() == wav[False].read_bytes()
    return {
        "runtime": "light",
        "kbps": kbps,
        "plain_s": round(spent[False], 3),
        "entropy_s": round(spent[True], 3),
        "overhead_pct": round(100 * (spent[True] / spent[False] - 1), 2),
        "decoded_identical": bool(identical),
    }


def table(rows: list[dict], times: list[dict]) -> str:
    lines = [
        "| rung kbps | plain kbps | entropy-coded kbps | saving | bits per code |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['kbps']:g} | {r['plain_kbps']:.3f} | {r['entropy_kbps']:.3f} | {r['saving_pct']:.1f} % "
            f"| {r['bits_per_code']:.2f} |"
        )
    lines += [
        "",
        "| runtime | rung kbps | compress + decompress, plain | with entropy coding | time added | audio identical |",
    ]
    lines.append("|---|---:|---:|---:|---:|---|")
    for t in times:
        lines.append(
            f"| {t['runtime']} | {t['kbps']:g} | {t['plain_s']:.2f} s | {t['entropy_s']:.2f} s "
            f"| {t['overhead_pct']:+.1f} % "
            f"| {'yes' if t['decoded_identical'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder of audio files (e.g. ../shared/speech/dev)")
    p.add_argument("--out", default="bench_out/entropy")
    p.add_argument("--time-files", type=int, help="files timed (the first ones, sorted; default all)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    codec = vqcodec.load()
    paths = list_files(args.data, None)
    rows, seconds = sizes(codec, paths)
    ladder = codec.ladder()
    rungs = sorted({ladder[0].kbps, codec.rung().kbps, ladder[-1].kbps})
    times = [timing(codec, paths[: args.time_files], kbps) for kbps in rungs]
    times += [timing_light(paths[: args.time_files], kbps) for kbps in rungs]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = table(rows, times)
    (out / "entropy.md").write_text(md + "\n")
    facts = {
        "data": args.data,
        "files": len(paths),
        "seconds": round(seconds, 2),
        "model_hash": codec.hash.hex(),
        "sizes": rows,
        "timing": times,
        "time_files": len(paths[: args.time_files]),
        "threads": args.threads,
        "machine": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    (out / "entropy.json").write_text(json.dumps(facts, indent=2) + "\n")
    print(md)


if __name__ == "__main__":
    main()
