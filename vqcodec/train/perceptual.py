"""A perceptual disturbance loss after the model of ITU-T P.862 (PESQ) and P.862.2 (its wide band).

The multi-scale mel loss is symmetric and logarithmic: a missing partial and an added noise of the same
log distance cost the same, and every difference counts however small. PESQ's model of hearing does
not: it compares the two signals' *loudness* per Bark band on 32 ms frames, ignores a difference below a
dead zone of a quarter of the softer loudness, and weighs energy the coded signal *adds* up to 12 times
more than energy it loses (its asymmetric disturbance). PMSQE (Martín-Doñas et al., "A Deep Learning Loss
Function Based on the Perceptual Evaluation of the Speech Quality", IEEE SPL 2018) made a training loss of
that model for speech enhancement. This is our own reading of the same model, from the recommendation's
description, with its tables replaced by formulas:

- frames: 32 ms Hann windows, hop 16 ms; power spectra;
- bands: ``bands`` equal steps of the Bark scale (Zwicker & Terhardt's formula) from 100 Hz (P.862.2's
  input filter) to Nyquist, each the sum of the power of the bins in it;
- level: both signals scaled by one gain that sets the *reference's* mean frame power to the listening
  level (79 dB SPL), so a louder or quieter output is a disturbance; the threshold in quiet (Terhardt's
  formula) then sets each band's ``P0``;
- loudness (Zwicker's law): ``S = (P0 / 0.5)^g ((0.5 + 0.5 P / P0)^g - 1)``, ``g = 0.23``;
- disturbance per band: ``|S_y - S_x|`` less a dead zone of ``0.25 min(S_y, S_x)``, not below 0;
- asymmetry: ``((P_y + c) / (P_x + c))^1.2`` (``c`` half the lowest threshold), 0 under 3, at most 12,
  treated as a weight (no gradient flows through it);
- per frame, the symmetric disturbance is the band-width-weighted L3 norm over bands, the asymmetric one
  the L1 norm of the disturbance times the asymmetry; the loss is the mean over frames of
  ``0.1 D + 0.0309 A``, PESQ's own weights (PESQ = 4.5 - 0.1 D - 0.0309 A after its time aggregation).

Left out: PESQ's time alignment (training pairs are aligned), its compensation of slow gain changes, its
L6/L2 aggregation over time, and its compensation of the system's frequency response (each band of the
reference scaled towards the decoded signal's mean power in it, up to +-20 dB). A first run with that
compensation (weight 100, model card "A perceptual loss") taught the decoder to be 8 dB quieter at 0.6-2 kHz
within 250 steps and lost 0.26 PESQ-WB: a steady coloration was free, and a quieter output adds less energy
for the asymmetry to punish. How the loss ranks coded speech against PESQ-WB: ``benchmarks/perceptual_rank.py``.
"""

from __future__ import annotations

import torch
from torch import nn

LISTENING_DB = 79.0  # P.862's assumed listening level, dB SPL


def bark(hz: torch.Tensor) -> torch.Tensor:
    """Zwicker & Terhardt's critical-band rate of a frequency in Hz."""
    return 13.0 * torch.atan(0.00076 * hz) + 3.5 * torch.atan((hz / 7500.0) ** 2)


def threshold_db(hz: torch.Tensor) -> torch.Tensor:
    """Terhardt's threshold in quiet, dB SPL, of a frequency in Hz (clamped to 20 Hz .. 20 kHz)."""
    k = hz.clamp(20.0, 20000.0) / 1000.0
    return 3.64 * k.pow(-0.8) - 6.5 * torch.exp(-0.6 * (k - 3.3) ** 2) + 1e-3 * k.pow(4)


class PerceptualLoss(nn.Module):
    """PESQ's perceptual disturbance as a loss (module docstring); 0 for identical signals."""

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 512,
        bands: int = 49,
        low_hz: float = 100.0,
        gamma: float = 0.23,
    ):
        super().__init__()
        self.n_fft, self.gamma = n_fft, gamma
        hz = torch.arange(n_fft // 2 + 1) * (sample_rate / n_fft)
        edges = torch.linspace(float(bark(torch.tensor(low_hz))), float(bark(torch.tensor(sample_rate / 2))), bands + 1)
        band = torch.bucketize(bark(hz), edges[1:-1], right=True)  # [F] band of each bin
        member = (band[None, :] == torch.arange(bands)[:, None]) & (hz >= low_hz)[None, :]
        self.register_buffer("member", member.float(), persistent=False)  # [bands, F]
        centre = torch.tensor([float(hz[m].mean()) if m.any() else 0.0 for m in member])
        used = member.any(dim=1)
        self.register_buffer("used", used, persistent=False)  # bands with at least one bin
        # each band's threshold as a share of the listening level's power
        p0 = torch.pow(10.0, (threshold_db(centre.clamp(min=low_hz)) - LISTENING_DB) / 10.0)
        self.register_buffer("p0", p0, persistent=False)  # [bands]
        width = edges[1:] - edges[:-1]
        self.register_buffer("width", width / width.sum(), persistent=False)  # [bands]
        self.c = 0.5 * float(p0[used].min())
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def band_power(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, 1, T] -> [B, N, bands] power per Bark band of each 32 ms frame."""
        spec = torch.stft(x.squeeze(1), self.n_fft, self.n_fft // 2, window=self.window, return_complex=True)
        power = spec.real.square() + spec.imag.square()  # [B, F, N]
        return torch.einsum("kf,bfn->bnk", self.member, power)

    def loudness(self, p: torch.Tensor) -> torch.Tensor:
        """Band power [..., bands] (in units of the listening level) -> loudness, 0 at silence."""
        p0, g = self.p0, self.gamma
        return (p0 / 0.5).pow(g) * ((0.5 + 0.5 * p / p0).pow(g) - 1.0)

    def forward(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """y (decoded), x (reference): [B, 1, T] -> scalar."""
        py, px = self.band_power(y.float()), self.band_power(x.float())
        level = px.sum(dim=2).mean(dim=1, keepdim=True).unsqueeze(2).clamp(min=1e-10).detach()  # [B, 1, 1]
        py, px = py / level, px / level
        sy, sx = self.loudness(py), self.loudness(px)
        d = (sy - sx).abs()
        d = (d - 0.25 * torch.minimum(sy, sx)).clamp(min=0.0) * self.used
        ratio = ((py + self.c) / (px + self.c)).detach().pow(1.2)
        asym = torch.where(ratio < 3.0, torch.zeros_like(ratio), ratio.clamp(max=12.0))
        w = self.width
        sym = (w * d.pow(3)).sum(dim=2).add(1e-30).pow(1.0 / 3.0)  # [B, N]; the L3 norm, finite gradient at 0
        asy = (w * d * asym).sum(dim=2)
        return (0.1 * sym + 0.0309 * asy).mean()
