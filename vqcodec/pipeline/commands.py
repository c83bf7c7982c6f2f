"""``vqcodec compress`` and ``decompress`` on either backend: one file, a pipe (``-``), or a folder tree in one
process. The CLI parses; this module picks the backend, decides what the input is and does the work."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from vqcodec import pretrained
from vqcodec.backends import EXPORTED_SUFFIX
from vqcodec.codes import Codes
from vqcodec.errors import UserError
from vqcodec.io.audio import AUDIO_EXTENSIONS, FileSource, output_format
from vqcodec.pipeline import files, folders
from vqcodec.pipeline.coder import Coder
from vqcodec.pipeline.streams import check_stdout, read_codes
from vqcodec.threads import bounded_threads

VQC = ".vqc"


def runtime(args: argparse.Namespace) -> str:
    """The backend a command runs on (compress, decompress, tokens, eval): ``--runtime onnx|torch``; by default
    (``auto``) the one the model is for (an exported ``.onnx.json``: onnxruntime; a ``.safetensors`` file: torch)
    and, for a shipped model (by default, or named), onnxruntime when it is installed; torch for a ``--device``
    other than the CPU (onnxruntime runs on the CPU here). A name no model has is refused here, in one line."""
    model, chosen = getattr(args, "model", None), getattr(args, "runtime", "auto")
    on_cpu = str(getattr(args, "device", None) or "cpu").startswith("cpu")
    if chosen == "onnx" and not on_cpu:
        raise UserError(f"--runtime onnx runs on the CPU, not on {args.device}: leave out --device, or --runtime torch")
    if chosen != "auto":
        return chosen
    if not on_cpu:
        return "torch"
    if model is not None and pretrained.named(model) is None:
        return "onnx" if str(model).endswith(EXPORTED_SUFFIX) else "torch"
    return "onnx" if _has_onnxruntime() else "torch"


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def _codec(args: argparse.Namespace, workers: int = 1) -> Coder:
    """The pipeline on the chosen backend, onnxruntime's threads shared among ``workers`` (torch's:
    :func:`_torch_shared`)."""
    return files.load(args.model, _share(args, workers), args.runtime)


def _share(args: argparse.Namespace, workers: int) -> int:
    """Threads per worker: ``--threads`` (bounded by the usable cores) shared among the files coded at once."""
    return max(1, bounded_threads(args.threads) // workers)


@contextlib.contextmanager
def _torch_shared(args: argparse.Namespace, workers: int) -> Iterator[None]:
    """Inside, torch's one thread pool is shared among ``workers`` as onnxruntime's sessions are (the CLI set it
    to ``--threads`` for the whole command); nothing changes on onnxruntime or for one worker."""
    if args.runtime != "torch" or workers == 1:
        yield
        return
    from vqcodec.threads import torch_threads

    with torch_threads(_share(args, workers)):
        yield


class _Decoders:
    """The model that decodes each .vqc: the one ``--model`` names, else the shipped model that wrote it (the
    default when none did: its checks then refuse the codes in one line). Each is loaded once, on first need,
    shared by a folder's ``workers`` (onnxruntime's threads shared among them)."""

    def __init__(self, args: argparse.Namespace, workers: int = 1):
        self.args, self.workers = args, workers
        self.loaded: dict[object, Coder] = {}
        self.writers: dict[tuple[str, bytes], object] = {}  # a folder's files look their writer up once
        self.lock = threading.Lock()
        if args.model is not None:
            self.coder(None)  # a bad --model is one line before any file, not one per file

    def coder(self, codes: Codes | None) -> Coder:
        """The coder for ``codes`` (read from a .vqc; None: the ``--model`` one)."""
        model = self.args.model
        with self.lock:
            if model is None and codes is not None:
                key = (codes.model_name, codes.model_hash)
                if key not in self.writers:
                    writer = pretrained.writer(*key)
                    self.writers[key] = None if writer is None else writer.file(self.args.runtime)
                model = self.writers[key]
            if model not in self.loaded:
                self.loaded[model] = files.load(model, _share(self.args, self.workers), self.args.runtime)
            return self.loaded[model]


def compress(args: argparse.Namespace) -> int:
    if Path(args.input).is_dir():
        status = _tree(args, AUDIO_EXTENSIONS, VQC, "compressed", _compress_work)
        _hint_general(
            args, lambda: [j.src for j in folders.plan(Path(args.input), Path(args.output), AUDIO_EXTENSIONS, VQC)]
        )
        return status
    if args.input != files.PIPE:
        with FileSource(args.input):  # its header checked before the model loads (torch's takes a while)
            pass
    dst = _single_output(args, VQC)
    codec = _codec(args)
    rung = codec.rung(args.bitrate)
    files.compress_file(codec, args.input, dst, rung.kbps, not args.no_entropy)
    if dst != files.PIPE:
        _say(args, f"{args.input} -> {dst} ({rung.kbps:g} kbps per channel, {Path(dst).stat().st_size} bytes)", dst)
    if args.input != files.PIPE:
        _hint_general(args, lambda: [Path(args.input)])
    return 0


HINT_FILES = 10  # a folder's files the music check reads (evenly spaced), at most


def _hint_general(args: argparse.Namespace, coded: Callable[[], list[Path]]) -> None:
    """One line on stderr when the default (speech) model coded what sounds like music or sound and a general
    model is shipped (:mod:`vqcodec.pipeline.content`: the first seconds of up to ``HINT_FILES`` of the files
    ``coded()`` lists; half of those judged or more must sound so). Silent under ``--quiet``, when a model was
    named, and while no general model is shipped: then no file is listed or read again."""
    from vqcodec.pipeline.content import file_sounds_like_music

    other = None if args.quiet or args.model is not None else pretrained.general()
    if other is None or other.is_default:
        return
    sources = coded()
    if not sources:
        return
    n = min(len(sources), HINT_FILES)
    picked = [sources[i * len(sources) // n] for i in range(n)]
    judged = [v for v in map(file_sounds_like_music, picked) if v is not None]
    if judged and 2 * sum(judged) >= len(judged):
        what = f"{args.input} sounds" if len(sources) == 1 else f"{sum(judged)} of {len(judged)} files checked sound"
        print(
            f"vqcodec: {what} like music or sound; the default model is made for speech: "
            f"--model {other.name} codes music and sounds",
            file=sys.stderr,
        )


def decompress(args: argparse.Namespace) -> int:
    if Path(args.input).is_dir():
        return _tree(args, (VQC,), ".wav", "decompressed", _decompress_work)
    codes = None if args.input == files.PIPE else read_codes(args.input)  # checked before the model loads
    dst = _single_output(args, ".wav")
    if files.PIPE not in (args.input, dst):
        output_format(dst)  # before the model loads
    codes = read_codes(args.input) if codes is None else codes  # stdin: read once, after stdout is checked
    files.decompress_file(_Decoders(args).coder(codes), args.input, dst, codes=codes)
    _say(args, f"{args.input} -> {dst}", dst)
    return 0


def _single_output(args: argparse.Namespace, suffix: str) -> Path | str:
    """The output of one file: ``-`` (stdout), or a path checked by :func:`output_path`."""
    if args.output == files.PIPE or (args.input == files.PIPE and args.output is None):
        check_stdout()  # before the model loads
        return files.PIPE
    return output_path(args.input, args.output, suffix, args.force)


_MAX_NAME_BYTES = 255  # the longest file name most file systems take


def output_path(src: str, out: str | None, suffix: str, force: bool) -> Path:
    """The output path (IN with ``suffix`` unless given), checked before any work: its folder exists and
    is a folder, its name is legal, and an existing file is replaced only with --force."""
    if out is not None and not out.strip():
        raise UserError("-o/--output is empty: give a file name, or leave -o out")
    dst = Path(out) if out is not None else Path(src).with_suffix(suffix)
    if len(os.fsencode(dst.name)) > _MAX_NAME_BYTES:
        raise UserError(f"{dst}: file name longer than {_MAX_NAME_BYTES} bytes")
    if dst.resolve() == Path(src).resolve():
        raise UserError(f"{dst}: output would overwrite the input")
    if dst.is_dir():
        raise UserError(f"{dst}: is a directory")
    if dst.exists() and not force:
        raise UserError(f"{dst}: already exists (use --force to replace it)")
    folder = dst.parent
    if not folder.exists():
        raise UserError(f"{dst}: output folder {folder} does not exist")
    if not folder.is_dir():
        raise UserError(f"{dst}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{dst}: cannot write in folder {folder}")
    return dst


def _say(args: argparse.Namespace, line: str, dst) -> None:
    if not args.quiet and dst != files.PIPE:
        print(line)


def _compress_work(args: argparse.Namespace, workers: int) -> folders.Work:
    codec = _codec(args, workers)
    kbps = codec.rung(args.bitrate).kbps

    def work(src: Path, dst: Path, stop: threading.Event) -> float:
        c = files.compress_file(codec, src, dst, kbps, not args.no_entropy, stop)
        return c.num_samples / c.sample_rate

    return work


def _decompress_work(args: argparse.Namespace, workers: int) -> folders.Work:
    decoders = _Decoders(args, workers)

    def work(src: Path, dst: Path, stop: threading.Event) -> float:
        codes = read_codes(src)
        c = files.decompress_file(decoders.coder(codes), src, dst, stop, codes)
        return c.num_samples / c.sample_rate

    return work


# Files a folder codes at once without --jobs, on onnxruntime, each on its share of the threads. Two files on
# one thread each beat one file on two: while one file is in Praat's pitch tracker, entropy coding or its
# output's fsync (one core or none), the other runs its graph; and a graph on one thread waits on no other.
# Measured on a 2-core AVX2 CPU, 20 of dev's files, 5 interleaved rounds: 6.60 -> 5.69 s (median), the same
# bytes out; a folder of 10-minute files 1.24x as fast but 312 / 342 MB at the peak instead of 238 / 213 MB
# (compress / decompress): --jobs 1 keeps the lower peak (docs/benchmarks.md, "Speed"). Torch's one thread
# pool per process was not measured so: one file at a time there.
FOLDER_WORKERS = 2


def _default_workers(args: argparse.Namespace) -> int:
    """``--jobs`` left out: :data:`FOLDER_WORKERS` on onnxruntime, at most one per thread; 1 on torch."""
    return min(FOLDER_WORKERS, bounded_threads(args.threads)) if args.runtime == "onnx" else 1


def _check_writable(out: Path) -> None:
    """Refuse, before any work, an output folder that cannot be written (or made): one line, not one per file."""
    nearest = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not nearest.is_dir():
        raise UserError(f"{out}: {nearest} is not a folder")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise UserError(f"{out}: cannot write in {nearest}")


def _tree(args: argparse.Namespace, suffixes: tuple[str, ...], suffix: str, verb: str, make_work) -> int:
    """A folder to a mirrored folder (``-o`` required). Exit status 0, or 3 when some files failed."""
    if not args.output or args.output == files.PIPE:
        raise UserError(f"{args.input}: is a folder; give an output folder with -o OUT_DIR")
    src, out = Path(args.input), Path(args.output)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if out.resolve() == src.resolve():
        raise UserError(f"{out}: the output folder would be the input folder")
    _check_writable(out)
    jobs = folders.plan(src, out, suffixes, suffix)
    if not jobs:
        raise UserError(f"{src}: holds no {' or '.join(suffixes)} files")
    workers = folders.usable_workers(args.jobs, _default_workers(args))
    work = make_work(args, workers)
    with _torch_shared(args, workers):
        result = folders.run(jobs, work, args.force, workers, "off" if args.quiet else "auto")
    for path, reason in result.failed if args.quiet else []:
        print(f"vqcodec: {path}: {reason}", file=sys.stderr)
    print(folders.summary(result, verb), file=sys.stderr)
    return 3 if result.failed else 0
