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

from vqcodec import container
from vqcodec.atomic import atomic_path
from vqcodec.audio_io import FileSource, output_format
from vqcodec.codec import Codec
from vqcodec.codes import Codes
from vqcodec.errors import UserError


def codes_to_container(codes: Codes, bits: int) -> container.Container:
    """Codes (top, bottom) -> a two-level container, codes stored at ``bits`` bits each."""
    levels = tuple(container.Level(c.numpy(), bits) for c in (codes.top, codes.bottom))
    return container.Container(codes.model_name, codes.model_hash, codes.sample_rate, codes.channels,
                               codes.num_samples, levels)


def codes_from_container(c: container.Container) -> Codes:
    """A two-level container -> Codes."""
    if len(c.levels) != 2:
        raise container.ContainerError(f"expected 2 levels (top, bottom), found {len(c.levels)}")
    top, bottom = (torch.from_numpy(np.asarray(level.codes, dtype=np.int64)) for level in c.levels)
    return Codes(top, bottom, c.sample_rate, c.num_samples, c.model_name, c.model_hash)


def to_bytes(codes: Codes, codec: Codec) -> bytes:
    return container.write(codes_to_container(codes, codec.config.bits))


def from_bytes(data: bytes) -> Codes:
    return codes_from_container(container.read(data))


def compress(codec: Codec, wav: np.ndarray | torch.Tensor, sample_rate: int,
             bitrate: float | None = None) -> bytes:
    """Audio ``[C, T]`` -> .vqc bytes."""
    return to_bytes(codec.encode(wav, sample_rate, bitrate), codec)


def decompress(codec: Codec, data: bytes) -> tuple[torch.Tensor, int]:
    """.vqc bytes -> (audio ``[C, T]``, sample rate)."""
    codes = from_bytes(data)
    return codec.decode(codes), codes.sample_rate


def compress_file(codec: Codec, src: str | os.PathLike, dst: str | os.PathLike,
                  bitrate: float | None = None) -> Codes:
    """Audio file -> .vqc file; the audio is read window by window, never whole."""
    with FileSource(src) as source:
        codes = codec.encode_sources([source], bitrate)[0]
    container.write_file(codes_to_container(codes, codec.config.bits), dst)
    return codes


def read_container(path: str | os.PathLike) -> container.Container:
    """A .vqc file, checked whole, with one-line errors naming the file."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    try:
        return container.read_file(path)
    except container.ContainerError as e:
        raise UserError(f"{path}: {e}") from None


def read_codes(path: str | os.PathLike) -> Codes:
    """A .vqc file -> Codes, with one-line errors naming the file."""
    try:
        return codes_from_container(read_container(path))
    except container.ContainerError as e:
        raise UserError(f"{path}: {e}") from None


def decompress_file(codec: Codec, src: str | os.PathLike, dst: str | os.PathLike) -> Codes:
    """.vqc file -> audio file at the original rate and channels, written piece by piece."""
    codes = read_codes(src)
    try:
        codec.check(codes)
    except ValueError as e:
        raise UserError(f"{src}: {e}") from None
    kind, subtype = output_format(dst)
    with atomic_path(dst) as tmp:
        with sf.SoundFile(tmp, "w", codes.sample_rate, codes.channels, subtype, format=kind) as out:
            for piece in codec.decode_chunks(codes):
                out.write(piece.numpy().T)
    return codes
