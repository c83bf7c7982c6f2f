"""Codes <-> .vqc bytes, and the file twins that stream audio in and out in bounded memory.

This is the one module that knows both sides: the codec computes codes and knows nothing of bytes; the
container knows bytes and nothing of models.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from vqcodec import entropy
from vqcodec.codec import Codec
from vqcodec.codes import Codes
from vqcodec.errors import UserError
from vqcodec.io import container
from vqcodec.io.atomic import atomic_path
from vqcodec.io.audio import FileSource, output_format
from vqcodec.io.limits import check_audio
from vqcodec.io.output import check_output, write_failed


def codes_to_container(codes: Codes, bits: int, pitch_bits: int = 0) -> container.Container:
    """Codes -> a container of their streams (top, bottom, and the pitch if any), codes stored at ``bits``
    bits each (the pitch at ``pitch_bits``)."""
    if codes.pitch is not None and not pitch_bits:
        raise UserError("pitch codes need the model's pitch_bits")
    widths = [bits] * len(codes.levels) + [pitch_bits]
    levels = tuple(
        container.Level(c.numpy(), b) for c, b in zip(codes.streams, widths[: len(codes.streams)], strict=True)
    )
    return container.Container(
        codes.model_name, codes.model_hash, codes.sample_rate, codes.channels, codes.num_samples, levels
    )


def codes_from_container(c: container.Container) -> Codes:
    """A container of the levels Codes hold -> Codes."""
    names = Codes.LEVELS
    if len(c.levels) not in (len(names), len(names) + 1):
        expected = f"{len(names)} levels ({', '.join(names)}), and a pitch stream or none"
        raise container.ContainerError(f"expected {expected}, found {len(c.levels)}")
    top, bottom, *pitch = (torch.from_numpy(np.asarray(level.codes, dtype=np.int64)) for level in c.levels)
    return Codes(top, bottom, c.sample_rate, c.num_samples, c.model_name, c.model_hash, *pitch)


def coder(codec: Codec, entropy_coding: bool = True) -> entropy.RangeCoder | None:
    """The entropy coder for ``codec``'s codes: its shipped tables, or None (plain stream) if it has none
    or ``entropy_coding`` is off."""
    return entropy.coder_for(codec.hash) if entropy_coding else None


def to_bytes(codes: Codes, codec: Codec, entropy_coding: bool = True) -> bytes:
    return container.write(
        codes_to_container(codes, codec.config.bits, codec.config.pitch_bits), coder(codec, entropy_coding)
    )


def from_bytes(data: bytes) -> Codes:
    return codes_from_container(container.read(data, entropy.coders()))


def compress(
    codec: Codec,
    wav: np.ndarray | torch.Tensor,
    sample_rate: int,
    bitrate: float | None = None,
    entropy_coding: bool = True,
) -> bytes:
    """Audio ``[C, T]`` -> .vqc bytes (entropy-coded when the model has tables and ``entropy_coding``)."""
    return to_bytes(codec.encode(wav, sample_rate, bitrate), codec, entropy_coding)


def decompress(codec: Codec, data: bytes) -> tuple[torch.Tensor, int]:
    """.vqc bytes -> (audio ``[C, T]``, sample rate)."""
    codes = from_bytes(data)
    return codec.decode(codes), codes.sample_rate


def compress_file(
    codec: Codec,
    src: str | os.PathLike,
    dst: str | os.PathLike,
    bitrate: float | None = None,
    entropy_coding: bool = True,
) -> Codes:
    """Audio file -> .vqc file; the audio is read window by window, never whole."""
    with FileSource(src) as source:
        codes = codec.encode_sources([source], bitrate)[0]
    container.write_file(
        codes_to_container(codes, codec.config.bits, codec.config.pitch_bits), dst, coder(codec, entropy_coding)
    )
    return codes


def read_container(path: str | os.PathLike) -> container.Container:
    """A .vqc file, checked whole, with one-line errors naming the file."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    try:
        return container.read_file(path, entropy.coders())
    except container.ContainerError as e:
        raise UserError(f"{path}: {e}") from None


def read_codes(path: str | os.PathLike) -> Codes:
    """A .vqc file -> Codes, with one-line errors naming the file; see :func:`container_codes`."""
    return container_codes(read_container(path), path)


def container_codes(c: container.Container, path: str | os.PathLike) -> Codes:
    """The codes of the container read from ``path``, checked as far as no model is needed: two levels,
    and the limits of :mod:`vqcodec.io.limits` on rate, channels and length."""
    try:
        codes = codes_from_container(c)
        check_audio(codes.sample_rate, codes.channels, codes.num_samples)
    except ValueError as e:  # ContainerError is one
        raise UserError(f"{path}: {e}") from None
    return codes


def checked_codes(codec: Codec, path: str | os.PathLike) -> Codes:
    """A .vqc file -> Codes that ``codec`` can decode: every check decoding makes, before any decoding."""
    codes = read_codes(path)
    try:
        codec.check(codes)
    except ValueError as e:
        raise UserError(f"{path}: {e}") from None
    return codes


def decompress_file(codec: Codec, src: str | os.PathLike, dst: str | os.PathLike) -> Codes:
    """.vqc file -> audio file at the original rate and channels, written piece by piece.

    The output is checked before decoding (:func:`vqcodec.io.output.check_output`: an OGG's rate, a WAV's
    size against its disk's free space); a write that fails anyway (disk full, file size limit) is one
    error naming ``dst``.
    """
    codes = checked_codes(codec, src)
    kind, subtype = output_format(dst)
    check_output(dst, kind, codes.sample_rate, codes.channels, codes.num_samples)
    try:
        with atomic_path(dst) as tmp:
            with sf.SoundFile(tmp, "w", codes.sample_rate, codes.channels, subtype, format=kind) as out:
                for piece in codec.decode_chunks(codes):
                    out.write(piece.numpy().T)
    except sf.SoundFileError as e:
        raise write_failed(dst, e) from None
    return codes
