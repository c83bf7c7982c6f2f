"""Quality of a model on a folder of speech, optionally next to Opus and Codec2 on the same files.

    vqcodec eval REF_DIR [--model M] [--bitrate KBPS ...] [--reference-codecs] [--limit N] [-o OUT_DIR]
                 [--html PAGE_DIR [--credits FILE]]

Every codec codes each reference (channels averaged to mono, resampled to 16 kHz) and is decoded back to
16 kHz. Each decoded file's delay is estimated from amplitude envelopes (codecs that resynthesise phase
have no waveform to align) and compensated before any metric; the decoded signal is then trimmed or
zero-padded to the reference length. Metrics are averaged over files: PESQ-WB, STOI, log-mel distance,
SI-SDR, F0 error in cents on frames voiced in both signals, voicing-decision error, and loudness difference
in dB (see :mod:`vqcodec.analysis.metrics`), with the real kbps (coded bytes, headers and containers included) and
the median delay. vqcodec runs through the bytes API (``compress`` then ``decompress``). ``OUT_DIR`` gets
``eval.json`` (every number, per-file metrics, file list), ``eval.md`` (the table), ``rate_quality.png``
(PESQ-WB and STOI against kbps, one curve per codec) and ``spectrograms/*.png`` (for the first files: the
reference above each codec's decoded signal). ``--html PAGE_DIR`` also writes a static page to listen on
(:mod:`vqcodec.analysis.listen`).

``benchmarks/quality.py`` is a thin caller of :func:`evaluate` with the reference codecs, the codebook
usage pass and the speed comparison switched on.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from vqcodec.analysis.metrics import (
    MAX_DELAY_S,
    MIN_ENVELOPE_CORR,
    SR,
    align,
    dnsmos_ovrl,
    estimate_delay,
    log_mel_distance,
    loudness_difference,
    pesq_wb,
    pitch_errors,
    si_sdr,
    stoi,
)
from vqcodec.analysis.reference_codecs import Coded, Coder, opus_coder, reference_coders
from vqcodec.analysis.stats import LevelUsage, code_counts, level_usage
from vqcodec.codec import Codec, Rung
from vqcodec.compress import compress, decompress
from vqcodec.errors import UserError
from vqcodec.io.audio import AUDIO_EXTENSIONS, audio_files, read_mono, readable_audio
from vqcodec.progress import ProgressBar
from vqcodec.train.data import evenly_spaced

DEFAULT_RATES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
SPEED_VQ_KBPS, SPEED_OPUS_KBPS = 3.0, 6


@dataclass(frozen=True)
class Row:
    """One line of the quality table: a codec at one setting, averaged over the files.

    Attributes:
        codec: codec name.
        setting: its setting (rate or mode).
        real_kbps: total coded bytes * 8 / total audio seconds / 1000, container overhead included.
        pesq_wb: mean PESQ-WB over the files PESQ could score (None if none).
        stoi: mean STOI.
        log_mel: mean log-mel distance (see :func:`vqcodec.analysis.metrics.log_mel_distance`).
        si_sdr: mean SI-SDR in dB.
        delay_ms: median estimated delay of the decoded signal (positive = late) over the files with a
            reliable estimate (see :func:`vqcodec.analysis.metrics.estimate_delay`), None if none; each file's
            delay is compensated before its metrics.
        f0_cents: mean over files of the F0 error in cents on frames voiced in both signals (None if no
            file had such frames).
        voicing_error: mean fraction of frames whose voicing decision differs from the reference's.
        loudness_db: mean loudness difference in dB (decoded minus reference; None if none measurable).
        files: number of files coded.
        pesq_skipped: files PESQ could not score.
        coding_seconds: wall time of encoding plus decoding over all files.
        dnsmos: mean DNSMOS OVRL of the decoded files (no reference; see
            :func:`vqcodec.analysis.metrics.dnsmos_ovrl`), None where not measured.
    """

    codec: str
    setting: str
    real_kbps: float
    pesq_wb: float | None
    stoi: float
    log_mel: float
    si_sdr: float
    delay_ms: float | None
    f0_cents: float | None
    voicing_error: float
    loudness_db: float | None
    files: int
    pesq_skipped: int
    coding_seconds: float
    dnsmos: float | None = None


@dataclass
class Accumulator:
    """Per-file results of one codec setting, before averaging (lists in file order; PESQ None = skipped)."""

    codec: str
    setting: str
    num_bytes: int = 0
    seconds: float = 0.0
    file_bytes: list[int] = field(default_factory=list)
    pesq: list[float | None] = field(default_factory=list)
    stoi: list[float] = field(default_factory=list)
    log_mel: list[float] = field(default_factory=list)
    si_sdr: list[float] = field(default_factory=list)
    delay: list[int | None] = field(default_factory=list)
    f0_cents: list[float | None] = field(default_factory=list)
    voicing_error: list[float] = field(default_factory=list)
    loudness_db: list[float | None] = field(default_factory=list)
    dnsmos: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` measured. ``levels``/``top`` and ``speed`` are None unless asked for."""

    files: list[Path]
    total_seconds: float
    accs: list[Accumulator]
    rows: list[Row]
    levels: list[LevelUsage] | None = None
    top: Rung | None = None
    speed: dict | None = None
    examples: list[Example] = field(default_factory=list)


# ---------------------------------------------------------------- files


def list_files(root: Path, limit: int | None, suffixes: Sequence[str] = AUDIO_EXTENSIONS) -> list[Path]:
    """Audio files under ``root`` (recursive, sorted; ``root`` itself if it is a file); ``limit`` picks that
    many, evenly spaced.

    Args:
        root: folder to search for files ending in one of ``suffixes``.
        limit: number of files to keep, or None for all.

    Returns:
        The sorted paths, or the subset at indices ``floor(i * n / limit)``.
    """
    root = Path(root)
    if root.is_file():
        return [root]
    files = audio_files(root, tuple(suffixes))
    if not files:
        raise UserError(f"no {'/'.join(suffixes)} files under {root}")
    return evenly_spaced(files, limit)


def load_reference(path: Path, sample_rate: int = SR) -> np.ndarray:
    """A file as mono float32 at ``sample_rate`` (:func:`vqcodec.io.audio.read_mono`)."""
    return read_mono(path, sample_rate).numpy().astype(np.float32)


# ---------------------------------------------------------------- scoring


def score(acc: Accumulator, ref: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """Add the metrics of one decoded file to ``acc``, its delay compensated; returns the aligned signal."""
    delay = estimate_delay(ref, decoded, int(MAX_DELAY_S * SR))
    deg = align(decoded, delay, len(ref))
    acc.delay.append(delay)
    acc.pesq.append(pesq_wb(ref, deg))
    acc.stoi.append(stoi(ref, deg))
    acc.log_mel.append(log_mel_distance(ref, deg))
    acc.si_sdr.append(si_sdr(ref, deg))
    cents, voicing = pitch_errors(ref, deg)
    acc.f0_cents.append(cents)
    acc.voicing_error.append(voicing)
    acc.loudness_db.append(loudness_difference(ref, deg))
    acc.dnsmos.append(dnsmos_ovrl(deg))
    return deg


def _mean_known(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def median_delay_ms(delays: Sequence[int | None]) -> float | None:
    """Median of the known delays, in ms (None if no file gave one)."""
    known = [d for d in delays if d is not None]
    return float(np.median(known)) * 1000 / SR if known else None


def to_row(acc: Accumulator, total_seconds: float) -> Row:
    """Average an accumulator into a table row."""
    scored = [p for p in acc.pesq if p is not None]
    return Row(
        acc.codec,
        acc.setting,
        acc.num_bytes * 8 / total_seconds / 1000,
        float(np.mean(scored)) if scored else None,
        float(np.mean(acc.stoi)),
        float(np.mean(acc.log_mel)),
        float(np.mean(acc.si_sdr)),
        median_delay_ms(acc.delay),
        _mean_known(acc.f0_cents),
        float(np.mean(acc.voicing_error)),
        _mean_known(acc.loudness_db),
        len(acc.stoi),
        len(acc.pesq) - len(scored),
        acc.seconds,
        _mean_known(acc.dnsmos),
    )


# ---------------------------------------------------------------- vqcodec as a coder


def vqcodec_coder(codec: Codec, rung: Rung) -> Coder:
    """vqcodec through the bytes API; the time is in-process ``compress`` + ``decompress`` only."""

    def code(ref: np.ndarray, wav_path: Path, tmp: Path) -> Coded:
        t0 = time.perf_counter()
        data = compress(codec, ref[None], SR, rung.kbps)
        out, _ = decompress(codec, data)  # at SR: decompress restores the rate it was given
        seconds = time.perf_counter() - t0
        return Coded(out[0].numpy(), len(data), seconds)

    return code


def vqcodec_rungs(codec: Codec, rates: Sequence[float]) -> list[Rung]:
    """The distinct ladder rungs serving ``rates`` (each the highest rung at or below its rate)."""
    return sorted({codec.rung(r) for r in rates}, key=lambda r: r.kbps)


def default_rungs(codec: Codec) -> list[Rung]:
    """The rungs serving 1, 1.5, 2, 3, 4 and 6 kbps (rates below the model's lowest rung are left out);
    the whole ladder if none of them fits."""
    lowest = codec.ladder()[0].kbps
    fitting = [r for r in DEFAULT_RATES if r + 1e-9 >= lowest]
    return vqcodec_rungs(codec, fitting) if fitting else codec.ladder()


def rung_label(rung: Rung) -> str:
    return f"{rung.kbps:g} kbps ({rung.n_top}t+{rung.n_bottom}b)"


# ---------------------------------------------------------------- the passes


@dataclass
class Example:
    """One file's reference and every codec's delay-compensated decoding of it, for the spectrograms."""

    path: Path
    reference: np.ndarray
    decoded: dict[str, np.ndarray] = field(default_factory=dict)


OnFile = Callable[["Example", list[Accumulator]], None]  # (the file, every coder's results so far)


def code_all(
    files: Sequence[Path], coders: dict[tuple[str, str], Coder], examples: int = 0, on_file: OnFile | None = None
) -> tuple[list[Accumulator], list[Example]]:
    """Every file through every coder, scoring each decoded file against its reference, under a progress
    bar on a terminal (a line per file elsewhere).

    Args:
        files: the audio files.
        coders: ``(codec, setting) -> coder``; the order is the table's.
        examples: keep every decoding of the first this many files.
        on_file: called after each file with its :class:`Example` and the accumulators (file ``i``'s
            numbers at index ``i``), e.g. :meth:`vqcodec.analysis.listen.ListenPage.add`.

    Returns:
        One accumulator per coder, in order, and for the first ``examples`` files an :class:`Example`.
    """
    accs = {key: Accumulator(*key) for key in coders}
    shown: list[Example] = []
    bar = ProgressBar(len(files), unit="file", desc="eval")
    with tempfile.TemporaryDirectory(prefix="vqc-bench-") as tmpdir:
        try:
            for i, path in enumerate(files, 1):
                example = code_file(path, coders, accs, Path(tmpdir), bar, f"[{i}/{len(files)}]")
                shown += [example] if i <= examples else []
                if on_file is not None:
                    on_file(example, list(accs.values()))
                bar.update(1)
        finally:
            bar.close()
    return list(accs.values()), shown


def code_file(
    path: Path, coders: dict[tuple[str, str], Coder], accs: dict, tmp: Path, bar: ProgressBar, count: str
) -> Example:
    """One file through every coder, each decoding scored into its accumulator; returns them all."""
    ref = load_reference(path)
    bar.update(0, postfix=path.name)
    if bar.bar is None:
        log(f"{count} {path.name} ({len(ref) / SR:.1f} s)")
    wav_path = tmp / "ref.wav"
    sf.write(wav_path, ref, SR, subtype="PCM_16")
    example = Example(path, ref)
    for key, coder in coders.items():
        coded = coder(ref, wav_path, tmp)
        accs[key].num_bytes += coded.num_bytes
        accs[key].file_bytes.append(coded.num_bytes)
        accs[key].seconds += coded.seconds
        example.decoded[" ".join(key)] = score(accs[key], ref, coded.audio)
    return example


def codebook_usage(codec: Codec, files: Sequence[Path], rung: Rung | None = None) -> list[LevelUsage]:
    """Histograms of every top and bottom codebook over all files, encoded at ``rung`` (default: the top)."""
    rung = rung or codec.ladder()[-1]
    k = codec.config.codebook_size
    counts = {
        "top": torch.zeros(rung.n_top, k, dtype=torch.int64),
        "bottom": torch.zeros(rung.n_bottom, k, dtype=torch.int64),
    }
    for i, path in enumerate(files, 1):
        log(f"[codebooks {i}/{len(files)}] {path.name}")
        codes = codec.encode(load_reference(path)[None], SR, rung.kbps)
        for level, tensor in (("top", codes.top), ("bottom", codes.bottom)):
            counts[level] += code_counts(tensor, k)
    return [level_usage(level, c) for level, c in counts.items()]


def speed(
    accs: Sequence[Accumulator],
    files: Sequence[Path],
    total_seconds: float,
    vq: tuple[tuple[str, str], Coder],
    opus: tuple[tuple[str, str], Coder],
) -> dict:
    """x-real-time of vqcodec (3 kbps rung) and Opus (6 kbps), reusing the quality pass's timings.

    If either was not part of the quality pass, it is timed alone over the same files.
    """
    done = {(a.codec, a.setting): a for a in accs}
    missing = {key: coder for key, coder in (vq, opus) if key not in done}
    if missing:
        log("timing " + ", ".join(" ".join(k) for k in missing) + " (not in the quality pass)")
        done.update({(a.codec, a.setting): a for a in code_all(files, missing)[0]})
    vq_s, opus_s = done[vq[0]].seconds, done[opus[0]].seconds
    return {
        "vqcodec_setting": vq[0][1],
        "opus_setting": opus[0][1],
        "audio_seconds": total_seconds,
        "vqcodec_seconds": vq_s,
        "opus_seconds": opus_s,
        "vqcodec_xrt": total_seconds / vq_s,
        "opus_xrt": total_seconds / opus_s,
        "ratio_vqcodec_over_opus": vq_s / opus_s,
        "vqcodec_timing": "in-process vqcodec.compress.compress + decompress (bytes API), model on CPU, "
        f"{torch.get_num_threads()} torch threads",
        "opus_timing": "opusenc + opusdec subprocesses (process start and temp files included)",
    }


def warm_up(codec: Codec) -> None:
    """One compress/decompress of a second of noise, so that no timed call pays one-time setup costs."""
    noise = np.random.default_rng(0).normal(0, 0.05, SR).astype(np.float32)
    decompress(codec, compress(codec, noise[None], SR, SPEED_VQ_KBPS))


def evaluate(
    codec: Codec,
    files: Sequence[Path],
    rungs: Sequence[Rung],
    reference_codecs: bool = False,
    usage: bool = False,
    timing: bool = False,
    examples: int = 2,
    on_file: OnFile | None = None,
) -> Evaluation:
    """Code every file with vqcodec at each rung (and the reference codecs), and score them.

    Args:
        codec: the model.
        files: audio files (any rate and channels; coded as mono 16 kHz).
        rungs: vqcodec rungs, in table order.
        reference_codecs: also Opus 6/8/12 kbps and Codec2 3200/1600/700C (needs their tools on PATH).
        usage: also the codebook usage of every codebook over all files at the top rung.
        timing: also the x-real-time of vqcodec at 3 kbps against Opus at 6 kbps (warms the model up first).
        examples: keep every codec's decoding of the first this many files (for spectrograms).
        on_file: called with each file's decodings and the accumulators as it is done (see :func:`code_all`).

    Returns:
        The per-file accumulators, the averaged rows and, as asked, usage and speed.
    """
    if timing:
        warm_up(codec)
    files = list(files)
    total_seconds = sum(sf.info(str(f)).duration for f in files)
    log(f"{len(files)} files, {total_seconds:.1f} s; model {codec.name} ({codec.hash.hex()})")
    coders: dict[tuple[str, str], Coder] = {("vqcodec", rung_label(r)): vqcodec_coder(codec, r) for r in rungs}
    if reference_codecs:
        coders.update(reference_coders())
    accs, shown = code_all(files, coders, examples, on_file)
    rows = [to_row(a, total_seconds) for a in accs]
    levels = top = spd = None
    if usage:
        top = codec.ladder()[-1]
        levels = codebook_usage(codec, files, top)
    if timing:
        speed_vq = codec.rung(SPEED_VQ_KBPS)
        spd = speed(
            accs,
            files,
            total_seconds,
            (("vqcodec", rung_label(speed_vq)), vqcodec_coder(codec, speed_vq)),
            (("opus", f"{SPEED_OPUS_KBPS} kbps"), opus_coder(SPEED_OPUS_KBPS)),
        )
    return Evaluation(files, total_seconds, accs, rows, levels, top, spd, shown)


# ---------------------------------------------------------------- report


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
        f"model `{meta['model']}`; {meta['date']}; {meta['machine']}.",
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


def run_meta(command: str, data: Path | str, model: str | os.PathLike | None, codec: Codec, ev: Evaluation) -> dict:
    """Facts about a run: command, data, model, files, date, machine, torch."""
    return {
        "command": command,
        "data": str(data),
        "model": str(model) if model else "shipped default",
        "model_name": codec.name,
        "model_hash": codec.hash.hex(),
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


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- command line


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="REF_DIR", help="folder of reference audio (searched recursively) or one file")
    p.add_argument("-m", "--model", help="model file (default: the shipped model)")
    p.add_argument(
        "-b",
        "--bitrate",
        type=float,
        nargs="+",
        metavar="KBPS",
        help="vqcodec rates in kbps, each served by the highest rung at or below it "
        "(default: the rungs for 1 1.5 2 3 4 6)",
    )
    p.add_argument(
        "--reference-codecs",
        action="store_true",
        help="also Opus 6/8/12 kbps and Codec2 3200/1600/700C on the same files",
    )
    p.add_argument("--limit", type=int, help="use N evenly spaced files")
    p.add_argument("-o", "--output", default="eval_out", help="output folder (default: eval_out)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument(
        "--html",
        metavar="PAGE_DIR",
        help="also a static page to listen on: PAGE_DIR/index.html, every file's reference and decodings as "
        "players with their numbers and spectrograms",
    )
    p.add_argument("--credits", metavar="FILE", help="text shown at the top of the --html page (sources, licences)")


def main_args(args: argparse.Namespace) -> int:
    """Exit status: 0 done, 3 some files were unreadable (skipped, listed in OUT/errors.jsonl)."""
    from vqcodec.analysis.metrics import require_eval
    from vqcodec.analysis.plots import require_matplotlib
    from vqcodec.analysis.reference_codecs import require_tools

    require_eval()
    require_matplotlib(hint="eval")
    if args.reference_codecs:
        require_tools()
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    import vqcodec

    codec = vqcodec.load(args.model)
    try:
        rungs = vqcodec_rungs(codec, args.bitrate) if args.bitrate else default_rungs(codec)
    except ValueError as e:
        raise UserError(str(e)) from None
    files, failed = readable_audio(list_files(Path(args.input), args.limit))  # one bad file loses no run
    for _, why in failed:
        log(f"vqcodec: {why} (skipped)")
    if not files:
        raise UserError(f"{args.input}: no readable audio files")
    page = listen_page(args)
    ev = evaluate(codec, files, rungs, reference_codecs=args.reference_codecs, on_file=page and page.add)
    meta = run_meta(command_line(args), args.input, args.model, codec, ev)
    write_outputs(Path(args.output), meta, ev)
    if page is not None:
        log(f"wrote {page.finish(meta, ev.rows)}")
    if failed:  # listed as `vqcodec tokens` lists them, and the same exit status
        errors = Path(args.output) / "errors.jsonl"
        errors.write_text("".join(json.dumps({"path": str(p), "error": why}) + "\n" for p, why in failed))
        log(f"{len(failed)} unreadable files skipped, listed in {errors}")
        return 3
    return 0


def listen_page(args: argparse.Namespace):
    """The ``--html`` page to fill (:class:`vqcodec.analysis.listen.ListenPage`), or None; its folder and
    the ``--credits`` file are checked before the long work."""
    from vqcodec.analysis.listen import ListenPage

    if args.credits and not args.html:
        raise UserError("--credits goes with --html")
    if not args.html:
        return None
    try:
        credits = Path(args.credits).read_text() if args.credits else ""
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{args.credits}: cannot read the credits ({e})") from None
    if Path(args.html).exists() and not Path(args.html).is_dir():
        raise UserError(f"{args.html}: exists and is not a folder")
    return ListenPage(Path(args.html), credits)


def command_line(args: argparse.Namespace) -> str:
    """The ``vqcodec eval`` command that reproduces ``args``."""
    argv = ["vqcodec", "eval", str(args.input), "-o", str(args.output)]
    if args.model:
        argv += ["-m", str(args.model)]
    if args.bitrate:
        argv += ["-b", *(f"{b:g}" for b in args.bitrate)]
    if args.reference_codecs:
        argv.append("--reference-codecs")
    if args.limit is not None:
        argv += ["--limit", str(args.limit)]
    if args.html:
        argv += ["--html", str(args.html)]
    if args.credits:
        argv += ["--credits", str(args.credits)]
    return shlex.join(argv)


def write_spectrograms(folder: Path, examples: Sequence[Example]) -> list[Path]:
    """One PNG per example file: the reference on top, then each codec's decoding, on the same scale."""
    from vqcodec.analysis.plots import spectrogram_stack

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ex in examples:
        path = folder / f"{ex.path.stem}.png"
        spectrogram_stack({"reference": ex.reference, **ex.decoded}, SR, path, ex.path.name)
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
