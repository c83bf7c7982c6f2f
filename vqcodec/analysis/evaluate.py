"""Quality of a model on a folder of speech, optionally next to Opus and Codec2 on the same files.

    vqcodec eval REF_DIR [--model M] [--runtime onnx|torch] [--bitrate KBPS ...] [--reference-codecs] [--limit N]
                 [-o OUT_DIR] [--html PAGE_DIR [--credits FILE]]

Every codec codes each reference (channels averaged to mono, resampled to 16 kHz) and is decoded back to
16 kHz. Each decoded file's delay is estimated from amplitude envelopes (codecs that resynthesise phase
have no waveform to align) and compensated before any metric; the decoded signal is then trimmed or
zero-padded to the reference length. Metrics are averaged over files: PESQ-WB, STOI, log-mel distance,
SI-SDR, F0 error in cents on frames voiced in both signals, voicing-decision error, and loudness difference
in dB (see :mod:`vqcodec.analysis.metrics`), with the real kbps (coded bytes, headers and containers included) and
the median delay. vqcodec runs through the bytes API (audio to ``.vqc`` bytes and back) on the backend
``vqcodec compress`` would use for the model (``--runtime``: the shipped model and a ``.onnx.json`` on
onnxruntime, a ``.safetensors`` model on torch), which the table's header line and ``eval.json`` name
(``runtime``, ``backend``); the metrics are computed on torch whichever backend codes. ``OUT_DIR`` gets
``eval.json`` (every number, per-file metrics, file list), ``eval.md`` (the table), ``rate_quality.png``
(PESQ-WB and STOI against kbps, one curve per codec) and ``spectrograms/*.png`` (for the first files: the
reference above each codec's decoded signal). ``--html PAGE_DIR`` also writes a static page to listen on
(:mod:`vqcodec.analysis.listen`).

A model for music and sounds (config ``content`` ``"general"``) is measured instead at its own rate on
whole files by :mod:`vqcodec.analysis.general` (full-band log-mel distance, SI-SDR, ViSQOL in audio mode, the
high band's level), beside Opus 6 and 12 kbps with ``--reference-codecs``; ``OUT_DIR`` gets ``eval.md`` and
``eval.json`` and ``spectrograms/``, and ``--html`` a page with its numbers.

This module is the command: its arguments, checks and files. The work is done by
:func:`vqcodec.analysis.quality.evaluate` (the coding and scoring pass, which ``benchmarks/quality.py`` calls with
the reference codecs, the codebook usage pass and the speed comparison switched on), each file scored by
:mod:`vqcodec.analysis.scoring`, and written by :mod:`vqcodec.analysis.report`.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import torch

from vqcodec.analysis import general
from vqcodec.analysis.quality import evaluate, log
from vqcodec.analysis.references import list_files
from vqcodec.analysis.report import run_meta, write_outputs, write_spectrograms
from vqcodec.analysis.vqcodec_coder import default_rungs, vqcodec_rungs
from vqcodec.errors import UserError
from vqcodec.io.audio import readable_audio
from vqcodec.pipeline import files
from vqcodec.pipeline.commands import runtime
from vqcodec.threads import bounded_threads


def add_runtime_argument(p: argparse.ArgumentParser) -> None:
    """``--runtime auto|onnx|torch``: the backend a measurement runs on (``vqcodec eval`` and the benchmarks)."""
    p.add_argument(
        "--runtime",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="the backend to measure (default: the one vqcodec compress uses for the model: onnxruntime for the "
        "shipped model or a .onnx.json, torch for a .safetensors model)",
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="REF_DIR", help="folder of reference audio (searched recursively) or one file")
    p.add_argument(
        "-m",
        "--model",
        help="a shipped model's name, a .safetensors file (torch) or an exported .onnx.json (default: the shipped "
        "default model)",
    )
    add_runtime_argument(p)
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
    p.add_argument("--threads", type=int, help="CPU threads of the backend and of the metrics")
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
    from vqcodec.analysis.reference_codecs import TOOLS, require_tools

    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    if args.threads:
        torch.set_num_threads(bounded_threads(args.threads))
    codec = files.load(args.model, bounded_threads(args.threads), runtime(args))  # as vqcodec compress picks
    require_matplotlib(hint="eval")
    if codec.config.content == "speech":
        require_eval()
    else:
        general._visqol_module()
    if args.reference_codecs:
        require_tools(TOOLS if codec.config.content == "speech" else ("opusenc", "opusdec"))
    try:
        rungs = vqcodec_rungs(codec, args.bitrate) if args.bitrate else default_rungs(codec)
    except ValueError as e:
        raise UserError(str(e)) from None
    found, failed = readable_audio(list_files(Path(args.input), args.limit))  # one bad file loses no run
    for _, why in failed:
        log(f"vqcodec: {why} (skipped)")
    if not found:
        raise UserError(f"{args.input}: no readable audio files")
    if codec.config.content == "general":
        return general_eval(args, codec, rungs, found, failed)
    page = listen_page(args)
    ev = evaluate(codec, found, rungs, reference_codecs=args.reference_codecs, on_file=page and page.add)
    meta = run_meta(command_line(args), args.input, args.model, codec, ev)
    write_outputs(Path(args.output), meta, ev)
    if page is not None:
        log(f"wrote {page.finish(meta, ev.rows)}")
    return _list_failed(Path(args.output), failed)


def _list_failed(out: Path, failed: list) -> int:
    """Unreadable files listed as ``vqcodec tokens`` lists them, and the same exit status (3; 0 if none)."""
    if not failed:
        return 0
    errors = out / "errors.jsonl"
    errors.write_text("".join(json.dumps({"path": str(p), "error": why}) + "\n" for p, why in failed))
    log(f"{len(failed)} unreadable files skipped, listed in {errors}")
    return 3


def general_eval(args: argparse.Namespace, codec, rungs, found: list[Path], failed: list) -> int:
    """A model for music and sounds: every file whole at the model's rate, scored by :mod:`vqcodec.analysis.general`
    (full-band log-mel distance, SI-SDR, ViSQOL, high band), beside Opus 6 and 12 kbps with
    ``--reference-codecs``; ``OUT_DIR`` gets ``eval.md`` and ``eval.json``."""
    from vqcodec.analysis.listen import GENERAL_METRICS, GENERAL_NOTES, general_summary

    opus = general.OPUS_KBPS if args.reference_codecs else ()
    page = listen_page(args, codec.config.sample_rate, GENERAL_METRICS)
    ev = general.evaluate(codec, found, rungs, None, opus, on_file=page and page.add_file)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    text = general.report(ev.rows, command_line(args), f"{codec.name} ({codec.hash.hex()})", ev.seconds)
    (out / "eval.md").write_text(text)
    (out / "eval.json").write_text(json.dumps({"seconds": ev.seconds, "rows": ev.rows}, indent=2) + "\n")
    write_spectrograms(out / "spectrograms", ev.examples, codec.config.sample_rate)
    print(text)
    log(f"wrote {out / 'eval.md'}, {out / 'eval.json'}, {out / 'spectrograms'}")
    if page is not None:
        meta = run_meta(command_line(args), args.input, args.model, codec, ev)
        log(f"wrote {page.finish_with(meta, general_summary(ev.rows), GENERAL_NOTES)}")
    return _list_failed(out, failed)


def listen_page(args: argparse.Namespace, rate: int | None = None, columns=None):
    """The ``--html`` page to fill (:class:`vqcodec.analysis.listen.ListenPage`; ``rate`` and ``columns``: its
    audio's rate and per-file numbers, speech's by default), or None; its folder and the ``--credits`` file
    are checked before the long work."""
    from vqcodec.analysis.listen import METRICS, SR, ListenPage

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
    return ListenPage(Path(args.html), credits, rate or SR, columns or METRICS)


def command_line(args: argparse.Namespace) -> str:
    """The ``vqcodec eval`` command that reproduces ``args``."""
    argv = ["vqcodec", "eval", str(args.input), "-o", str(args.output)]
    if args.model:
        argv += ["-m", str(args.model)]
    if args.runtime != "auto":
        argv += ["--runtime", args.runtime]
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
