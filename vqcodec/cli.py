"""Command line: ``vqcodec compress | decompress | info | tokens | train | prepare | eval | inspect | probe``.

No model logic lives here: each command parses its arguments, calls the library, and every user
mistake becomes one line on stderr and a non-zero exit (:func:`vqcodec.errors.run_main`, which
``python -m vqcodec.train`` shares). Only ``vqcodec/__main__.py`` imports this module.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from vqcodec.errors import UserError, missing_extra, run_main


def cmd_compress(args: argparse.Namespace) -> int | None:
    from vqcodec.pipeline import commands

    return commands.compress(args)


def cmd_decompress(args: argparse.Namespace) -> int | None:
    from vqcodec.pipeline import commands

    return commands.decompress(args)


def cmd_info(args: argparse.Namespace) -> None:
    from vqcodec.pipeline.info import info, shipped_models

    if args.input is None:
        return _print_shipped(shipped_models(), args.json)
    facts = info(args.input, args.model)
    if args.json:
        print(json.dumps(facts, indent=2))
        return
    for key, value in facts.items():
        if key != "levels":
            print(f"{key:>14}: {value}")
    for name, lv in facts["levels"].items():
        print(
            f"{name:>14}: {lv['codebooks']} codebooks x {lv['frames']} frames x {lv['bits']} bits"
            f" = {lv['bytes']:g} bytes plain; {lv['bits_per_code']:g} bits per code"
        )


def _print_shipped(models: list[dict], as_json: bool) -> None:
    """``vqcodec info`` without a file: one line per shipped model, the default first."""
    if as_json:
        print(json.dumps(models, indent=2))
        return
    print("shipped models (compress --model NAME; decompress picks the one that wrote the file):")
    for m in models:
        names = m["name"] + (f" or {m['stem']}" if m["stem"] != m["name"] else "")
        rungs = " ".join(f"{k:g}" for k in m["kbps"])
        default = " (the default)" if m["default"] else ""
        print(f"  {names}{default}: {m['sample_rate']} Hz, {rungs} kbps, weights {m['model_hash']}")


def cmd_tokens(args: argparse.Namespace) -> int:
    """Exit status: 0 done, 3 some files failed (OUTDIR/errors.jsonl), 1 an error stopped it.

    Only the process that merges the index exits 3 (under torchrun a rank's non-zero exit stops the others).
    """
    from vqcodec import tokens
    from vqcodec.pipeline import files
    from vqcodec.threads import bounded_threads

    try:
        if args.merge:
            if args.inputs or args.output:
                raise UserError("--merge takes only the output folder: vqcodec tokens --merge OUTDIR")
            n, failed = tokens.merge(args.merge)
            if not args.quiet:
                print(f"{Path(args.merge) / 'index.jsonl'}: {n} utterances, {failed} failed files listed")
            return 3 if failed else 0
        if not args.inputs or not args.output:
            raise UserError("usage: vqcodec tokens INPUT... -o OUTDIR, or vqcodec tokens --merge OUTDIR")
        rank, world = tokens.resolve_rank(args.rank, args.world_size)
        device = tokens.resolve_device(args.device) if args.runtime == "torch" else "cpu"
        codec = files.load(args.model, bounded_threads(args.threads), args.runtime, device)
        r = tokens.extract(
            codec,
            args.inputs,
            args.output,
            bitrate=args.bitrate,
            batch_size=args.batch_size,
            shard_size=args.shard_size,
            rank=rank,
            world_size=world,
            progress=not args.quiet,
        )
    except OSError as e:
        raise UserError(f"{e.filename or args.output or args.merge}: {e.strerror or e}") from None
    if not args.quiet:
        print(
            f"rank {rank} of {world}: {r.extracted} extracted, {r.skipped} already done, {r.failed} failed"
            + (
                f"; {Path(args.output) / 'index.jsonl'}: {r.indexed} utterances, {r.listed} failed files listed"
                if r.merged
                else ""
            )
        )
    return 3 if r.merged and r.listed else 0


_COMMAND_MODULES = {
    "train": ("vqcodec.train.command", "train a model from a recipe"),
    "prepare": ("vqcodec.train.prepare", "manifest of a local corpus: librispeech, libritts, vctk, ljspeech, folder"),
    "eval": ("vqcodec.analysis.evaluate", "quality of a model on a folder: PESQ-WB, STOI, log-mel, SI-SDR; ViSQOL"),
    "inspect": ("vqcodec.analysis.inspection", "codebook usage and token plots of audio files"),
    "probe": ("vqcodec.analysis.probe", "linear probes of digit and speaker on code histograms"),
    "train-prior": ("vqcodec.prior.train", "train the top and bottom priors over the codes on token shards"),
    "sample": ("vqcodec.prior.sample", "audio sampled from the prior (or a file's top codes with sampled bottom)"),
    "export": ("vqcodec.export.onnx", "a model as ONNX for the light runtime: audio -> codes, codes -> audio"),
}


def version_line() -> str:
    """``vqcodec VERSION (model NAME HASH)``: the package and the shipped model, read from its manifest (no
    torch), the hash being the one every ``.vqc`` it writes carries; with several shipped models,
    ``(models NAME HASH (default), NAME HASH, ...)``."""
    from vqcodec import __version__, pretrained

    models = pretrained.shipped()
    if len(models) == 1:
        return f"vqcodec {__version__} (model {models[0].name} {models[0].model_hash.hex()})"
    listed = ", ".join(f"{m.name} {m.model_hash.hex()}" + (" (default)" if m.is_default else "") for m in models)
    return f"vqcodec {__version__} (models {listed or 'none'})"


def _add_runtime(p: argparse.ArgumentParser, more: str = "") -> None:
    p.add_argument(
        "--runtime",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="onnx: onnxruntime, no torch (the default when installed, for a shipped model or a .onnx.json); "
        "torch (the default for a .safetensors model)" + more,
    )


_MODEL_HELP = (
    "a shipped model's name (vqcodec info lists them), a .safetensors file (torch) or an exported .onnx.json "
    "(default: the shipped default model)"
)


class _Parser(argparse.ArgumentParser):
    """``vqcodec``'s parsers: the help of the top one (``lists_models``) and of each command taking ``--model``
    ends with the shipped models, whose small manifests are read only when a help is printed."""

    def __init__(self, *args, lists_models: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.lists_models = lists_models

    def format_help(self) -> str:
        text = super().format_help()
        if self.lists_models or any("--model" in a.option_strings for a in self._actions):
            from vqcodec.pretrained import listing

            text += f"\nshipped models (--model NAME): {listing()}\n"
        return text


class _Version(argparse.Action):
    """``--version``: prints :func:`version_line` and exits; the manifest is read only when asked."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None):
        super().__init__(option_strings, dest, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(version_line())
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``command`` (the first argument) says which module-backed subcommand to load fully."""
    p = _Parser(prog="vqcodec", description="Hierarchical VQ-VAE-2 speech codec", lists_models=True)
    p.add_argument("-V", "--version", action=_Version, help="print the version and the shipped model's hash")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compress", help="audio file -> .vqc")
    c.add_argument("input", help="audio file, folder (mirrored into -o OUT_DIR in one process), or - (stdin)")
    c.add_argument("-o", "--output", help="output path, folder, or - (stdout) (default: INPUT with .vqc)")
    c.add_argument("-b", "--bitrate", type=float, help="kbps per channel (default 3; the highest rung at or below)")
    c.add_argument(
        "--no-entropy", action="store_true", help="write the plain stream (codes at their full width, format 1)"
    )
    d = sub.add_parser("decompress", help=".vqc -> audio file (.wav, .flac or .ogg)")
    d.add_argument("input", help=".vqc file, folder (mirrored into -o OUT_DIR in one process), or - (stdin)")
    d.add_argument("-o", "--output", help="output path, folder, or - (WAV on stdout) (default: INPUT with .wav)")
    for s in (c, d):
        s.add_argument("-f", "--force", action="store_true", help="replace an existing output file")
        s.add_argument("-m", "--model", help=_MODEL_HELP + "; decompress: by default the one that wrote the file")
        s.add_argument("-q", "--quiet", action="store_true")
        _add_runtime(s)
        s.add_argument(
            "-j",
            "--jobs",
            type=int,
            help="files coded at once in a folder (default: 2 on onnxruntime with 2+ threads, else 1)",
        )
    i = sub.add_parser("info", help="what a .vqc file holds (checked as decompress checks it), or the shipped models")
    i.add_argument("input", nargs="?", help=".vqc file or - (stdin); none: list the shipped models")
    i.add_argument("--json", action="store_true")
    i.add_argument(
        "-m",
        "--model",
        help="model whose checks to run: a shipped model's name, a .safetensors file or an exported .onnx.json "
        "(default: the shipped model that wrote the file)",
    )
    c.set_defaults(func=cmd_compress)
    d.set_defaults(func=cmd_decompress)
    i.set_defaults(func=cmd_info)
    t = sub.add_parser(
        "tokens",
        help="audio files, folders or manifests -> token shards for downstream models",
        epilog="exit status: 0 done, 3 some files failed (see OUTDIR/errors.jsonl; only the rank that "
        "merges the index exits 3), 1 error",
    )
    t.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="audio files, folders (recursive) or manifests (.csv with a path column, .txt)",
    )
    t.add_argument("-o", "--output", metavar="OUTDIR", help="output folder (a folder with shards is resumed)")
    t.add_argument("-b", "--bitrate", type=float, help="kbps per channel (default 3; the highest rung at or below)")
    t.add_argument("--batch-size", type=int, default=8, help="files coded together (default 8)")
    t.add_argument("--shard-size", type=int, default=1000, help="utterances per shard (default 1000)")
    t.add_argument("--device", default="cpu", help="cpu or cuda (cuda:LOCAL_RANK under torchrun)")
    t.add_argument("--rank", type=int, help="this process's rank (default: $RANK, else 0)")
    t.add_argument("--world-size", type=int, help="number of ranks (default: $WORLD_SIZE, else 1)")
    t.add_argument("--merge", metavar="OUTDIR", help="only merge OUTDIR's shard indexes into OUTDIR/index.jsonl")
    t.add_argument("-m", "--model", help=_MODEL_HELP)
    _add_runtime(t, "; the codes are the same on both; --device cuda runs torch")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress or summary (failures still shown)")
    t.set_defaults(func=cmd_tokens)
    for s in (c, d, t):
        s.add_argument(
            "--threads",
            type=int,
            help="CPU threads, torch or onnxruntime (default: the cores not already busy; at most the usable cores)",
        )
    for name, (module_name, text) in _COMMAND_MODULES.items():
        s = sub.add_parser(name, help=text)
        if name == command:  # import a command's module (and torch) only when that command runs
            module = importlib.import_module(module_name)
            s.description = module.__doc__.split("\n\n")[0]
            module.add_arguments(s)
            s.set_defaults(func=module.main_args)
    return p


def _output_folder(out: str) -> Path:
    """An output folder (of tokens, eval, inspect, probe), checked before the work: named, not a file, and
    made inside a folder we may write."""
    if not out.strip():
        raise UserError("-o/--output is empty: give a folder, or leave -o out")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: exists and is not a folder")
    nearest = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not nearest.is_dir():
        raise UserError(f"{folder}: {nearest} is not a folder")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise UserError(f"{folder}: cannot write in {nearest}")
    return folder


_FOLDER_COMMANDS = ("tokens", "eval", "inspect", "probe")


def _run(args: argparse.Namespace) -> int:
    """Run a command; one that computes on torch (it has ``--threads``) under its torch thread count."""
    if args.command in _FOLDER_COMMANDS and getattr(args, "output", None) is not None:
        _output_folder(args.output)
    bitrate = getattr(args, "bitrate", None)
    if bitrate is not None and bitrate != bitrate:  # NaN: no rung is at or below it, nor above
        raise UserError("--bitrate must be a number of kbps, not nan")
    if args.command in ("compress", "decompress", "tokens"):
        from vqcodec.pipeline.commands import runtime

        args.runtime = runtime(args)
    on_onnx = getattr(args, "runtime", "torch") == "onnx" and args.command != "eval"  # eval scores on torch
    if not hasattr(args, "threads") or on_onnx:
        return args.func(args) or 0
    from vqcodec.threads import torch_threads

    with torch_threads(args.threads):
        return args.func(args) or 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from vqcodec.threads import prefer_passive_waiting

    prefer_passive_waiting()  # before torch is imported; no effect once it is
    try:
        args = build_parser(argv[0] if argv else None).parse_args(argv)
    except ModuleNotFoundError as e:
        return missing_extra(e, argv[0])
    where = getattr(args, "input", None) or getattr(args, "output", "")
    return run_main(lambda: _run(args), args.command, where)
