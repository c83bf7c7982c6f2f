"""The torch API: :class:`Codec`, the pipeline (:class:`vqcodec.pipeline.coder.Coder`) on a trained model run
by torch (:class:`vqcodec.backends.torch.TorchBackend`), taking and giving tensors. Audio at any rate and
channel count <-> typed codes, in bounded memory; the windows, resampler and pitch blocks are the pipeline's,
so the codes are those onnxruntime gives the same model's export.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from vqcodec.backends.torch import TorchBackend
from vqcodec.codes import Codes
from vqcodec.errors import UserError
from vqcodec.io.limits import check_audio
from vqcodec.nn.model import VQCodecModel
from vqcodec.pipeline.coder import Coder
from vqcodec.pipeline.rates import DEFAULT_KBPS, Rung
from vqcodec.pipeline.sources import check_shape

__all__ = ["DEFAULT_KBPS", "ArraySource", "Codec", "Rung"]


class ArraySource:
    """An in-memory ``[C, T]`` signal (numpy or a tensor) read by windows, zeros outside ``[0, T)``; ``wav`` the
    float32 tensor (:class:`vqcodec.pipeline.sources.ArraySource` is its numpy twin).

    Raises:
        UserError (a ValueError): the array is not ``[T]`` or ``[C, T]`` (a 2-D array with more rows than columns is
            taken for soundfile's ``[T, C]`` and refused), holds NaN or infinite samples, is not numeric, or
            breaks a limit of :mod:`vqcodec.io.limits`.
    """

    def __init__(self, wav: np.ndarray | torch.Tensor, sample_rate: int):
        x = torch.as_tensor(wav) if torch.is_tensor(wav) else torch.from_numpy(np.asarray(wav))
        x = x[None] if x.dim() == 1 else x
        check_shape(tuple(x.shape))
        if sample_rate != int(sample_rate):
            raise UserError(f"sample rate must be a whole number of Hz, got {sample_rate}")
        check_audio(int(sample_rate), *x.shape)
        x = _to_float(x)
        if not torch.isfinite(x).all():
            raise UserError("audio holds NaN or infinite samples")
        self.wav, self.sample_rate = x.cpu(), int(sample_rate)
        self.channels, self.num_samples = x.shape

    def read(self, start: int, stop: int) -> np.ndarray:
        """[C, stop - start] float32, zero-filled outside the signal."""
        out = np.zeros((self.channels, stop - start), np.float32)
        lo, hi = max(start, 0), min(stop, self.num_samples)
        if lo < hi:
            out[:, lo - start : hi - start] = self.wav[:, lo:hi].numpy()
        return out


def _to_float(x: torch.Tensor) -> torch.Tensor:
    """float32 in [-1, 1]: floats as they are, integers scaled by their type's range (int16 by 32768;
    unsigned types centred, uint8 on 128, as in WAV files)."""
    if x.is_floating_point():
        return x.float()
    if x.dtype == torch.bool or x.is_complex():
        raise UserError(f"audio of type {x.dtype} is not supported: pass floats in [-1, 1] or integer PCM")
    info = torch.iinfo(x.dtype)
    half = (info.max - info.min + 1) / 2
    centre = 0 if x.dtype.is_signed else half
    return ((x.double() - centre) / half).float()


class Codec(Coder):
    """A trained model plus the bookkeeping that turns real audio into codes and back, on torch.

    Args:
        model: the VQ-VAE-2 model (put in eval mode).
        chunk_frames: top frames coded per window (20 s for the default model).
        context_frames: top frames of context on each side of a window; by default the model's receptive
            field, measured, so that windows code exactly as the whole signal.
        device: where the model runs.
    """

    def __init__(
        self,
        model: VQCodecModel,
        chunk_frames: int = 250,
        context_frames: int | None = None,
        device: str | torch.device = "cpu",
    ):
        super().__init__(TorchBackend(model, device, context_frames), chunk_frames)
        self.model, self.device = self.backend.model, self.backend.device

    def array_source(self, wav: np.ndarray | torch.Tensor, sample_rate: int) -> ArraySource:
        """A tensor or numpy array as a source (``encode`` and ``encode_batch`` take either)."""
        return ArraySource(wav, sample_rate)

    def encode_sources(self, sources: Sequence, bitrate: float | None = None) -> list[Codes]:
        """Sources with ``read(start, stop)``, ``sample_rate``, ``channels``, ``num_samples`` -> Codes (tensors)."""
        return [codes.map(torch.from_numpy) for codes in super().encode_sources(sources, bitrate)]

    def decode(self, codes: Codes) -> torch.Tensor:
        """Codes -> ``[C, num_samples]`` float32 audio at ``codes.sample_rate``."""
        return torch.cat(list(self.decode_chunks(codes)), dim=-1)

    def decode_chunks(self, codes: Codes) -> Iterator[torch.Tensor]:
        """The decoded audio in consecutive ``[C, n]`` pieces (bounded memory for long recordings)."""
        for block in self.decode_blocks(codes):
            yield torch.from_numpy(np.ascontiguousarray(block.T))
