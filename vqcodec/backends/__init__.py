"""Backends: what runs a model's two graphs, and nothing else. The pipeline (:mod:`vqcodec.pipeline`) cuts
audio into windows, tracks pitch, resamples, checks and serializes; a backend turns a window of audio into
codes and a window of codes into audio:

- :mod:`vqcodec.backends.torch`: a trained model (``.safetensors``) on torch, any device;
- :mod:`vqcodec.backends.onnxruntime`: an exported model (``.onnx.json``, :mod:`vqcodec.backends.exported`) on
  onnxruntime, without torch (the light install).

A backend has ``config`` (:class:`vqcodec.nn.config.ModelConfig`), ``model_hash`` (the 4 bytes every .vqc
names), ``context_frames`` (top frames of context a window needs), and::

    encode(x [B, 1, T] float32, codebooks) -> [top [B, n_top, T_top], bottom [B, n_bottom, T_bottom]] int64
    decode([top, bottom] or [top, bottom, pitch [B, 1, T_bottom]], offset) -> [B, 1, T] float32

(numpy arrays in and out; ``offset`` is the index of the window's first sample in the whole signal).
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from vqcodec.errors import UserError
from vqcodec.nn.config import ModelConfig

RUNTIMES = ("onnx", "torch")
EXPORTED_SUFFIX = ".onnx.json"


class Backend(Protocol):
    config: ModelConfig
    model_hash: bytes
    context_frames: int
    runtime: str  # "onnx" or "torch"

    def encode(self, x: np.ndarray, codebooks: tuple[int, ...]) -> list[np.ndarray]: ...

    def decode(self, streams: list[np.ndarray], offset: int) -> np.ndarray: ...


def load(model: str | os.PathLike | None = None, runtime: str = "onnx", threads: int = 1, device: str = "cpu"):
    """The backend of ``runtime`` for ``model`` (None: the shipped default): an exported ``.onnx.json`` for
    onnxruntime, a ``.safetensors`` model for torch, or a shipped model's name (:mod:`vqcodec.pretrained`: its
    file for that runtime); a model of the other kind is one line naming what to pass."""
    from vqcodec.pretrained import model_file

    model = model_file(model, runtime)
    exported = model is not None and str(model).endswith(EXPORTED_SUFFIX)
    if runtime == "onnx":
        if model is not None and not exported:
            raise UserError(
                f"{model}: onnxruntime (--runtime onnx) takes an exported model: "
                f"vqcodec export --model MODEL DIR, then --model DIR/NAME{EXPORTED_SUFFIX} (or --runtime torch)"
            )
        from vqcodec.backends.onnxruntime import load_exported

        return load_exported(model, threads)
    if runtime != "torch":
        raise UserError(f"unknown runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
    if exported:
        raise UserError(f"{model}: torch (--runtime torch) takes a .safetensors model, not an exported one")
    from vqcodec.backends.torch import load_trained

    return load_trained(model, device)


def identity(model: str | os.PathLike | None = None) -> tuple[ModelConfig, bytes]:
    """(config, weights hash) of a model without loading its graphs: a shipped one's (``model`` None or its
    name) and an exported one's from the manifest (no torch, no onnxruntime); a ``.safetensors`` model's by
    loading it on torch."""
    from vqcodec.pretrained import default_onnx_path, model_file

    model = model_file(model, "onnx")
    if model is None or str(model).endswith(EXPORTED_SUFFIX):
        from vqcodec.backends.exported import read_manifest

        m = read_manifest(default_onnx_path() if model is None else model)
        return m.config, m.model_hash
    backend = load(model, "torch")
    return backend.config, backend.model_hash
