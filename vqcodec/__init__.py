"""vqcodec: a hierarchical VQ-VAE-2 neural codec for speech.

    codec = vqcodec.load()            # the model shipped inside the package, no download
    codes = codec.encode(wav, sr)     # wav [C, T] or [T]
    wav = codec.decode(codes)         # [C, T] at sr, exactly T samples

Names are imported on first use, so ``vqcodec --help`` and the container tools start without torch.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vqcodec.codec import Codec, Rung
    from vqcodec.codes import Codes

__all__ = ["Codec", "Codes", "Rung", "load"]
__version__ = "0.1.0"

# onnxruntime, when imported without this, writes a device id under $HOME/.cache/Microsoft and queues
# telemetry events for upload (measured on 1.32): a local codec for private speech must do neither. Set
# here, the one module that runs before any of ours can import onnxruntime; the runtime's session module
# also switches the events off (onnxruntime.disable_telemetry_events) in case it was imported first.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

_LAZY = {"Codec": "vqcodec.codec", "Rung": "vqcodec.codec", "Codes": "vqcodec.codes"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vqcodec' has no attribute {name!r}")


def load(path: str | os.PathLike | None = None, device: str = "cpu") -> Codec:
    """The shipped default model (``path=None``), another shipped model by name (``vqcodec.load("sp16k")``,
    :mod:`vqcodec.pretrained`) or a model file written by ``vqcodec train``.

    Raises:
        ModuleNotFoundError: torch is not installed (the light install), with what to install or use instead.
    """
    try:
        from vqcodec.codec import Codec
        from vqcodec.io.weights import load_model
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] != "torch":
            raise
        raise ModuleNotFoundError(
            "vqcodec.load() needs torch, which is not installed: pip install 'vqcodec[torch]' (without torch, "
            "vqcodec.pipeline.files.load() runs the shipped model on onnxruntime)",
            name="torch",
        ) from None
    from vqcodec.pretrained import default_model_path, model_file

    path = model_file(path, "torch")
    return Codec(load_model(default_model_path() if path is None else path), device=device)
