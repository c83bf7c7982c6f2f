"""What an exported model is: its two ONNX graphs, the weights file they read, and a small JSON beside them
that says which weights those are and the model's config (read without onnx or onnxruntime, so ``vqcodec
info`` starts fast).

    default.onnx.json      {"format", "config", "model_hash", "weights", "weights_sha256", "encoder", "decoder",
                            "opset", "context_frames"}
    default.encoder.onnx   audio [B, 1, T] -> codes of each level [B, n_q, T_level]
    default.decoder.onnx   codes of each level [B, q, T_level], offset (and pitch_f0 [B, N] for a model
                           with a pitch stream, config.pitch_bits > 0) -> audio [B, 1, T]
    default.safetensors    the weights, which the runtime feeds both graphs when it loads them

``fed`` (format 3) names, per graph, each initializer the runtime feeds and the file tensor it is (transposed
or not): :mod:`vqcodec.backends.fed`. Format 2 graphs read the same file themselves (ONNX external data, with
nodes that turn the stored values into float32 for onnxruntime to fold at load); format 1 graphs held their
own copy of the weights ("weights" absent). Both still load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from vqcodec.errors import UserError
from vqcodec.nn.config import ModelConfig

FORMAT = "vqcodec-onnx-3"
_READABLE = ("vqcodec-onnx-1", "vqcodec-onnx-2", FORMAT)
SUFFIX = ".onnx.json"


@dataclass(frozen=True)
class Manifest:
    """An exported model's description.

    Attributes:
        config: the model's config.
        model_hash: the 4-byte weights identity written into every .vqc (:func:`vqcodec.io.weights.weights_hash`).
        weights_sha256: SHA-256 of the safetensors file the graphs were exported from ("" if none).
        encoder, decoder: paths of the two graphs.
        opset: the ONNX opset they use.
        context_frames: top frames of context a window needs (the receptive field, measured at export).
        weights: path of the safetensors file the graphs' weights come from (None: format 1, inside).
        fed: per graph ("encoder", "decoder"), each initializer the runtime feeds -> (file tensor, transposed);
            empty for formats 1 and 2.
    """

    config: ModelConfig
    model_hash: bytes
    weights_sha256: str
    encoder: Path
    decoder: Path
    opset: int
    context_frames: int
    weights: Path | None = None
    fed: dict[str, dict[str, tuple[str, bool]]] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        fields = {
            "format": FORMAT,
            "config": json.loads(self.config.to_json()),
            "model_hash": self.model_hash.hex(),
            "weights_sha256": self.weights_sha256,
            "encoder": self.encoder.name,
            "decoder": self.decoder.name,
            "opset": self.opset,
            "context_frames": self.context_frames,
        }
        if self.weights is not None:
            fields["weights"] = self.weights.name
        if self.fed:
            fields["fed"] = {graph: {k: list(v) for k, v in inits.items()} for graph, inits in self.fed.items()}
        return json.dumps(fields, indent=2, sort_keys=True) + "\n"


def manifest_path(folder: str | os.PathLike, stem: str) -> Path:
    return Path(folder) / f"{stem}{SUFFIX}"


def read_manifest(path: str | os.PathLike) -> Manifest:
    """The manifest at ``path`` (a ``.onnx.json`` file), with one-line errors naming it."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
        if raw.get("format") not in _READABLE:
            raise ValueError(f"format {raw.get('format')!r}, expected {FORMAT!r}")
        return Manifest(
            ModelConfig.from_dict(raw["config"]),
            bytes.fromhex(raw["model_hash"]),
            str(raw["weights_sha256"]),
            path.parent / raw["encoder"],
            path.parent / raw["decoder"],
            int(raw["opset"]),
            int(raw["context_frames"]),
            path.parent / _file_name(raw["weights"]) if "weights" in raw else None,
            _fed(raw.get("fed", {})),
        )
    except FileNotFoundError:
        raise UserError(f"{path}: no such exported model") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:  # JSONDecodeError is a ValueError
        raise UserError(f"{path}: not an exported vqcodec model ({e})") from None


def _fed(raw: dict) -> dict[str, dict[str, tuple[str, bool]]]:
    """The manifest's ``fed`` table, checked for shape: {graph: {initializer: [tensor, transposed]}}."""
    fed = {}
    for graph, inits in raw.items():
        if graph not in ("encoder", "decoder") or not isinstance(inits, dict):
            raise ValueError(f"fed: {graph!r} is not a graph of the model")
        fed[graph] = {}
        for init, entry in inits.items():
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)) or not isinstance(
                entry[1], bool
            ):
                raise ValueError(f"fed: {init!r} is not [tensor name, transposed]")
            fed[graph][init] = (entry[0], entry[1])
    return fed


def _file_name(name: str) -> str:
    """``name`` if it is a bare file name: the weights lie beside the graphs that read them."""
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        raise ValueError(f"weights {name!r} is not a file name beside the manifest")
    return name


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
