"""vqcodec: a hierarchical VQ-VAE-2 neural codec for speech.

    codec = vqcodec.load()            # the model shipped inside the package, no download
    codes = codec.encode(wav, sr)     # wav [C, T] or [T]
    wav = codec.decode(codes)         # [C, T] at sr, exactly T samples
"""

from __future__ import annotations

import os

from vqcodec.codec import Codec, Rung
from vqcodec.codes import Codes

__all__ = ["Codec", "Codes", "Rung", "load"]
__version__ = "0.1.0"


def load(path: str | os.PathLike | None = None, device: str = "cpu") -> Codec:
    """The shipped default model (``path=None``) or a model file written by ``vqcodec train``."""
    from vqcodec.pretrained import default_model_path
    from vqcodec.weights import load_model

    return Codec(load_model(default_model_path() if path is None else path), device=device)
