"""The light runtime's bytes side: a container of codes <-> .vqc bytes, through :mod:`vqcodec.io.container`
and :mod:`vqcodec.entropy` as the torch runtime's is, so either runtime reads the other's files. Imports
neither torch nor onnxruntime (``vqcodec info`` reads files through it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import vqcodec.entropy as entropy
from vqcodec.errors import UserError
from vqcodec.io import container
from vqcodec.io.limits import check_audio
from vqcodec.nn.config import ModelConfig

PIPE = "-"


def to_bytes(c: container.Container, entropy_coding: bool = True) -> bytes:
    """A container of codes -> .vqc bytes, entropy-coded when its model has shipped tables and ``entropy_coding``."""
    return container.write(c, entropy.coder_for(c.model_hash) if entropy_coding else None)


def stdin_bytes() -> bytes:
    """All of stdin; one line if it is closed (Python then has no ``sys.stdin``)."""
    if sys.stdin is None:
        raise UserError("stdin is closed: give an input file, or pipe one in")
    return sys.stdin.buffer.read()


def check_stdout() -> None:
    """Refuse, before any work, a stdout that is closed or a terminal (binary output would garble it)."""
    if sys.stdout is None:
        raise UserError("stdout is closed: give an output file with -o")
    if sys.stdout.isatty():
        raise UserError("stdout is a terminal: give an output file with -o, or redirect it (> out)")


def write_stdout(data: bytes) -> None:
    check_stdout()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def read_source(src: str | os.PathLike) -> bytes:
    """The bytes of a .vqc file, or of stdin (``-``), with one-line errors naming it."""
    if str(src) == PIPE:
        return stdin_bytes()
    path = Path(src)
    if not path.is_file():
        raise UserError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    return path.read_bytes()


def read_container(src: str | os.PathLike, data: bytes | None = None) -> container.Container:
    """A .vqc file (or stdin, ``-``; or its ``data`` already read), checked whole, with one-line errors naming
    it: its levels are those a model makes (and a pitch stream or none) and its rate, channels and length
    within the limits."""
    data = read_source(src) if data is None else data
    try:
        c = container.read(data, entropy.coders())
        if len(c.levels) not in (len(ModelConfig.LEVELS), len(ModelConfig.LEVELS) + 1):
            expected = f"{len(ModelConfig.LEVELS)} levels ({', '.join(ModelConfig.LEVELS)}), and a pitch stream or none"
            raise container.ContainerError(f"expected {expected}, found {len(c.levels)}")
        check_audio(c.sample_rate, c.channels, c.num_samples)
    except ValueError as e:  # ContainerError is one
        raise UserError(f"{src}: {e}") from None
    return c
