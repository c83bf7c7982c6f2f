"""The light runtime's file twins: audio file (or stdin) -> .vqc, .vqc -> audio file (or stdout), streamed
where the file allows it; every output atomic. The bytes side is :mod:`vqcodec.runtime.streams`."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator

import numpy as np
import soundfile as sf

from vqcodec.errors import UserError
from vqcodec.io import container
from vqcodec.io.atomic import atomic_path, write_bytes
from vqcodec.io.audio import FileSource, output_format
from vqcodec.io.limits import check_audio
from vqcodec.io.output import check_output, write_failed
from vqcodec.runtime.audio import file_blocks
from vqcodec.runtime.codec import LightCodec
from vqcodec.runtime.manifest import read_manifest
from vqcodec.runtime.session import OnnxModel
from vqcodec.runtime.streams import PIPE, check_stdout, read_container, stdin_bytes, to_bytes, write_stdout


def load(manifest: str | os.PathLike | None = None, threads: int = 1) -> LightCodec:
    """The shipped model's graphs (``manifest=None``) or those of an exported model's ``.onnx.json``."""
    from vqcodec.pretrained import default_onnx_path

    return LightCodec(OnnxModel(read_manifest(default_onnx_path() if manifest is None else manifest), threads))


class Stopped(BaseException):
    """The run was stopped (``stop`` set, on SIGTERM) between two blocks: not a failure of the file. A
    BaseException, so that no handler of file errors swallows it; the output's temporary file is removed."""


def _until(stop: threading.Event | None, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """``blocks``, raising :class:`Stopped` before the next one once ``stop`` is set."""
    for block in blocks:
        if stop is not None and stop.is_set():
            raise Stopped()
        yield block


def compress_file(
    codec: LightCodec,
    src: str | os.PathLike,
    dst: str | os.PathLike,
    kbps: float | None = None,
    entropy_coding: bool = True,
    stop: threading.Event | None = None,
) -> container.Container:
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
        blocks = _until(stop, file_blocks(handle, handle.frames, "stdin" if str(src) == PIPE else str(src)))
        c = codec.encode(blocks, handle.samplerate, handle.frames, handle.channels, kbps)
    _write_output(dst, to_bytes(c, entropy_coding))
    return c


def decompress_file(
    codec: LightCodec, src: str | os.PathLike, dst: str | os.PathLike, stop: threading.Event | None = None
) -> container.Container:
    """.vqc file (or stdin) -> audio file (or WAV on stdout) at the original rate and channels, written block
    by block; the output is checked before decoding and a failed write is one line, as on the torch runtime
    (:mod:`vqcodec.io.output`). ``stop``: as for :func:`compress_file`."""
    c = read_container(src)
    try:
        codec.check(c)
    except ValueError as e:
        raise UserError(f"{src}: {e}") from None
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


def _write_audio(codec: LightCodec, c: container.Container, target, kind: str, subtype: str, stop=None) -> None:
    with sf.SoundFile(target, "w", c.sample_rate, c.channels, subtype, format=kind) as out:
        for block in _until(stop, codec.decode(c)):
            out.write(block)


def _write_output(dst: str | os.PathLike, data: bytes) -> None:
    if str(dst) == PIPE:
        write_stdout(data)
    else:
        write_bytes(dst, data)
