"""An intelligibility loss: STOI (Taal et al. 2011), the measure issue 21's bars name, as a training loss.

STOI resamples both signals to 10 kHz, takes a 256-sample Hann STFT (hop 128), sums its power into 15
third-octave bands from 150 Hz, drops the frames more than 40 dB below the reference's loudest, and
correlates each band's envelope over 384 ms windows after scaling the decoded envelope to the reference's
energy and clipping it where it exceeds the reference's by more than STOI's bound (beta = -15 dB, about 16 dB
above). A correlation does not care about level, so unlike the mel loss it
rewards a decoded band that rises and falls *with* the reference's, wherever its level sits, which is where
the lowest rung trails Codec2 3200 (`benchmarks/stoi_bands.py`: 378-600 Hz and 1.5-3 kHz).

The measure itself is `torch_stoi`'s `NegSTOILoss` (MIT; its authors' differentiable port of pystoi, close
to pystoi but for the resampler), so the training extra depends on it and nothing here reimplements STOI.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn


class IntelligibilityLoss(nn.Module):
    """``1 - STOI`` of decoded against reference audio, the mean over the batch; 0 for identical signals."""

    def __init__(self, sample_rate: int = 16000):
        super().__init__()
        from torch_stoi import NegSTOILoss  # the training extra's; imported only when the loss is on

        with warnings.catch_warnings():  # its resampler's method name, deprecated in torchaudio, same filter
            warnings.simplefilter("ignore", UserWarning)
            self.stoi = NegSTOILoss(sample_rate, use_vad=True, extended=False)

    def forward(self, audio: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """``audio``, ``ref``: [B, 1, T] (or [B, T]) at the model's rate; returns a scalar."""
        return 1.0 + self.stoi(audio.reshape(audio.shape[0], -1).float(), ref.reshape(ref.shape[0], -1).float()).mean()
