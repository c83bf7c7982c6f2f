"""Where does a decoder lose quality: magnitude or phase, envelope or fine structure?

    python benchmarks/swap_test.py --data ../shared/speech/dev [--model PATH] [--kbps 3] [--limit 20]

For each file, the decoded signal and the reference are analysed with one STFT (n_fft 640, hop 160: the
default model's head resolution) and rebuilt with parts swapped between them:

- decoded magnitude + decoded phase (what a user hears), reference magnitude + decoded phase, decoded
  magnitude + reference phase;
- the magnitude split by a cepstral lifter into envelope (the first ``--lifter`` quefrency bins) and fine
  structure (harmonics, noise texture): reference envelope + decoded fine structure, and the reverse,
  both with the decoded phase.

The phase swap is also split: the reference's phase on one band (below 1 kHz, 1-4 kHz, above 4 kHz), or
only near the harmonics of its voiced frames, the decoded phase elsewhere.

For a source-filter head, one more row: the codes decoded with the reference's tracked F0 driving the
source (what a perfect F0 would be worth).

A row whose PESQ-WB and STOI jump when the reference's part is swapped in names the part to fix. Works for
any model (it analyses the decoded audio, not the head's internals). Decoded signals are delay-compensated
as in ``vqcodec eval``. Writes ``OUT/swap.md`` and ``OUT/swap.json``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from _common import HOP, N_FFT, add_data_arguments, envelope, istft, load, load_reference, log, stft

from vqcodec.analysis.metrics import SR, compensated, pesq_wb, stoi
from vqcodec.analysis.tracked_pitch import track
from vqcodec.compress import compress, decompress


def variants(ref: np.ndarray, deg: np.ndarray, lifter: int) -> dict[str, np.ndarray]:
    """The rebuilt signals, keyed by what they take from whom."""
    r, d = stft(ref), stft(deg)
    rm, dm, rp, dp = r.abs(), d.abs(), torch.exp(1j * r.angle()), torch.exp(1j * d.angle())
    r_env, d_env = envelope(rm, lifter), envelope(dm, lifter)
    r_fine, d_fine = torch.log(rm + 1e-7) - r_env, torch.log(dm + 1e-7) - d_env
    n = len(ref)
    return {
        "decoded magnitude + decoded phase": deg,
        "reference magnitude + decoded phase": istft(rm * dp, n),
        "decoded magnitude + reference phase": istft(dm * rp, n),
        "reference envelope + decoded fine structure (decoded phase)": istft(torch.exp(r_env + d_fine) * dp, n),
        "decoded envelope + reference fine structure (decoded phase)": istft(torch.exp(d_env + r_fine) * dp, n),
    }


def phase_parts(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """The decoded magnitude with the reference's phase on a part of the bins only (the decoded phase on the
    rest): by band, and on the bins near a harmonic of the reference's tracked F0 in its voiced frames (within
    a quarter of F0) against all others. Where the phase swap's gain comes from."""
    r, d = stft(ref), stft(deg)
    dm, rp, dp = d.abs(), torch.exp(1j * r.angle()), torch.exp(1j * d.angle())
    freqs = torch.arange(r.shape[0], dtype=torch.float64)[:, None] * sample_rate / N_FFT  # [F, 1]
    pitch = track(torch.from_numpy(ref)[None, None], sample_rate, HOP)
    f0 = torch.nn.functional.pad(pitch.f0[0].double(), (0, r.shape[1]))[: r.shape[1]]  # [N]
    ratio = freqs / f0.clamp(min=1.0)
    harmonic = ((ratio - ratio.round()).abs() < 0.25) & (ratio.round() >= 1) & (f0 > 0)  # [F, N]
    parts = {
        "below 1 kHz": freqs < 1000,
        "1-4 kHz": (freqs >= 1000) & (freqs < 4000),
        "above 4 kHz": freqs >= 4000,
        "near the harmonics of voiced frames": harmonic,
        "everywhere but near the harmonics": ~harmonic,
    }
    n = len(ref)
    return {f"decoded magnitude + reference phase {k}": istft(dm * torch.where(m, rp, dp), n) for k, m in parts.items()}


def oracle_f0(codec, ref: np.ndarray, kbps: float) -> np.ndarray | None:
    """The file decoded from its codes with the F0 and voicing tracked on the reference driving a
    source-filter head's excitation instead of the predicted ones (None for heads without a source): how
    much a perfect F0 would be worth."""
    model, rung = codec.model, codec.rung(kbps)
    if model.config.head != "harmonic":
        return None
    hop = model.config.top_hop
    x = torch.from_numpy(np.pad(ref, (0, -len(ref) % hop)))[None, None]  # [1, 1, k * top_hop]
    with torch.no_grad():
        codes = model.encode(x, rung.n_top, rung.n_bottom)
        pitch = track(x, model.config.sample_rate, model.config.hop // model.config.decoder_upsample)
        return model.decode(*codes, pitch=pitch)[0, 0, : len(ref)].numpy()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=20, threads=2)
    ap.add_argument("--kbps", type=float, default=3.0)
    ap.add_argument("--lifter", type=int, default=30, help="cepstral bins kept as the envelope")
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    args = ap.parse_args(argv)
    codec, files = load(args)
    scores: dict[str, dict[str, list[float]]] = {}
    for i, path in enumerate(files, 1):
        log(f"[{i}/{len(files)}] {path.name}")
        ref = load_reference(path)
        decoded = decompress(codec, compress(codec, ref[None], SR, args.kbps))[0][0].numpy()
        deg = compensated(ref, decoded)
        rebuilt = variants(ref, deg.astype(np.float32), args.lifter)
        rebuilt |= phase_parts(ref, deg.astype(np.float32), SR)
        oracle = oracle_f0(codec, ref, args.kbps)
        if oracle is not None:
            rebuilt["decoded with the reference's tracked F0 driving the source"] = oracle
        for name, x in rebuilt.items():
            row = scores.setdefault(name, {"pesq_wb": [], "stoi": []})
            p = pesq_wb(ref, x.astype(np.float32))
            if p is not None:
                row["pesq_wb"].append(p)
            row["stoi"].append(stoi(ref, x))
    table = {k: {m: float(np.mean(v)) for m, v in row.items()} for k, row in scores.items()}
    command = shlex.join([sys.executable, *sys.argv])
    lines = [
        f"# Swap test: {codec.name} ({codec.hash.hex()}) at {codec.rung(args.kbps).kbps:g} kbps, "
        f"{len(files)} files of `{args.data}`",
        "",
        f"Command: `{command}`",
        "",
        "| rebuilt from | PESQ-WB | STOI |",
        "|---|---:|---:|",
    ]
    lines += [f"| {k} | {v['pesq_wb']:.3f} | {v['stoi']:.3f} |" for k, v in table.items()]
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "swap.md").write_text(text)
    (args.out / "swap.json").write_text(
        json.dumps({"command": command, "model": codec.hash.hex(), "kbps": args.kbps, "rows": table}, indent=2) + "\n"
    )
    print(text)


if __name__ == "__main__":
    main()
