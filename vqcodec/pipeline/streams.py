"""Codes <-> .vqc bytes, for every backend: the one module that knows both codes and
:mod:`vqcodec.io.container` (which knows bytes and nothing of models), and the pipes (``-``). The pipeline
computes codes and knows nothing of bytes. Imports neither torch nor onnxruntime (``vqcodec info`` reads
files through it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

import vqcodec.entropy as entropy
from vqcodec.codes import Codes
from vqcodec.errors import UserError
from vqcodec.io import container
from vqcodec.io.limits import check_audio
from vqcodec.nn.config import ModelConfig

PIPE = "-"


def codes_to_container(codes: Codes, bits: int, pitch_bits: int = 0) -> container.Container:
    """Codes -> a container of their streams (top, bottom, and the pitch if any), codes stored at ``bits``
    bits each (the pitch at ``pitch_bits``)."""
    if codes.pitch is not None and not pitch_bits:
        raise UserError("pitch codes need the model's pitch_bits")
    widths = [bits] * len(codes.levels) + [pitch_bits]
    levels = tuple(
        container.Level(np.asarray(c), b) for c, b in zip(codes.streams, widths[: len(codes.streams)], strict=True)
    )
    return container.Container(
        codes.model_name, codes.model_hash, codes.sample_rate, codes.channels, codes.num_samples, levels
    )


def codes_from_container(c: container.Container) -> Codes:
    """A container of the levels Codes hold, and a pitch stream or none -> Codes of int64 numpy arrays."""
    names = Codes.LEVELS
    if len(c.levels) not in (len(names), len(names) + 1):
        expected = f"{len(names)} levels ({', '.join(names)}), and a pitch stream or none"
        raise container.ContainerError(f"expected {expected}, found {len(c.levels)}")
    top, bottom, *pitch = (np.asarray(level.codes, dtype=np.int64) for level in c.levels)
    return Codes(top, bottom, c.sample_rate, c.num_samples, c.model_name, c.model_hash, *pitch)


def to_bytes(codes: Codes, config: ModelConfig, entropy_coding: bool = True) -> bytes:
    """Codes of the model ``config`` -> .vqc bytes, entropy-coded when the model has shipped tables and
    ``entropy_coding`` (a plain stream, format 1, otherwise)."""
    coder = entropy.coder_for(codes.model_hash) if entropy_coding else None
    return container.write(codes_to_container(codes, config.bits, config.pitch_bits), coder)


def from_bytes(data: bytes) -> Codes:
    """.vqc bytes -> Codes (numpy), checked as far as no model is needed (:func:`checked_container`)."""
    return codes_from_container(checked_container(container.read(data, entropy.coders())))


def checked_container(c: container.Container) -> container.Container:
    """``c`` if its levels are those a model makes (and a pitch stream or none) and its rate, channels and
    length are within :mod:`vqcodec.io.limits`."""
    if len(c.levels) not in (len(ModelConfig.LEVELS), len(ModelConfig.LEVELS) + 1):
        expected = f"{len(ModelConfig.LEVELS)} levels ({', '.join(ModelConfig.LEVELS)}), and a pitch stream or none"
        raise container.ContainerError(f"expected {expected}, found {len(c.levels)}")
    check_audio(c.sample_rate, c.channels, c.num_samples)
    return c


def read_container(src: str | os.PathLike, data: bytes | None = None) -> container.Container:
    """A .vqc file (or stdin, ``-``; or its ``data`` already read), checked whole (:func:`checked_container`),
    with one-line errors naming it."""
    data = read_source(src) if data is None else data
    try:
        return checked_container(container.read(data, entropy.coders()))
    except ValueError as e:  # ContainerError is one
        raise UserError(f"{src}: {e}") from None


def read_codes(src: str | os.PathLike, data: bytes | None = None) -> Codes:
    """A .vqc file (or stdin, ``-``) -> Codes (numpy), checked as :func:`read_container` checks it."""
    return codes_from_container(read_container(src, data))


def checked_codes(coder, src: str | os.PathLike, codes: Codes | None = None) -> Codes:
    """A .vqc file -> Codes that ``coder`` (:class:`vqcodec.pipeline.coder.Coder`) can decode: every check
    decoding makes, before any decoding. ``codes``: the file's, already read (:func:`read_codes`)."""
    codes = read_codes(src) if codes is None else codes
    try:
        coder.check(codes)
    except ValueError as e:
        raise UserError(f"{src}: {e}") from None
    return codes


def read_source(src: str | os.PathLike) -> bytes:
    """The bytes of a .vqc file, or of stdin (``-``), with one-line errors naming it."""
    if str(src) == PIPE:
        return stdin_bytes()
    path = Path(src)
    if not path.is_file():
        raise UserError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    return path.read_bytes()


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
