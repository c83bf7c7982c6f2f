"""The torch API's bytes and files: codes (tensors) <-> .vqc bytes, and the file twins that stream audio in and
out in bounded memory. Each is the pipeline's (:mod:`vqcodec.pipeline.streams`, :mod:`vqcodec.pipeline.files`),
which every backend shares; here codes come and go as tensors.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from vqcodec import entropy
from vqcodec.codec import Codec
from vqcodec.codes import Codes
from vqcodec.io import container
from vqcodec.pipeline import files, streams


def _tensors(codes: Codes) -> Codes:
    return codes.map(torch.from_numpy)


def codes_to_container(codes: Codes, bits: int, pitch_bits: int = 0) -> container.Container:
    """Codes -> a container of their streams (see :func:`vqcodec.pipeline.streams.codes_to_container`)."""
    return streams.codes_to_container(codes, bits, pitch_bits)


def codes_from_container(c: container.Container) -> Codes:
    """A container of the levels Codes hold -> Codes (tensors)."""
    return _tensors(streams.codes_from_container(c))


def coder(codec: Codec, entropy_coding: bool = True) -> entropy.RangeCoder | None:
    """The entropy coder for ``codec``'s codes: its shipped tables, or None (plain stream) if it has none
    or ``entropy_coding`` is off."""
    return entropy.coder_for(codec.hash) if entropy_coding else None


def to_bytes(codes: Codes, codec: Codec, entropy_coding: bool = True) -> bytes:
    return streams.to_bytes(codes, codec.config, entropy_coding)


def from_bytes(data: bytes) -> Codes:
    return _tensors(streams.from_bytes(data))


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
    """Audio file -> .vqc file; the audio is read block by block, never whole."""
    return files.compress_file(codec, src, dst, bitrate, entropy_coding)


def read_container(path: str | os.PathLike) -> container.Container:
    """A .vqc file, checked whole, with one-line errors naming the file."""
    return streams.read_container(path)


def read_codes(path: str | os.PathLike) -> Codes:
    """A .vqc file -> Codes (tensors), checked as far as no model is needed, with one-line errors naming it."""
    return _tensors(streams.read_codes(path))


def checked_codes(codec: Codec, path: str | os.PathLike) -> Codes:
    """A .vqc file -> Codes that ``codec`` can decode: every check decoding makes, before any decoding."""
    return _tensors(streams.checked_codes(codec, path))


def decompress_file(codec: Codec, src: str | os.PathLike, dst: str | os.PathLike) -> Codes:
    """.vqc file -> audio file at the original rate and channels, written piece by piece (see
    :func:`vqcodec.pipeline.files.decompress_file`: the output checked before decoding, a failed write one line)."""
    return _tensors(files.decompress_file(codec, src, dst))
