"""What the pitch stream's choices are worth: how F0 is tracked and sent, its cost, and its window dependence.

    python benchmarks/pitch_stream.py --data ../shared/speech/dev [--model PATH] [--limit 20] [--kbps 3]

For a source-filter model, the same codes of each file are decoded with the source driven by F0 tracked
and sent in several ways (PESQ-WB, STOI, F0 error, voicing error against the reference):

- tracked at the 20 ms pitch frame itself, sent at 7 bits, log F0 interpolated to the decoder's 10 ms frames;
- tracked at 10 ms, every second value sent (what the codec does; at 16 kHz, and at 8 kHz as shipped);
- the same, each value held for two decoder frames instead of interpolated;
- every 10 ms value sent (twice the rate).

Then: Praat's speed at 16 and 8 kHz, the resident memory its import costs, and how many pitch codes differ
when a file is coded in 2 s windows instead of whole (Praat's voicing threshold follows the loudest sample it
sees). Prints markdown.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soxr
import torch
from _common import add_data_arguments, load, load_reference, log

from vqcodec.analysis.metrics import SR, pesq_wb, pitch_errors, stoi
from vqcodec.codec import Codec
from vqcodec.nn.excitation import Pitch
from vqcodec.pitch.quantize import dequantize, frame_f0, quantize
from vqcodec.pitch.tracker import track_rows


def variants(x: np.ndarray, hop: int, bits: int) -> dict[str, np.ndarray]:
    """[1, T] audio -> F0 in Hz on the decoder's 10 ms frames ([1, 2 T / hop]) for each way of sending it."""
    n = x.shape[-1] // hop
    x8 = soxr.resample(x[0], SR, 8000)[None]
    at20 = quantize(track_rows(x, SR, hop), bits)
    at10 = track_rows(x, SR, hop // 2)
    at10_8k = quantize(track_rows(x8, 8000, hop // 4)[:, ::2][:, :n], bits)
    kept = quantize(at10[:, ::2][:, :n], bits)
    return {
        "tracked at 20 ms, interpolated": frame_f0(at20, bits, 2),
        "tracked at 10 ms, every second sent, interpolated (16 kHz)": frame_f0(kept, bits, 2),
        "tracked at 10 ms, every second sent, interpolated (8 kHz: shipped)": frame_f0(at10_8k, bits, 2),
        "tracked at 10 ms, every second sent, held": np.repeat(dequantize(kept, bits), 2, axis=-1),
        "tracked at 10 ms, every value sent (2x the rate)": dequantize(quantize(at10[:, : 2 * n], bits), bits),
    }


def quality(codec: Codec, files: list[Path], kbps: float) -> dict[str, np.ndarray]:
    model, rung = codec.model, codec.rung(kbps)
    c = model.config
    out: dict[str, list] = {}
    for i, path in enumerate(files, 1):
        log(f"[{i}/{len(files)}] {path.name}")
        ref = load_reference(path)
        x = torch.from_numpy(np.pad(ref, (0, -len(ref) % c.top_hop)))[None, None]
        with torch.no_grad():
            codes = model.encode(x, rung.n_top, rung.n_bottom)
            for name, f0 in variants(x[:, 0].double().numpy(), c.hop, c.pitch_bits).items():
                f0 = torch.from_numpy(np.asarray(f0, np.float32))
                y = model.decode(*codes, pitch=Pitch(f0, f0 > 0))[0, 0, : len(ref)].numpy()
                fe, ve = pitch_errors(ref, y)
                out.setdefault(name, []).append(
                    (pesq_wb(ref, y) or np.nan, stoi(ref, y), np.nan if fe is None else fe, ve)
                )
    return {k: np.nanmean(np.array(v), axis=0) for k, v in out.items()}


def speed(files: list[Path]) -> dict[str, float]:
    """Times real time of Praat at 16 and 8 kHz on the files joined."""
    x = np.concatenate([load_reference(p) for p in files]).astype(np.float64)
    out = {}
    for rate in (16000, 8000):
        y = x if rate == SR else soxr.resample(x, SR, rate)
        t = time.perf_counter()
        track_rows(y[None], rate, rate // 100)
        out[f"{rate // 1000} kHz, 10 ms steps"] = len(x) / SR / (time.perf_counter() - t)
    return out


def import_rss() -> float:
    """MB of resident memory ``import parselmouth`` adds to a fresh process that has numpy (VmRSS: a child's
    peak RSS would start from this large parent's)."""
    rss = "int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"
    code = f"import numpy; a = {rss}; import parselmouth; print(({rss} - a) / 1024)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def window_dependence(codec: Codec, files: list[Path]) -> tuple[int, int, int]:
    """(pitch codes, codes that differ, voicing decisions that differ) between 2 s windows and whole files."""
    small = Codec(codec.model, chunk_frames=25)
    total = differ = voicing = 0
    for path in files:
        ref = load_reference(path)
        a, b = codec.encode(ref, SR, 3).pitch.numpy(), small.encode(ref, SR, 3).pitch.numpy()
        total, differ, voicing = total + a.size, differ + int((a != b).sum()), voicing + int(((a > 0) != (b > 0)).sum())
    return total, differ, voicing


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=20, threads=1)
    ap.add_argument("--kbps", type=float, default=3.0)
    args = ap.parse_args(argv)
    codec, files = load(args)
    if not codec.config.pitch_bits:
        raise SystemExit("this model has no pitch stream (pitch_bits = 0)")
    rows = quality(codec, files, args.kbps)
    print(
        f"# Pitch stream of {codec.name} ({codec.hash.hex()}), {len(files)} files of `{args.data}`, "
        f"{codec.rung(args.kbps).kbps:g} kbps rung\n"
    )
    print("| F0 sent | PESQ-WB | STOI | F0 err (cents) | voicing err |\n|---|---:|---:|---:|---:|")
    for name, (p, s, f, v) in rows.items():
        print(f"| {name} | {p:.3f} | {s:.3f} | {f:.0f} | {v:.3f} |")
    print("\nPraat, times real time: " + ", ".join(f"{k}: {v:.0f}x" for k, v in speed(files).items()))
    print(f"import parselmouth adds {import_rss():.0f} MB of resident memory")
    total, differ, voicing = window_dependence(codec, files)
    print(
        f"2 s windows against whole files: {differ} of {total} pitch codes differ, {voicing} in their voicing "
        f"(peak RSS of this run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
    )


if __name__ == "__main__":
    main()
