"""Quality of a model on files: every file through vqcodec at each rung (and the reference codecs), each
decoding scored against its reference (:mod:`vqcodec.analysis.scoring`); optionally the codebook usage at the
top rung and the speed against Opus.

``vqcodec eval`` (:mod:`vqcodec.analysis.evaluate`) and ``benchmarks/quality.py`` call :func:`evaluate`; the
report is written by :mod:`vqcodec.analysis.report`.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from vqcodec.analysis.metrics import SR
from vqcodec.analysis.reference_codecs import Coder, opus_coder, reference_coders
from vqcodec.analysis.references import load_reference
from vqcodec.analysis.scoring import Accumulator, Row, score, to_row
from vqcodec.analysis.stats import LevelUsage, code_counts, level_usage
from vqcodec.analysis.vqcodec_coder import backend_line, rung_label, vqcodec_coder, warm_up
from vqcodec.pipeline.coder import Coder as Pipeline  # the codec on a backend
from vqcodec.pipeline.rates import Rung
from vqcodec.progress import ProgressBar

SPEED_VQ_KBPS, SPEED_OPUS_KBPS = 3.0, 6


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


def codebook_usage(codec: Pipeline, files: Sequence[Path], rung: Rung | None = None) -> list[LevelUsage]:
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
            counts[level] += code_counts(torch.as_tensor(tensor), k)  # numpy on onnxruntime
    return [level_usage(level, c) for level, c in counts.items()]


def speed(
    accs: Sequence[Accumulator],
    files: Sequence[Path],
    total_seconds: float,
    vq: tuple[tuple[str, str], Coder],
    opus: tuple[tuple[str, str], Coder],
    backend: str,
) -> dict:
    """x-real-time of vqcodec (3 kbps rung, on ``backend``: :func:`backend_line`) and Opus (6 kbps), reusing the
    quality pass's timings.

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
        "vqcodec_timing": f"in-process encoding to .vqc bytes and decoding them (bytes API) on {backend}",
        "opus_timing": "opusenc + opusdec subprocesses (process start and temp files included)",
    }


def evaluate(
    codec: Pipeline,
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
        codec: the model on the backend to measure (:func:`vqcodec.pipeline.files.load`, or a
            :class:`vqcodec.codec.Codec` for torch).
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
        warm_up(codec, SPEED_VQ_KBPS)
    files = list(files)
    total_seconds = sum(sf.info(str(f)).duration for f in files)
    log(f"{len(files)} files, {total_seconds:.1f} s; model {codec.name} ({codec.hash.hex()}) on {backend_line(codec)}")
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
            backend_line(codec),
        )
    return Evaluation(files, total_seconds, accs, rows, levels, top, spd, shown)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
