"""Weights shipped inside the package: no download, ever. The safetensors weights serve the torch runtime;
the ONNX graphs exported from them (``default.onnx.json`` and the two graphs it names) serve the light one,
reading their weights from the same safetensors file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_MODEL = "default.safetensors"
DEFAULT_ONNX = "default.onnx.json"


def default_model_path() -> Path:
    """Path of the shipped default model's weights file."""
    return Path(str(resources.files(__package__).joinpath(DEFAULT_MODEL)))


def default_onnx_path() -> Path:
    """Path of the shipped default model's ONNX manifest (:mod:`vqcodec.runtime.manifest`)."""
    return Path(str(resources.files(__package__).joinpath(DEFAULT_ONNX)))
