"""Does each codebook code something new? Per-stage redundancy of a level's residual stack, and what the
decoder makes of the bottom level with no quantization error at all.

    python benchmarks/stage_redundancy.py --data ../shared/speech/dev/resemblyzer_librispeech [--model M]
        [--limit 12] [--rungs 1,4,11] [--against OTHER]

1. Redundancy. For every file and level, the vector each codebook searches (its whitened projection of the
   residual it is given, ``FactorizedVQ.project``, [T, d]) is regressed linearly on the vectors of the
   codebooks before it; R^2 on the held-out half of the frames. Near 1: the codebook searches what the ones
   before it already searched, so its code adds little; a residual stack should keep it well below 1. The
   table also gives each stage's residual norm over the first's, and the cosine between what a stage adds
   and the residual it was given (a stack whose residual does not shrink codes the same latent again).
2. Ceiling (``--rungs``, bottom codebooks kept, the top coded as usual): each file decoded from its codes,
   and again with every bottom codebook's code vector replaced by the continuous vector it was chosen for
   (the quantization error removed, the decoder unchanged). PESQ-WB / STOI, delay compensated. If the
   continuous row is hardly above the coded one, the codes are not what limits the rung: the latent and the
   decoder are.
3. Code agreement (``--against OTHER``, a model file): per level and codebook, the share of frames whose code
   is the other model's (all codebooks kept). For a training stage meant to keep some codes (``readout_from``,
   ``frozen_bottom``): which ones it kept.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import add_data_arguments, load, load_reference, log

from vqcodec.analysis.metrics import compensated, pesq_wb, stoi
from vqcodec.io.weights import load_model


def stack(q, z: torch.Tensor, n: int, continuous: bool = False):
    """A level's stack on [B, D, T] with its first ``n`` codebooks, as the codec codes it (``ResidualVQ.walk``) ->
    (sum of outputs [B, D, T], per stage: searched vector [T, d], residual norm, cosine(output, residual)); with
    ``continuous`` each output is made from the searched vector instead of the chosen code's."""
    total, stages = 0, []
    for layer, residual, codes in q.walk(z, n):
        searched = layer.project(residual)
        out = layer.out_proj(searched if continuous else layer.embed(codes))
        cos = torch.nn.functional.cosine_similarity(out.flatten(), residual.flatten(), dim=0)
        stages.append((searched[0].T.numpy(), float(residual.norm()), float(cos)))
        total = total + out
    return total, stages


def decode(model, x: torch.Tensor, n_bottom: int, continuous: bool, pitch_codes: torch.Tensor):
    """[1, 1, T] -> ([T] decoded, per-level stage records) with 4 top and ``n_bottom`` bottom codebooks."""
    h = model.hierarchy
    latent = model.encoder(x)
    top_q, top_stages = stack(h.top_quantizer, h.top_encoder(latent), model.config.n_top)
    top = h.top_decoder(top_q)
    bottom, bottom_stages = stack(h.bottom_quantizer, h._bottom_input(latent, top), n_bottom, continuous)
    kept = torch.full((1,), n_bottom, dtype=torch.long)
    y = model.decoder(bottom, top, 0, model.pitch(pitch_codes), kept).audio * model.config.output_gain
    return y[0].numpy(), {"top": top_stages, "bottom": bottom_stages}


def r2(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> float:
    """Held-out R^2 of the least-squares map x [N, p] -> y [N, q] fitted on the ``train`` rows."""
    x = np.c_[x, np.ones(len(x))]
    w = np.linalg.lstsq(x[train], y[train], rcond=None)[0]
    rest = y[~train]
    return float(1 - ((rest - x[~train] @ w) ** 2).sum() / ((rest - rest.mean(0)) ** 2).sum())


def redundancy_table(records: dict[str, list]) -> None:
    print("| level | stage | R^2 from the stages before | residual norm / first | cos(output, residual) |")
    print("|---|---:|---:|---:|---:|")
    for level, per_file in records.items():
        n = len(per_file[0])
        searched = [np.concatenate([f[i][0] for f in per_file]) for i in range(n)]
        train = np.arange(len(searched[0])) < len(searched[0]) // 2
        for i in range(n):
            fit = r2(np.concatenate(searched[:i], 1), searched[i], train) if i else float("nan")
            norm = np.mean([f[i][1] / f[0][1] for f in per_file])
            cos = np.mean([f[i][2] for f in per_file])
            print(f"| {level} | {i + 1} | {'-' if i == 0 else f'{fit:.3f}'} | {norm:.3f} | {cos:.3f} |")


def agreement_table(same: dict[str, list[np.ndarray]], other: str) -> None:
    """Per level, the share of frames [n_q] whose code equals ``other``'s, pooled over files."""
    print(f"\n| level | codes equal to {other}'s, codebook 1, 2, ... |\n|---|---|")
    for level, per_file in same.items():
        share = np.concatenate(per_file, axis=1).mean(axis=1)  # [n_q]
        print(f"| {level} | {' '.join(f'{v:.2f}' for v in share)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(ap, limit=12)
    ap.add_argument("--rungs", default="1,4,11", help="bottom codebooks kept, comma-separated")
    ap.add_argument("--against", help="another model file: the share of codes each codebook keeps of its")
    args = ap.parse_args()
    codec, files = load(args)
    model, hop = codec.model, codec.model.config.top_hop
    rungs = [int(r) for r in args.rungs.split(",")]
    records: dict[str, list] = {"top": [], "bottom": []}
    scores: dict[tuple[int, bool], list] = {}
    other = load_model(args.against).eval() if args.against else None
    same: dict[str, list[np.ndarray]] = {"top": [], "bottom": []}
    for path in files:
        ref = load_reference(path)
        x = torch.from_numpy(np.pad(ref, (0, -len(ref) % hop)))[None, None]
        with torch.inference_mode():
            pitch_codes = model.track_pitch(x)
            if other is not None:
                mine, theirs = model.encode(x, *model.config.codebooks), other.encode(x, *other.config.codebooks)
                for level, a, b in zip(same, mine, theirs, strict=True):
                    same[level].append((a[0] == b[0]).numpy())  # [n_q, T]
            for n in rungs:
                for continuous in (False, True):
                    y, stages = decode(model, x, n, continuous, pitch_codes)
                    if n == model.config.n_bottom and not continuous:
                        for level, s in stages.items():
                            records[level].append(s)
                    y = y[: len(ref)]
                    deg = compensated(ref, y)
                    scores.setdefault((n, continuous), []).append((pesq_wb(ref, deg), stoi(ref, deg)))
        log(path.name)
    print(f"\n{len(files)} files, model {codec.name} ({codec.hash.hex()})\n")
    if records["bottom"]:
        redundancy_table(records)
    print("\n| bottom codebooks | decoded from | PESQ-WB | STOI |\n|---:|---|---:|---:|")
    for (n, continuous), vals in scores.items():
        pesq, est = np.mean([v[0] for v in vals if v[0] is not None]), np.mean([v[1] for v in vals])
        print(f"| {n} | {'continuous vectors' if continuous else 'codes'} | {pesq:.3f} | {est:.3f} |")
    if other is not None:
        agreement_table(same, args.against)


if __name__ == "__main__":
    main()
