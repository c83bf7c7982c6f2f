"""The report of an evaluation (:class:`vqcodec.analysis.quality.Evaluation`): the markdown tables and notes,
the run's facts, the JSON of every number, and the files ``vqcodec eval`` writes (``eval.md``, ``eval.json``,
``rate_quality.png``, ``spectrograms/*.png``)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path

import torch

from vqcodec.analysis.metrics import MIN_ENVELOPE_CORR, SR
from vqcodec.analysis.quality import Evaluation, Example, log
from vqcodec.analysis.scoring import Row
from vqcodec.analysis.stats import LevelUsage
from vqcodec.analysis.vqcodec_coder import backend_line, rung_label
from vqcodec.pipeline.coder import Coder as Pipeline  # the codec on a backend
from vqcodec.pipeline.rates import Rung


def fmt(x: float | None, digits: int) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def quality_table(rows: Sequence[Row]) -> str:
    """The main markdown table."""
    lines = [
        "| codec | setting | real kbps | PESQ-WB | STOI | DNSMOS OVRL | log-mel dist | SI-SDR | F0 err (cents) "
        "| voicing err | loudness (dB) | delay (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        pesq_cell = fmt(r.pesq_wb, 3) + (f" ({r.pesq_skipped} skipped)" if r.pesq_skipped else "")
        lines.append(
            f"| {r.codec} | {r.setting} | {r.real_kbps:.2f} | {pesq_cell} | {r.stoi:.3f} | {fmt(r.dnsmos, 2)} | "
            f"{r.log_mel:.3f} | {r.si_sdr:.2f} | {fmt(r.f0_cents, 0)} | {r.voicing_error:.3f} | "
            f"{fmt(r.loudness_db, 1)} | {fmt(r.delay_ms, 1)} |"
        )
    return "\n".join(lines)


def usage_table(levels: Sequence[LevelUsage], rung: Rung) -> str:
    """The codebook usage markdown table."""
    lines = [
        f"Codebook usage at the top rung ({rung_label(rung)}), histograms over all files:",
        "",
        "| level | codebooks | usage % mean | usage % min | perplexity mean | perplexity min | dead mean | dead max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lv in levels:
        lines.append(
            f"| {lv.level} | {lv.codebooks} | {lv.usage_mean:.1f} | {lv.usage_min:.1f} | "
            f"{lv.perplexity_mean:.1f} | {lv.perplexity_min:.1f} | {lv.dead_mean:.1f} | {lv.dead_max} |"
        )
    return "\n".join(lines)


def speed_line(s: dict) -> str:
    return (
        f"Speed: vqcodec {s['vqcodec_setting']} {s['vqcodec_xrt']:.1f}x real time "
        f"({s['vqcodec_timing']}); opus {s['opus_setting']} {s['opus_xrt']:.1f}x real time "
        f"({s['opus_timing']}); vqcodec/opus time ratio {s['ratio_vqcodec_over_opus']:.2f}."
    )


def delay_note(rows: Sequence[Row]) -> str:
    """A note on the settings whose output is delayed (which SI-SDR punishes) or too unlike the input to tell."""
    late = [
        f"{r.codec} {r.setting} {r.delay_ms:+.1f} ms" for r in rows if r.delay_ms is not None and abs(r.delay_ms) >= 0.5
    ]
    unknown = [f"{r.codec} {r.setting}" for r in rows if r.delay_ms is None]
    parts = [
        "Delay of the decoded signal (median envelope cross-correlation lag; each file's own estimate is "
        "compensated before its metrics): " + ("; ".join(late) if late else "none above 0.5 ms") + "."
    ]
    if unknown:
        parts.append(
            f"No estimate (envelope correlation below {MIN_ENVELOPE_CORR} on every file): " + "; ".join(unknown) + "."
        )
    return " ".join(parts)


def table_notes(rows: Sequence[Row]) -> str:
    """How to read the quality table (a sentence on Opus and Codec2 where they are in it)."""
    codecs = {r.codec for r in rows}
    notes = (
        "Means over files. Real kbps = coded bytes * 8 / audio seconds, headers and containers included. "
        "Decoded signals shifted by their estimated delay, then trimmed/zero-padded to the reference length. "
        "Log-mel distance: mean |log10 mel power| difference (80 mels, n_fft 1024, hop 256; lower is better). "
        "F0 error: mean |cents| on 10 ms frames voiced in both (Praat's autocorrelation tracker); voicing "
        "error: fraction of frames whose voiced/unvoiced decision differs; loudness: BS.1770 integrated "
        "loudness of decoded minus reference. "
        "vqcodec settings: ladder rung (top + bottom codebooks kept)."
    )
    if "opus" in codecs:
        notes += " Opus: opusenc default VBR at the given target, size of the Ogg file."
    if "codec2" in codecs:
        notes += " Codec2: 8 kHz via sox, size of the .c2 file (header included)."
    return notes


def report(meta: dict, ev: Evaluation, title: str = "# vqcodec quality benchmark") -> str:
    """The whole markdown report (usage and speed sections only where measured)."""
    parts = [
        title,
        "",
        f"{meta['files']} files, {meta['total_seconds']:.1f} s of audio from `{meta['data']}`; "
        f"model `{meta['model']}` on {meta['backend']}; {meta['date']}; {meta['machine']}.",
        "",
        f"Command: `{meta['command']}`",
        "",
        quality_table(ev.rows),
        "",
        table_notes(ev.rows),
        "",
        delay_note(ev.rows),
        "",
    ]
    if ev.levels is not None and ev.top is not None:
        parts += [usage_table(ev.levels, ev.top), ""]
    if ev.speed is not None:
        parts += [speed_line(ev.speed), ""]
    return "\n".join(parts)


def run_meta(command: str, data: Path | str, model: str | os.PathLike | None, codec: Pipeline, ev: Evaluation) -> dict:
    """Facts about a run: command, data, model and the backend that ran it (``runtime``: ``onnx`` or ``torch``;
    ``backend``: its name, version and threads), files, date, machine, torch (which scores on every backend)."""
    return {
        "command": command,
        "data": str(data),
        "model": str(model) if model else "shipped default",
        "model_name": codec.name,
        "model_hash": codec.hash.hex(),
        "runtime": codec.runtime,
        "backend": backend_line(codec),
        "files": len(ev.files),
        "file_list": [str(f) for f in ev.files],
        "total_seconds": ev.total_seconds,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def result_json(meta: dict, ev: Evaluation) -> dict:
    """Everything as JSON-ready data: meta, rows, codebooks and speed where measured, per-file metrics."""
    result = {**meta, "rows": [dataclasses.asdict(r) for r in ev.rows]}
    if ev.levels is not None and ev.top is not None:
        result["codebooks"] = {
            "rung": dataclasses.asdict(ev.top),
            "levels": [dataclasses.asdict(lv) for lv in ev.levels],
        }
    if ev.speed is not None:
        result["speed"] = ev.speed
    result["per_file"] = [dataclasses.asdict(a) for a in ev.accs]
    return result


def write_spectrograms(folder: Path, examples: Sequence[Example], sample_rate: int = SR) -> list[Path]:
    """One PNG per example file: the reference on top, then each codec's decoding (all at ``sample_rate``), on
    the same scale."""
    from vqcodec.analysis.plots import spectrogram_stack

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ex in examples:
        path = folder / f"{ex.path.stem}.png"
        spectrogram_stack({"reference": ex.reference, **ex.decoded}, sample_rate, path, ex.path.name)
        paths.append(path)
    return paths


def write_outputs(out: Path, meta: dict, ev: Evaluation) -> dict[str, Path]:
    """``out/eval.md``, ``out/eval.json``, ``out/rate_quality.png`` and ``out/spectrograms/``; prints the
    table."""
    from vqcodec.analysis.plots import rate_quality_plot

    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "eval.md", "json": out / "eval.json", "plot": out / "rate_quality.png"}
    text = report(meta, ev, title="# vqcodec quality evaluation")
    paths["markdown"].write_text(text)
    paths["json"].write_text(json.dumps(result_json(meta, ev), indent=2) + "\n")
    rate_quality_plot(
        ev.rows,
        paths["plot"],
        f"{meta['model_name']} ({meta['model_hash']}), {meta['files']} files, {meta['total_seconds']:.0f} s",
    )
    write_spectrograms(out / "spectrograms", ev.examples)
    print(text)
    log("wrote " + ", ".join(str(p) for p in paths.values()))
    return paths
