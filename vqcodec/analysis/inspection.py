"""What the codebooks do on real audio: ``vqcodec inspect AUDIO_OR_DIR -o REPORT_DIR``.

Every file (channels averaged to mono) is encoded at one rung (default: the top rung, every codebook).
For each level and codebook, over all files: usage % (codes with probability above 1/(100 K)), perplexity
(exp of the entropy, between 1 and K), dead codes (K minus the used ones), the most frequent code and its
share, and the repeat rate (how often a frame keeps the previous frame's code, within a file).

``REPORT_DIR`` gets ``inspect.json`` (all of that, plus collapse warnings and the file list),
``codebooks.png`` (code-frequency map and rank-frequency curves per level) and ``tokens.png`` (for one
file: its spectrogram with the top and bottom code ids under it, on the same time axis). A short table
is printed. Needs matplotlib (``pip install 'vqcodec[inspect]'``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from vqcodec.analysis.references import list_files, load_reference
from vqcodec.analysis.stats import code_counts, collapse_warnings, level_usage
from vqcodec.codec import ArraySource, Codec, Rung
from vqcodec.codes import Codes
from vqcodec.errors import UserError
from vqcodec.io.audio import read_audio

LEVELS = ("top", "bottom")


def encode_files(codec: Codec, files: Sequence[Path], rung: Rung, batch: int = 8) -> Iterator[tuple[Path, Codes]]:
    """Each file, channels averaged to mono, encoded at ``rung``; ``batch`` files at a time."""
    for a in range(0, len(files), batch):
        chunk = list(files[a : a + batch])
        sources = []
        for path in chunk:
            wav, sr = read_audio(path)
            sources.append(ArraySource(wav.mean(axis=0), sr))
        yield from zip(chunk, codec.encode_sources(sources, rung.kbps), strict=True)


def level_codes(codes: Codes, level: str) -> torch.Tensor:
    """``[n_codebooks, T]`` codes of one level (first channel)."""
    return getattr(codes, level)[0]


def pick_rung(codec: Codec, bitrate: float | None) -> Rung:
    """The rung serving ``bitrate``; the top rung (every codebook) when None."""
    if bitrate is None:
        return codec.ladder()[-1]
    try:
        return codec.rung(bitrate)
    except ValueError as e:
        raise UserError(str(e)) from None


def inspect_codes(codec: Codec, files: Sequence[Path], rung: Rung) -> dict:
    """Code counts and repeat counts per level over ``files``, and the codes of every file.

    Returns:
        ``{"counts": {level: [n_q, K] int64}, "repeats": {level: [n_q]}, "pairs": {level: int},
        "codes": {path: Codes}}`` where ``pairs`` counts consecutive frame pairs within files.
    """
    k = codec.config.codebook_size
    n = {"top": rung.n_top, "bottom": rung.n_bottom}
    counts = {lv: torch.zeros(n[lv], k, dtype=torch.int64) for lv in LEVELS}
    repeats = {lv: torch.zeros(n[lv], dtype=torch.int64) for lv in LEVELS}
    pairs = dict.fromkeys(LEVELS, 0)
    per_file = {}
    for i, (path, codes) in enumerate(encode_files(codec, files, rung), 1):
        print(f"[{i}/{len(files)}] {path.name}", file=sys.stderr, flush=True)
        per_file[path] = codes
        for lv in LEVELS:
            c = level_codes(codes, lv)
            counts[lv] += code_counts(c, k)
            repeats[lv] += (c[:, 1:] == c[:, :-1]).sum(dim=1)
            pairs[lv] += max(0, c.shape[1] - 1)
    return {"counts": counts, "repeats": repeats, "pairs": pairs, "codes": per_file}


def summary(codec: Codec, rung: Rung, files: Sequence[Path], seen: dict) -> dict:
    """The JSON-ready summary of :func:`inspect_codes`'s result."""
    k = codec.config.codebook_size
    levels = {}
    for lv in LEVELS:
        counts = seen["counts"][lv]
        usage = level_usage(lv, counts)
        frames = int(counts[0].sum()) if len(counts) else 0
        per = []
        for j, row in enumerate(usage.per_codebook):
            top_code = int(counts[j].argmax())
            per.append(
                {
                    **row,
                    "most_frequent_code": top_code,
                    "most_frequent_share": float(counts[j, top_code]) / max(1, frames),
                    "repeat_pct": 100 * float(seen["repeats"][lv][j]) / max(1, seen["pairs"][lv]),
                }
            )
        frame_rate = codec.sample_rate / (codec.config.top_hop if lv == "top" else codec.config.hop)
        levels[lv] = {
            "codebooks": usage.codebooks,
            "frames_per_codebook": frames,
            "frame_rate_hz": frame_rate,
            "usage_pct_mean": usage.usage_mean,
            "usage_pct_min": usage.usage_min,
            "perplexity_mean": usage.perplexity_mean,
            "perplexity_min": usage.perplexity_min,
            "dead_mean": usage.dead_mean,
            "dead_max": usage.dead_max,
            "max_usage_pct_possible": min(100.0, 100 * frames / k),
            "per_codebook": per,
        }
    return {
        "model_name": codec.name,
        "model_hash": codec.hash.hex(),
        "rung": asdict(rung),
        "codebook_size": k,
        "files": len(files),
        "file_list": [str(f) for f in files],
        "levels": levels,
        "warnings": collapse_warnings(seen["counts"]),
    }


def table(result: dict) -> str:
    """Per codebook: usage %, perplexity, dead codes, repeat %; then warnings."""
    k = result["codebook_size"]
    lines = [
        f"{'level':<7}{'cb':>3}{'usage %':>9}{'perplexity':>12}{'dead':>7}{'top code':>10}{'share %':>9}"
        f"{'repeat %':>10}"
    ]
    for lv, info in result["levels"].items():
        for row in info["per_codebook"]:
            lines.append(
                f"{lv:<7}{row['codebook']:>3}{row['usage_pct']:>9.1f}{row['perplexity']:>12.1f}"
                f"{row['dead']:>7}{row['most_frequent_code']:>10}{100 * row['most_frequent_share']:>9.1f}"
                f"{row['repeat_pct']:>10.1f}"
            )
        note = ""
        if info["max_usage_pct_possible"] < 100:
            note = (
                f"; only {info['frames_per_codebook']} frames: usage can be at most "
                f"{info['max_usage_pct_possible']:.1f} %"
            )
        lines.append(
            f"  {lv}: {info['codebooks']} codebooks of {k}, {info['frames_per_codebook']} frames each "
            f"({info['frame_rate_hz']:g}/s), usage {info['usage_pct_mean']:.1f} % mean, perplexity "
            f"{info['perplexity_mean']:.1f} mean{note}"
        )
    lines += [f"warning: {w}" for w in result["warnings"]]
    return "\n".join(lines)


def inspect(
    codec: Codec, files: Sequence[Path], rung: Rung, out: Path, example: Path | None = None, model: str | None = None
) -> dict:
    """Write ``inspect.json``, ``codebooks.png`` and ``tokens.png`` under ``out``; returns the summary.

    ``example`` is the file drawn in ``tokens.png`` (default: the first); ``model`` the model file's path,
    recorded in the JSON.
    """
    from vqcodec.analysis.plots import codebook_plot, require_matplotlib, tokens_plot

    require_matplotlib()
    seen = inspect_codes(codec, files, rung)
    result = {"model": str(model) if model else "shipped default", **summary(codec, rung, files, seen)}
    example = example or files[0]
    codes = seen["codes"].get(example) or next(encode_files(codec, [example], rung))[1]
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "inspect.json", "codebooks_png": out / "codebooks.png", "tokens_png": out / "tokens.png"}
    tag = f"{codec.name} ({codec.hash.hex()}), {rung.kbps:g} kbps ({rung.n_top}t+{rung.n_bottom}b)"
    codebook_plot(seen["counts"], paths["codebooks_png"], f"Code frequencies over {len(files)} files: {tag}")
    c = codec.config
    tokens_plot(
        load_reference(example, codec.sample_rate),
        codec.sample_rate,
        level_codes(codes, "top").numpy(),
        level_codes(codes, "bottom").numpy(),
        c.top_hop,
        c.hop,
        c.codebook_size,
        paths["tokens_png"],
        f"{example.name}: {tag}",
    )
    result["example"] = str(example)
    result["outputs"] = {name: str(p) for name, p in paths.items()}
    paths["json"].write_text(json.dumps(result, indent=2) + "\n")
    return result


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="AUDIO_OR_DIR", help="an audio file, or a folder (searched recursively)")
    p.add_argument("-m", "--model", help="model file or a shipped model's name (default: the shipped model)")
    p.add_argument("-b", "--bitrate", type=float, help="kbps: the rung at or below it (default: the top rung)")
    p.add_argument("--limit", type=int, help="use N evenly spaced files of the folder")
    p.add_argument("--example", help="the file drawn in tokens.png (default: the file given, or the first one)")
    p.add_argument("-o", "--output", required=True, metavar="REPORT_DIR", help="output folder")
    p.add_argument("--threads", type=int, help="torch CPU threads")


def main_args(args: argparse.Namespace) -> None:
    from vqcodec.analysis.plots import require_matplotlib

    require_matplotlib()
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    files = list_files(Path(args.input), args.limit)
    example = Path(args.example) if args.example else None
    if example is not None and not example.is_file():
        raise UserError(f"{example}: no such file")
    import vqcodec

    codec = vqcodec.load(args.model)
    result = inspect(codec, files, pick_rung(codec, args.bitrate), Path(args.output), example, args.model)
    print(table(result))
    print("wrote " + ", ".join(result["outputs"].values()))
