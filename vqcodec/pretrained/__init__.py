"""Weights shipped inside the package: no download, ever."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_MODEL = "default.safetensors"


def default_model_path() -> Path:
    """Path of the shipped default model's weights file."""
    return Path(str(resources.files(__package__).joinpath(DEFAULT_MODEL)))
