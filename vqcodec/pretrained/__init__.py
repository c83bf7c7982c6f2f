"""Models shipped inside the package: no download, ever. Each is a pair of files in this folder,

    STEM.safetensors   its weights: what the torch runtime loads
    STEM.onnx.json     its export's manifest (:mod:`vqcodec.backends.exported`): what onnxruntime loads, two
                       graphs (STEM.encoder.onnx, STEM.decoder.onnx) reading their weights from STEM.safetensors

with, when fitted, its entropy tables (STEM.tables.safetensors.gz, :mod:`vqcodec.entropy`) and its prior
(STEM.prior.safetensors, :mod:`vqcodec.prior`). A model is named by its config's ``name`` (``sp16k``) or its
stem; the stem ``default`` is the model used when none is named. Finding them reads the small manifests only
(no torch, onnxruntime or numpy: ``vqcodec --help`` lists them), each time it is asked: nothing is cached.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from vqcodec.errors import UserError
from vqcodec.nn.config import ModelConfig

DEFAULT_STEM = "default"
WEIGHTS = ".safetensors"
MANIFEST = ".onnx.json"
PRIOR = ".prior.safetensors"
DEFAULT_MODEL = DEFAULT_STEM + WEIGHTS
DEFAULT_ONNX = DEFAULT_STEM + MANIFEST


@dataclass(frozen=True)
class Shipped:
    """One shipped model, as its manifest describes it.

    Attributes:
        stem: its files' common name (``default``).
        config: its config; ``config.name`` is the name it is picked by and every .vqc it writes carries.
        model_hash: the 4-byte weights identity every .vqc it writes carries.
        manifest: its ``.onnx.json`` (onnxruntime).
        weights: its ``.safetensors`` (torch).
    """

    stem: str
    config: ModelConfig
    model_hash: bytes
    manifest: Path
    weights: Path

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def is_default(self) -> bool:
        return self.stem == DEFAULT_STEM

    @property
    def prior(self) -> Path:
        """Where its prior over the codes is shipped (``STEM.prior.safetensors``), if one is."""
        return self.weights.with_name(self.stem + PRIOR)

    def file(self, runtime: str) -> Path:
        """What ``runtime`` loads: the manifest for onnxruntime (``"onnx"``), the weights for torch."""
        return self.manifest if runtime == "onnx" else self.weights


def folder() -> Path:
    """The folder of the shipped models (tests point it elsewhere)."""
    return Path(str(resources.files(__package__)))


def default_model_path() -> Path:
    """Path of the shipped default model's weights file."""
    return folder() / DEFAULT_MODEL


def default_onnx_path() -> Path:
    """Path of the shipped default model's ONNX manifest (:mod:`vqcodec.backends.exported`)."""
    return folder() / DEFAULT_ONNX


def shipped() -> tuple[Shipped, ...]:
    """Every shipped model (a manifest with its weights beside it), the default first, then by name."""
    found = [_read(path) for path in folder().glob("*" + MANIFEST)]
    return tuple(sorted((m for m in found if m.weights.is_file()), key=lambda m: (not m.is_default, m.name)))


def _read(path: Path) -> Shipped:
    """The manifest at ``path``, read for what picking a model needs (the backends read it whole)."""
    try:
        raw = json.loads(path.read_text())
        weights = path.with_name(raw.get("weights", path.name.removesuffix(MANIFEST) + WEIGHTS))
        config = ModelConfig.from_dict(raw["config"])
        return Shipped(path.name.removesuffix(MANIFEST), config, bytes.fromhex(raw["model_hash"]), path, weights)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:  # JSONDecodeError is a ValueError
        raise UserError(f"{path}: a broken shipped model ({e})") from None


def find(name: str) -> Shipped | None:
    """The shipped model called ``name``: the one of that stem (``default``: the default model), else the one
    of that config name; None if none is."""
    models = shipped()
    by_stem = [m for m in models if m.stem == name]
    return (by_stem or [m for m in models if m.name == name] or [None])[0]


def general() -> Shipped | None:
    """The shipped model for music and sounds: the first whose config's ``content`` is ``"general"``, or None
    while none is shipped."""
    return next((m for m in shipped() if m.config.content == "general"), None)


def writer(name: str, model_hash: bytes) -> Shipped | None:
    """The shipped model that writes codes naming model ``name`` with weights ``model_hash``, or None."""
    return next((m for m in shipped() if (m.name, m.model_hash) == (name, model_hash)), None)


def named(model: str | os.PathLike | None) -> Shipped | None:
    """The shipped model ``model`` names, or None when ``model`` is None or a path: a file that exists, or one
    spelled as a path (a folder in it, or a model file's suffix), whose loader says what is wrong with it.

    Raises:
        UserError: ``model`` is neither a file nor a shipped model's name (one line listing the names).
    """
    text = "" if model is None else os.fspath(model)
    if not text or os.path.exists(text) or "/" in text or os.sep in text or text.endswith((WEIGHTS, MANIFEST)):
        return None
    found = find(text)
    if found is None:
        raise UserError(f"model {text!r}: no such file, nor a shipped model (shipped: {listing()})")
    return found


def model_file(model: str | os.PathLike | None, runtime: str) -> str | os.PathLike | None:
    """What ``runtime`` (``"onnx"`` or ``"torch"``) loads for ``model``: a shipped model's name becomes its
    file (:meth:`Shipped.file`); a path, or None (the default model), is returned as it is."""
    found = named(model)
    return model if found is None else found.file(runtime)


def listing() -> str:
    """The shipped models in a few words: ``sp16k (default, 16000 Hz), ...``."""
    words = [f"{m.name} ({'default, ' if m.is_default else ''}{m.config.sample_rate} Hz)" for m in shipped()]
    return ", ".join(words) or "none"
