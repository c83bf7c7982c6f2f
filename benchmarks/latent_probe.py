"""How much of each level's latent do its first n codebooks carry? (Does rate buy information?)

    python benchmarks/latent_probe.py --data ../shared/speech/dev [--model PATH] [--limit 40]

For every file, the continuous latent that a level's quantizer is given ``z`` ``[T, D]`` and the sum of its
first ``n`` codebooks' outputs ``q_n`` ``[T, D]`` (what the decoder is given at a rung with n codebooks of
that level; the top level is coded with all of its codebooks while the bottom is measured). A ridge
regression ``z ~ W q_n + b`` is fitted on the first half of the files and scored on the second: R^2, the
fraction of the latent's variance that the codes carry in a form a linear map can read.

Read with the eval's rate table: if R^2 keeps rising with n while PESQ-WB does not, the codes carry what
the decoder does not use; if R^2 stops rising, the latent itself holds no more than a few codebooks code.

Then the spectrum (``--spectrum-rungs``, bottom codebooks kept): does what the decoder is given carry the
input's spectrum, and does the decoder make it? The input's 80 log-mel energies per bottom frame (40 ms
Hann windows) are regressed the same way on the decoder's input ``[q_n ; decoded top]`` of that frame and
the two either side (``cont``: the continuous bottom latent instead of ``q_n``), and compared with the
log-mels of the audio the model decodes from the same codes: R^2 and mean absolute error (log10 units) on
the held-out half. If the decoded R^2 is near the probe's, the decoder makes about what a linear map reads
from its input; if neither rises with n, the upper rungs' codes hold little more of the spectrum.
Writes ``OUT/latent_probe.json`` and prints both tables.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from _common import add_data_arguments, load, load_reference, log
from torchaudio.transforms import MelSpectrogram


def level_pairs(model, x: torch.Tensor) -> dict[str, tuple[np.ndarray, list[np.ndarray]]]:
    """[1, 1, T] audio -> per level (top, bottom): the latent [T_l, D] and q_n [T_l, D] for every n."""
    h = model.hierarchy
    z_top, z_bottom = h.quantizer_inputs(model.encoder(x), h.top_quantizer.n_codebooks)  # [1, D, T_t], [1, D, T_b]
    out = {}
    for name, q, z in (("top", h.top_quantizer, z_top), ("bottom", h.bottom_quantizer, z_bottom)):
        codes = q.encode(z, q.n_codebooks)  # [1, n_q, T_l]
        sums = [q.decode(codes[:, :n])[0].T.numpy() for n in range(1, q.n_codebooks + 1)]
        out[name] = (z[0].T.numpy(), sums)
    return out


def spectrum_pairs(model, x: torch.Tensor, rungs: list[int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """[1, 1, T] audio -> the input's log-mels [T_b, 80] and, per rung (bottom codebooks kept, or ``cont``),
    the decoder's input with +-2 frames of context [T_b, 5 * 2D] and the decoded audio's log-mels [T_b, 80]."""
    c, h = model.config, model.hierarchy
    mel = MelSpectrogram(c.sample_rate, n_fft=2 * c.hop, hop_length=c.hop, n_mels=80, power=2.0)
    log_mel = lambda y: torch.log10(mel(y[0, 0]) + 1e-6)[:, : x.shape[-1] // c.hop].T.numpy()  # noqa: E731
    latent = model.encoder(x)
    top_codes, bottom_codes = model.encode(x, c.n_top, c.n_bottom)
    pitch = model.track_pitch(x) if c.pitch_bits else None
    top = h.top_decoder(h.top_quantizer.decode(top_codes))
    out = {"input": (log_mel(x), log_mel(x))}
    for rung in [*rungs, "cont"]:
        kept = bottom_codes[:, : c.n_bottom if rung == "cont" else rung]
        bottom = h._bottom_input(latent, top) if rung == "cont" else h.bottom_quantizer.decode(kept)
        frames = torch.cat([bottom, top], 1)[0].T  # [T_b, 2D]
        context = torch.cat([torch.roll(frames, s, 0) for s in (-2, -1, 0, 1, 2)], 1).numpy()
        out[str(rung)] = (context, log_mel(model.decode(top_codes, kept, pitch)))
    return out


def ridge_r2(x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, lam: float = 1e-2) -> float:
    """R^2 on the test rows of a ridge regression fitted on the fit rows ([N, D] each)."""
    mx, my = x_fit.mean(0), y_fit.mean(0)
    a = x_fit - mx
    w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ (y_fit - my))
    return r2(y_test, (x_test - mx) @ w + my)


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    """The fraction of ``y``'s variance ([N, D]) that ``pred`` explains."""
    return float(1 - ((y - pred) ** 2).sum() / ((y - y.mean(0)) ** 2).sum())


def spectrum_table(per_file: list[dict], rungs: list[str]) -> dict[str, dict[str, float]]:
    """Per rung: the ridge probe's R^2 and error on the held-out half, and the decoded audio's."""
    half = len(per_file) // 2
    fit, test = per_file[:half], per_file[half:]
    y_fit = np.concatenate([f["input"][0] for f in fit])
    y_test = np.concatenate([f["input"][0] for f in test])
    table = {}
    for rung in rungs:
        x_fit, x_test = (np.concatenate([f[rung][0] for f in part]) for part in (fit, test))
        sd = x_fit.std(0) + 1e-6
        mx, my = x_fit.mean(0), y_fit.mean(0)
        a = (x_fit - mx) / sd
        w = np.linalg.solve(a.T @ a + 1e-2 * len(a) * np.eye(a.shape[1]), a.T @ (y_fit - my))
        probe = (x_test - mx) / sd @ w + my
        decoded = np.concatenate([f[rung][1] for f in test])
        table[rung] = {
            "probe_r2": r2(y_test, probe),
            "decoded_r2": r2(y_test, decoded),
            "probe_error": float(np.abs(probe - y_test).mean()),
            "decoded_error": float(np.abs(decoded - y_test).mean()),
        }
    return table


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=40, threads=2)
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    ap.add_argument(
        "--spectrum-rungs", default="1,4,11", help="bottom codebooks kept for the spectrum probe (default 1,4,11)"
    )
    args = ap.parse_args(argv)
    rungs = [int(v) for v in args.spectrum_rungs.split(",") if v]
    codec, files = load(args, metrics=False)
    model, hop = codec.model, codec.config.top_hop
    per_file, spectra = [], []
    with torch.inference_mode():
        for i, path in enumerate(files, 1):
            log(f"[{i}/{len(files)}] {path.name}")
            ref = load_reference(path)
            x = torch.from_numpy(np.pad(ref, (0, -len(ref) % hop)))[None, None]
            per_file.append(level_pairs(model, x))
            spectra.append(spectrum_pairs(model, x, rungs))
    half = len(per_file) // 2
    table = {}
    for level in ("top", "bottom"):
        z_fit = np.concatenate([f[level][0] for f in per_file[:half]])
        z_test = np.concatenate([f[level][0] for f in per_file[half:]])
        n_q = len(per_file[0][level][1])
        table[level] = [
            ridge_r2(
                np.concatenate([f[level][1][n] for f in per_file[:half]]),
                z_fit,
                np.concatenate([f[level][1][n] for f in per_file[half:]]),
                z_test,
            )
            for n in range(n_q)
        ]
    command = shlex.join([sys.executable, *sys.argv])
    print(f"Latent R^2 from the first n codebooks: {codec.name} ({codec.hash.hex()}), {len(files)} files\n")
    for level, r2 in table.items():
        print(f"{level:>6}: " + "  ".join(f"{n + 1}:{v:.3f}" for n, v in enumerate(r2)))
    spectrum = spectrum_table(spectra, [*map(str, rungs), "cont"])
    print("\nInput log-mels from the decoder's input (ridge probe) and in the decoded audio: R^2 / mean |error|")
    for rung, v in spectrum.items():
        print(
            f"{rung:>6}: probe {v['probe_r2']:.3f} / {v['probe_error']:.3f}"
            f"   decoded {v['decoded_r2']:.3f} / {v['decoded_error']:.3f}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    record = {"command": command, "model": codec.hash.hex(), "files": len(files), "r2": table, "spectrum": spectrum}
    (args.out / "latent_probe.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
