"""The file twins, for every backend: audio file (or stdin) -> .vqc, .vqc -> audio file (or stdout), streamed
where the file allows it; every output atomic, checked before decoding (an OGG's rate, a WAV's size against
its disk's free space), and a write that fails anyway (disk full) is one line naming it. The bytes side is
:mod:`vqcodec.pipeline.streams`."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator

import numpy as np
import soundfile as sf

from vqcodec import backends
from vqcodec.codes import Codes
from vqcodec.errors import UserError
from vqcodec.io.atomic import atomic_path, write_bytes
from vqcodec.io.audio import FileSource, output_format
from vqcodec.io.limits import check_audio
from vqcodec.io.output import check_output, write_failed
from vqcodec.pipeline.coder import Coder
from vqcodec.pipeline.sources import file_blocks
from vqcodec.pipeline.streams import PIPE, check_stdout, checked_codes, stdin_bytes, to_bytes, write_stdout


def load(model: str | os.PathLike | None = None, threads: int = 1, runtime: str = "onnx", device: str = "cpu") -> Coder:
    """The pipeline on a backend (:func:`vqcodec.backends.load`): by default the shipped model on onnxruntime,
    without torch; ``model`` an exported ``.onnx.json`` for onnxruntime, a ``.safetensors`` file for torch, or
    a shipped model's name (:mod:`vqcodec.pretrained`) for either."""
    return Coder(backends.load(model, runtime, threads, device))


class Stopped(BaseException):
    """The run was stopped (``stop`` set, on SIGTERM) between two blocks: not a failure of the file. A
    BaseException, so that no handler of file errors swallows it; the output's temporary file is removed."""


def _until(stop: threading.Event | None, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """``blocks``, raising :class:`Stopped` before the next one once ``stop`` is set."""
    for block in blocks:
        if stop is not None and stop.is_set():
            raise Stopped()
        yield block


class _HandleSource:
    """An open ``soundfile.SoundFile`` as a pipeline source (:mod:`vqcodec.pipeline.sources`), read once in
    order; ``stop`` set ends the read at the next block with :class:`Stopped`."""

    def __init__(self, handle: sf.SoundFile, name: str, stop: threading.Event | None):
        self.handle, self.name, self.stop = handle, name, stop
        self.sample_rate, self.channels, self.num_samples = handle.samplerate, handle.channels, handle.frames

    def blocks(self) -> Iterator[np.ndarray]:
        return _until(self.stop, file_blocks(self.handle, self.num_samples, self.name))


def compress_file(
    codec: Coder,
    src: str | os.PathLike,
    dst: str | os.PathLike,
    kbps: float | None = None,
    entropy_coding: bool = True,
    stop: threading.Event | None = None,
) -> Codes:
    """Audio file (or stdin) -> .vqc file (or stdout); a file is read block by block, never whole. The stream
    is entropy-coded when the model has shipped tables and ``entropy_coding``. ``stop``: set by another
    thread, ends the work at the next block with :class:`Stopped`."""
    if str(src) == PIPE:
        data = io.BytesIO(stdin_bytes())
        try:
            handle = sf.SoundFile(data)
        except (sf.LibsndfileError, RuntimeError, TypeError) as e:
            reason = str(e).replace(f"Error opening {data!r}: ", "").strip()  # not "<_io.BytesIO object at 0x…>"
            raise UserError(f"stdin: not a readable audio file ({reason})") from None
        check_audio(handle.samplerate, handle.channels, handle.frames)
    else:
        handle = FileSource(src).file  # header checked against the limits on opening
    with handle:
        source = _HandleSource(handle, "stdin" if str(src) == PIPE else str(src), stop)
        codes = codec.encode_sources([source], kbps)[0]
    _write_output(dst, to_bytes(codes, codec.config, entropy_coding))
    return codes


def decompress_file(
    codec: Coder,
    src: str | os.PathLike,
    dst: str | os.PathLike,
    stop: threading.Event | None = None,
    codes: Codes | None = None,
) -> Codes:
    """.vqc file (or stdin) -> audio file (or WAV on stdout) at the original rate and channels, written block
    by block; the output is checked before decoding and a failed write is one line (:mod:`vqcodec.io.output`).
    ``stop``: as for :func:`compress_file`; ``codes``: ``src``'s, when already read (stdin is read once)."""
    c = checked_codes(codec, src, codes)
    if str(dst) == PIPE:
        check_stdout()
        out = io.BytesIO()
        _write_audio(codec, c, out, "WAV", "PCM_16", stop)
        write_stdout(out.getvalue())
        return c
    kind, subtype = output_format(dst)
    check_output(dst, kind, c.sample_rate, c.channels, c.num_samples)
    try:
        with atomic_path(dst) as tmp:
            _write_audio(codec, c, tmp, kind, subtype, stop)
    except sf.SoundFileError as e:
        raise write_failed(dst, e) from None
    return c


def _write_audio(codec: Coder, c: Codes, target, kind: str, subtype: str, stop=None) -> None:
    with sf.SoundFile(target, "w", c.sample_rate, c.channels, subtype, format=kind) as out:
        for block in _until(stop, codec.decode_blocks(c)):
            out.write(block)


def _write_output(dst: str | os.PathLike, data: bytes) -> None:
    if str(dst) == PIPE:
        write_stdout(data)
    else:
        write_bytes(dst, data)
