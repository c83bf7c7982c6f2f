"""How much of each level's latent do its first n codebooks carry? (Does rate buy information?)

    python benchmarks/latent_probe.py --data ../shared/speech/dev [--model PATH] [--limit 40]

For every file, the continuous latent that a level's quantizer is given ``z`` ``[T, D]`` and the sum of its
first ``n`` codebooks' outputs ``q_n`` ``[T, D]`` (what the decoder is given at a rung with n codebooks of
that level; the top level is coded with all of its codebooks while the bottom is measured). A ridge
regression ``z ~ W q_n + b`` is fitted on the first half of the files and scored on the second: R^2, the
fraction of the latent's variance that the codes carry in a form a linear map can read.

Read with the eval's rate table: if R^2 keeps rising with n while PESQ-WB does not, the codes carry what
the decoder does not use; if R^2 stops rising, the latent itself holds no more than a few codebooks code.
Writes ``OUT/latent_probe.json`` and prints a table.
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


def ridge_r2(x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, lam: float = 1e-2) -> float:
    """R^2 on the test rows of a ridge regression fitted on the fit rows ([N, D] each)."""
    mx, my = x_fit.mean(0), y_fit.mean(0)
    a = x_fit - mx
    w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ (y_fit - my))
    err = y_test - ((x_test - mx) @ w + my)
    return float(1 - (err**2).sum() / ((y_test - y_test.mean(0)) ** 2).sum())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=40, threads=2)
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    args = ap.parse_args(argv)
    codec, files = load(args, metrics=False)
    model, hop = codec.model, codec.config.top_hop
    per_file = []
    with torch.inference_mode():
        for i, path in enumerate(files, 1):
            log(f"[{i}/{len(files)}] {path.name}")
            ref = load_reference(path)
            per_file.append(level_pairs(model, torch.from_numpy(np.pad(ref, (0, -len(ref) % hop)))[None, None]))
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
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latent_probe.json").write_text(
        json.dumps({"command": command, "model": codec.hash.hex(), "files": len(files), "r2": table}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
