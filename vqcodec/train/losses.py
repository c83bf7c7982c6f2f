"""Reconstruction losses for training, all computed on spectra (cheap, phase-aware where it matters)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchaudio.transforms import MelSpectrogram

from vqcodec.nn.encoder import LogMel


class MultiScaleMelLoss(nn.Module):
    """L1 between log-mel spectrograms at several resolutions (DAC, Kumar et al. 2023)."""

    def __init__(
        self,
        sample_rate: int,
        n_ffts: tuple[int, ...] = (256, 512, 1024, 2048),
        n_mels: tuple[int, ...] = (20, 40, 80, 128),
    ):
        super().__init__()
        self.mels = nn.ModuleList(
            MelSpectrogram(sample_rate, n_fft=n, hop_length=n // 4, n_mels=m, power=1.0, center=True)
            for n, m in zip(n_ffts, n_mels, strict=True)
        )

    def forward(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """y, x: [B, 1, T] -> scalar."""
        loss = y.new_zeros(())
        for mel in self.mels:
            loss = loss + F.l1_loss(torch.log(mel(y) + 1e-5), torch.log(mel(x) + 1e-5))
        return loss / len(self.mels)


class CodeSpectrumLoss(nn.Module):
    """How well a linear map reads the input's spectrum from what the decoder is given: a training-only probe.

    The decoder's gradient rewards the encoder for what the decoder already uses, so a stack of codebooks can
    settle on coding what a few of them code (model card, "Why extra codebooks buy little"). This loss rewards
    the codes for carrying the spectrum itself: a convolution (3 bottom frames) from ``[bottom ; top]`` to the
    input's ``n_mels`` log mel energies of each bottom frame (:class:`vqcodec.nn.encoder.LogMel`), L1. With
    quantizer dropout each item is read at its own rung, so every prefix of the stack is asked for the spectrum,
    and through the straight-through estimator the encoder is asked to put it in the latent. The probe's weights
    train with it and are not part of the model.
    """

    def __init__(self, dim: int, sample_rate: int, hop: int, n_mels: int = 80):
        super().__init__()
        self.mel = LogMel(sample_rate, hop, n_mels)
        self.read = nn.Conv1d(2 * dim, n_mels, 3, padding=1)

    def forward(self, bottom: torch.Tensor, top: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """bottom, top: [B, D, T_b]; x: [B, 1, T_b * hop] the input -> scalar."""
        with torch.no_grad():
            target = self.mel(x)  # [B, n_mels, T_b]
        return F.l1_loss(self.read(torch.cat([bottom, top], dim=1).float()), target)


class CompressedSpectralLoss(nn.Module):
    """MSE between power-law compressed magnitudes |X|^c, plus ``complex_weight`` times the MSE between
    compressed complex spectra |X|^c e^{i angle X}.

    The exponent c = 0.3 (Braun & Tashev 2021) keeps quiet bins from vanishing next to loud ones. The
    complex term rewards the right absolute phase, but at a few kbps the phase cannot be coded and the
    decoder can only guess it; under that uncertainty the complex MSE, |a|^2 + |b|^2 - 2|a||b| cos(dphi),
    is lowest for a *smaller* |a|, so a heavy complex term makes the output quiet (seen: 0.2-0.4 of the
    input's RMS after 800 steps at weight 1). Magnitude losses on the output waveform already demand
    frame-to-frame phase consistency (inconsistent phases cancel in the overlap-add), so the complex term
    is kept light.
    """

    def __init__(self, n_ffts: tuple[int, ...] = (320, 640), power: float = 0.3, complex_weight: float = 0.1):
        super().__init__()
        self.n_ffts, self.power, self.complex_weight = n_ffts, power, complex_weight

    def _compressed(self, x: torch.Tensor, n_fft: int) -> torch.Tensor:
        window = torch.hann_window(n_fft, device=x.device)
        spec = torch.stft(x.squeeze(1), n_fft, n_fft // 4, window=window, return_complex=True)
        mag = spec.abs().clamp(min=1e-8)
        return spec * mag.pow(self.power - 1)

    def forward(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """y, x: [B, 1, T] -> scalar."""
        loss = y.new_zeros(())
        for n_fft in self.n_ffts:
            sy, sx = self._compressed(y, n_fft), self._compressed(x, n_fft)
            loss = loss + F.mse_loss(sy.abs(), sx.abs()) + self.complex_weight * (sy - sx).abs().pow(2).mean()
        return loss / len(self.n_ffts)


class PhaseLoss(nn.Module):
    """Phase distance weighted by loudness: the mean of ``w |e^{i angle Y} - e^{i angle X}|^2`` over STFT bins,
    divided by the mean of ``w``, with ``w = (|X| |Y|)^(c / 2)`` detached (c the spectral loss's power).

    It rewards the right absolute phase where both signals have energy, and, unlike a complex MSE, gives
    no gradient towards a quieter output when the phase is uncertain: it moves phases only.
    """

    def __init__(self, n_ffts: tuple[int, ...] = (320, 640), power: float = 0.3):
        super().__init__()
        self.n_ffts, self.power = n_ffts, power

    def forward(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """y, x: [B, 1, T] -> scalar in [0, 4]."""
        loss = y.new_zeros(())
        for n_fft in self.n_ffts:
            window = torch.hann_window(n_fft, device=x.device)
            sy, sx = (torch.stft(s.squeeze(1), n_fft, n_fft // 4, window=window, return_complex=True) for s in (y, x))
            w = (sy.abs() * sx.abs()).detach().pow(self.power / 2)
            uy, ux = sy / sy.abs().clamp(min=1e-7), sx / sx.abs().clamp(min=1e-7)
            loss = loss + (w * (uy - ux).abs().pow(2)).sum() / w.sum().clamp(min=1e-7)
        return loss / len(self.n_ffts)


def pitch_losses(
    f0: torch.Tensor, voicing: torch.Tensor, target_f0: torch.Tensor, voiced: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """F0 error in octaves (L1 of log2 ratios, on frames voiced in the target) and voicing cross-entropy.

    Args:
        f0, voicing: [B, N] predicted Hz and voicing logits.
        target_f0, voiced: [B, N] tracked Hz (0 where unvoiced) and the tracker's decision.
    """
    n = min(f0.shape[1], target_f0.shape[1])
    f0, voicing, target_f0, voiced = f0[:, :n], voicing[:, :n], target_f0[:, :n], voiced[:, :n]
    octaves = (torch.log2(f0) - torch.log2(target_f0.clamp(min=1.0))).abs()
    f0_loss = (octaves * voiced).sum() / voiced.sum().clamp(min=1)
    return f0_loss, F.binary_cross_entropy_with_logits(voicing, voiced.float())
