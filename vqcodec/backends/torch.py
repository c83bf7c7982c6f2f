"""The torch backend: a trained model's encoder and decoder on torch (any device), numpy in and out."""

from __future__ import annotations

import os

import numpy as np
import torch

from vqcodec.io.weights import load_model, weights_hash
from vqcodec.nn.model import VQCodecModel
from vqcodec.nn.receptive_field import context_frames as measured_context


class TorchBackend:
    """A :class:`VQCodecModel` (put in eval mode) on ``device``; see :mod:`vqcodec.backends` for the interface.

    Args:
        context_frames: top frames of context per window; by default the model's receptive field, measured.
    """

    runtime = "torch"

    def __init__(self, model: VQCodecModel, device: str | torch.device = "cpu", context_frames: int | None = None):
        self.model, self.device = model.eval().to(device), torch.device(device)
        self.config, self.model_hash = model.config, weights_hash(model)
        self.context_frames = measured_context(self.config) if context_frames is None else context_frames

    @torch.inference_mode()
    def encode(self, x: np.ndarray, codebooks: tuple[int, ...]) -> list[np.ndarray]:
        """``[B, 1, T]`` float32 -> the first ``codebooks`` codes of each level, ``[B, n_q, T_level]`` int64."""
        levels = self.model.encode(torch.from_numpy(np.ascontiguousarray(x)).to(self.device), *codebooks)
        return [lv.cpu().numpy() for lv in levels]

    @torch.inference_mode()
    def decode(self, streams: list[np.ndarray], offset: int) -> np.ndarray:
        """Codes per stream ``[B, q, T_stream]`` (top, bottom, and the pitch if any) -> ``[B, 1, T]`` float32."""
        top, bottom, *pitch = (torch.from_numpy(np.ascontiguousarray(s)).to(self.device) for s in streams)
        return self.model.decode(top, bottom, *pitch, offset=offset).cpu().numpy()


def load_trained(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> TorchBackend:
    """The shipped model (``path=None``) or a model file written by ``vqcodec train``, on torch."""
    from vqcodec.pretrained import default_model_path

    return TorchBackend(load_model(default_model_path() if path is None else path), device)
