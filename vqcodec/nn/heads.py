"""Decoder heads: frames to samples behind one interface (:class:`Head`), chosen by name in a config.

``ISTFTHead`` predicts a free spectrum (Vocos); ``HarmonicHead`` filters a harmonic source and noise
(neural source-filter). Both work at frame rate and end in one inverse STFT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from vqcodec.errors import ConfigError, UserError
from vqcodec.nn.excitation import (
    Pitch,
    harmonic_phase,
    harmonic_source,
    hashed_noise,
    locked_phase,
    upsample_frames,
)
from vqcodec.nn.layers import full_precision


@dataclass
class HeadOutput:
    """Attributes:
    audio: [B, T] samples.
    f0: [B, N] predicted fundamental in Hz per decoder frame (source-filter heads; else None).
    voicing: [B, N] voicing logits per decoder frame (source-filter heads; else None).
    """

    audio: torch.Tensor
    f0: torch.Tensor | None = None
    voicing: torch.Tensor | None = None


class Head(nn.Module):
    """What a decoder's head is: decoder frames ``[B, N, dim]`` to ``N * hop`` samples.

    A new head subclasses this and is named in :func:`make_head`, so that trying it is a config edit
    (Vocos's ``FourierHead`` pattern). ``offset`` is the index of the first output sample in the whole
    signal (for reproducible noise across windows); ``pitch`` is a tracked F0 a head may be driven by in
    training.
    """

    hop: int

    def forward(self, x: torch.Tensor, offset: int = 0, pitch: Pitch | None = None) -> HeadOutput:
        raise NotImplementedError

    def adopt(self, old: nn.Module) -> None:
        """Start from another trained head (fine-tuning to a new head); heads that cannot, refuse."""
        raise UserError(f"a {type(self).__name__} cannot adopt a {type(old).__name__}")


class ISTFTHead(Head):
    """Per-frame log-magnitude and phase, then an inverse STFT (Vocos, Siuzdak 2023).

    The network never works at the sample rate: one frame of ``hop`` samples costs one matrix product.
    ``n_fft = 4 hop`` with a Hann window satisfies the overlap-add condition.
    """

    def __init__(self, dim: int, hop: int):
        super().__init__()
        self.hop, self.n_fft = hop, 4 * hop
        self.proj = nn.Linear(dim, self.n_fft + 2)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, x: torch.Tensor, offset: int = 0, pitch: Pitch | None = None) -> HeadOutput:
        """[B, N, dim] frames -> [B, N * hop] samples (``offset`` and ``pitch`` are unused: nothing here is
        random, and there is no source)."""
        with full_precision(x) as x:
            spec = torch.polar(*self.polar(x))
            # Overlap-add of Hann windows at hop n_fft / 4 sums to a constant (1.5 for the squared window
            # istft divides by), so every output sample is normalised alike and frames join without seams;
            # center=True puts frame k's centre at sample k * hop, so N frames make exactly N * hop samples.
            return HeadOutput(
                torch.istft(spec, self.n_fft, self.hop, window=self.window, center=True, length=x.shape[1] * self.hop)
            )

    def polar(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, N, dim] float32 frames -> magnitude and phase, [B, F, N] each."""
        log_mag, phase = self.proj(x).transpose(1, 2).chunk(2, dim=1)  # [B, F, N] each
        return torch.exp(log_mag).clamp(max=1e2), phase


class HarmonicHead(Head):
    """Source-filter head: per frame, an F0, a voicing weight and two magnitude filters, applied in the
    STFT domain to a harmonic source and to noise, then an inverse STFT.

        e_h = voicing * sum_k sin(k * integral(2 pi F0))      e_n = white noise
        S   = A_h(f, t) STFT(e_h) + A_n(f, t) STFT(e_n)       y = iSTFT(S)

    The filters are real and non-negative, so the excitation's phases pass through: harmonics stay
    coherent across frames and exist from the first step; the network only has to get F0 (supervised by
    a pitch tracker, see :mod:`vqcodec.pitch.tracker`), voicing and the two envelopes right. F0 and voicing
    reach the excitation detached: the reconstruction loss shapes the filters, not the pitch.

    With ``phase_terms`` > 0 the head owns its harmonics' phase: the harmonic filter becomes
    ``A_h(f, t) e^{i theta(f, t)}`` with, per frame,

        theta(f) = dphi f / F0 + sum_j a_j cos(pi j f / nyquist)      r = 1 + u e^{-i phi_src},  dphi = arg r

    ``dphi f / F0`` moves the fundamental's phase by ``dphi`` and harmonic k's by ``k dphi`` (a time shift of
    the pulse train), the ``a_j`` add a smooth phase response (the voice's dispersion). ``u`` (complex) and
    the ``a_j`` are read linearly off the frames; ``phi_src`` is the source's own fundamental phase at the
    frame's centre, so ``u`` can name where the voice's pulses are in absolute terms (what the codes can
    carry) and the head turns it into the rotation this source needs. The projection starts at zero:
    ``r = 1`` and ``theta = 0``, so a model grown from one without the phase decodes exactly as it did.

    With ``minimum_phase`` = L > 0 the harmonic filter is instead ``A_h e^{i theta}`` with theta the minimum
    phase of ``log A_h`` smoothed to its first L cepstral bins (a causal, vocal-tract-like response, the phase
    Codec2's decoder gives its harmonics). theta is linear in ``log A_h``: one fixed ``[F, F]`` matrix,
    :func:`minimum_phase_matrix`.

    Args:
        dim: input width.
        hop: samples per frame; ``n_fft = 4 hop`` with a Hann window.
        sample_rate: of the output.
        f0_min, f0_max: the range F0 is predicted in (a sigmoid on a log scale).
        phase_terms: 0, harmonics in the source's phase; else the head's own phase with that many smooth
            phase-response terms (see above).
        minimum_phase: 0, no minimum phase; else the cepstral bins it keeps (at most ``n_fft / 2``).
    """

    def __init__(
        self,
        dim: int,
        hop: int,
        sample_rate: int,
        f0_min: float = 50.0,
        f0_max: float = 600.0,
        phase_terms: int = 0,
        minimum_phase: int = 0,
    ):
        super().__init__()
        self.hop, self.n_fft, self.sample_rate = hop, 4 * hop, sample_rate
        self.bins = self.n_fft // 2 + 1
        self.f0_min, self.f0_max = f0_min, f0_max
        self.proj = nn.Linear(dim, 2 * self.bins + 2)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        self.phase_terms = phase_terms
        if phase_terms:
            self.phase = nn.Linear(dim, 2 + phase_terms)
            nn.init.zeros_(self.phase.weight)
            nn.init.zeros_(self.phase.bias)
            freqs = torch.linspace(0.0, sample_rate / 2, self.bins, dtype=torch.float64)  # [F]
            terms = torch.arange(phase_terms, dtype=torch.float64)[:, None]  # [P, 1]
            self.register_buffer("freqs", freqs.float(), persistent=False)
            self.register_buffer(
                "phase_basis", torch.cos(math.pi * terms * freqs / freqs[-1]).float(), persistent=False
            )
        self.minimum_phase = minimum_phase
        if minimum_phase:
            self.register_buffer("min_phase", minimum_phase_matrix(self.n_fft, minimum_phase).float(), persistent=False)

    @torch.no_grad()
    def adopt(self, old: nn.Module) -> None:
        """Start from a trained :class:`ISTFTHead` of the same size: both filters take its log-magnitude
        projection, so the output begins with the old spectral envelope and training refines it."""
        if not isinstance(old, ISTFTHead) or old.n_fft != self.n_fft:
            raise UserError("a harmonic head can only adopt an inverse-STFT head of the same n_fft")
        w, b = old.proj.weight[: self.bins], old.proj.bias[: self.bins]  # the log-magnitude rows
        self.proj.weight[: 2 * self.bins] = torch.cat([w, w])
        self.proj.bias[: 2 * self.bins] = torch.cat([b, b])

    def source_phase(
        self, f0: torch.Tensor, voiced: torch.Tensor | None = None, phase: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The F0 driving the source [B, N] -> the fundamental's phase at the sample rate, [B, N * hop] float64:
        running free, or with ``phase`` [B, N] (the voice's, see :class:`Pitch`) locked to it on the frames
        where ``voiced`` [B, N] is positive."""
        free = harmonic_phase(upsample_frames(f0, self.hop), self.sample_rate)
        if phase is None:
            return free
        n = f0.shape[1]
        phase = torch.nn.functional.pad(phase, (0, max(0, n - phase.shape[1])))[:, :n]
        lock = torch.where(voiced > 0, phase.double() - free[:, :: self.hop][:, :n], torch.zeros_like(phase).double())
        return locked_phase(free, lock, self.hop)

    def sources(
        self, f0: torch.Tensor, voiced: torch.Tensor, offset: int | torch.Tensor, track: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Detached frame controls [B, N] -> the harmonic and noise sources, [2B, N * hop] (harmonic rows first);
        ``track``: the fundamental's phase [B, N * hop] (:meth:`source_phase`), None for the free-running one.

        Scaled so that a harmonic's peak bin, and a noise bin on average, have magnitude 1 in the STFT: a unit
        sine peaks at sum(w) / 2 there, unit-variance noise has rms sqrt(sum(w^2)).
        """
        b, n = f0.shape
        harmonic = harmonic_source(upsample_frames(f0, self.hop), self.sample_rate, track)
        harmonic = harmonic * upsample_frames(voiced, self.hop) / (self.window.sum() / 2)
        noise = hashed_noise(n * self.hop, offset, b, f0.device) / self.window.pow(2).sum().sqrt()
        return torch.cat([harmonic, noise])

    def _excitation(
        self, f0: torch.Tensor, voiced: torch.Tensor, offset: int, track: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Detached frame controls [B, N] -> STFTs of the harmonic and noise sources, [2, B, F, N]."""
        b, n = f0.shape
        spec = torch.stft(
            self.sources(f0, voiced, offset, track),
            self.n_fft,
            self.hop,
            window=self.window,
            center=True,
            return_complex=True,
        )  # [2B, F, N + 1]
        return spec[..., :n].reshape(2, b, self.bins, n)

    @staticmethod
    def drive(f0: torch.Tensor, voicing: torch.Tensor, pitch: Pitch | None) -> tuple[torch.Tensor, torch.Tensor]:
        """What drives the source, detached, [B, N] each: the predicted F0 and voicing probability, or the
        tracked ``pitch`` (teacher forcing; its unvoiced frames keep the predicted F0, with voicing 0)."""
        if pitch is None:
            return f0.detach(), torch.sigmoid(voicing).detach()
        n = f0.shape[1]
        given = torch.nn.functional.pad(pitch.f0, (0, max(0, n - pitch.f0.shape[1])))[:, :n]
        return torch.where(given > 0, given, f0.detach()), (given > 0).to(f0.dtype)

    def forward(self, x: torch.Tensor, offset: int = 0, pitch: Pitch | None = None) -> HeadOutput:
        """[B, N, dim] frames -> HeadOutput with [B, N * hop] samples.

        ``offset`` is the index of the first output sample in the whole signal (it seeds the noise, see
        :func:`hashed_noise`). ``pitch`` (training only, teacher forcing): the tracked F0 and voicing
        ``[B, N]`` drive the source instead of the predicted ones, which are still returned for their loss.
        """
        with full_precision(x) as x:
            gains, f0, voicing = self.controls(x)
            driven_f0, voiced = self.drive(f0, voicing, pitch)
            phase = None if pitch is None else pitch.phase
            track = None  # computed once here when both the source and the rotation need it
            if phase is not None or self.phase_terms:
                track = self.source_phase(driven_f0, voiced, phase)
            source = self._excitation(driven_f0, voiced, offset, track)
            harmonic = gains[:, : self.bins] * source[0]
            if self.phase_terms:
                harmonic = harmonic * torch.complex(*self.rotation(x, driven_f0, track))
            elif self.minimum_phase:
                harmonic = harmonic * torch.complex(*self.filter_phase(gains))
            spec = harmonic + gains[:, self.bins :] * source[1]
            audio = torch.istft(
                spec, self.n_fft, self.hop, window=self.window, center=True, length=x.shape[1] * self.hop
            )
            return HeadOutput(audio, f0, voicing)

    def rotation(
        self, x: torch.Tensor, f0: torch.Tensor, track: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, N, dim] float32 frames and the F0 driving the source [B, N] (detached; ``track``: the source's
        phase, see :meth:`sources`) -> cos and sin of the harmonic filter's phase theta, [B, F, N] each (see
        the class docstring)."""
        n = f0.shape[1]
        track = self.source_phase(f0) if track is None else track
        phi = track[:, :: self.hop][:, :n].remainder(2 * math.pi).float()  # [B, N]
        out = self.phase(x).transpose(1, 2)  # [B, 2 + P, N]
        re = 1 + out[:, 0] * torch.cos(phi) + out[:, 1] * torch.sin(phi)  # r = 1 + u e^{-i phi}
        im = out[:, 1] * torch.cos(phi) - out[:, 0] * torch.sin(phi)
        shift = torch.atan2(im, re) / f0.clamp(min=self.f0_min)  # [B, N] radians per Hz
        theta = shift[:, None] * self.freqs[:, None] + torch.einsum("pf,bpn->bfn", self.phase_basis, out[:, 2:])
        return torch.cos(theta), torch.sin(theta)

    def filter_phase(self, gains: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Filter gains [B, 2F, N] (:meth:`controls`) -> cos and sin of the harmonic filter's minimum phase,
        [B, F, N] each (``minimum_phase`` > 0)."""
        log_gain = torch.log(gains[:, : self.bins].clamp(min=1e-7))  # [B, F, N]
        theta = torch.matmul(self.min_phase, log_gain)  # [F, F] @ [B, F, N]
        return torch.cos(theta), torch.sin(theta)

    def controls(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """[B, N, dim] float32 frames -> filter gains [B, 2F, N] (harmonic, then noise), F0 in Hz [B, N] and
        voicing logits [B, N]."""
        out = self.proj(x).transpose(1, 2)  # [B, 2F + 2, N]
        gains = torch.exp(out[:, : 2 * self.bins]).clamp(max=1e2)  # [B, 2F, N]
        log_range = math.log(self.f0_max / self.f0_min)
        f0 = self.f0_min * torch.exp(torch.sigmoid(out[:, -2]) * log_range)  # [B, N]
        return gains, f0, out[:, -1]


def minimum_phase_matrix(n_fft: int, lifter: int) -> torch.Tensor:
    """The linear map from a real filter's log magnitude [F] (F = n_fft / 2 + 1) to its minimum phase in radians
    [F], smoothed to the first ``lifter`` cepstral bins: ``theta = M @ log|A|``, M [F, F] float64.

    The real cepstrum ``irfft(log|A|)`` folded onto its causal half (bin 0 kept, bins 1 .. lifter - 1 doubled,
    the rest dropped) is the minimum-phase filter's complex cepstrum; ``Im rfft`` of it is that filter's phase
    (the sign of torch's STFT, ``e^{-i w t}``).
    """
    bins = n_fft // 2 + 1
    cepstra = torch.fft.irfft(torch.eye(bins, dtype=torch.float64), n=n_fft, dim=1)  # [F, n_fft]: one per bin
    fold = torch.zeros(n_fft, dtype=torch.float64)
    fold[0], fold[1:lifter] = 1.0, 2.0
    return torch.fft.rfft(cepstra * fold, dim=1).imag.T.contiguous()  # [F out, F in]


def make_head(kind: str, dim: int, hop: int, sample_rate: int, phase_terms: int = 0, minimum_phase: int = 0) -> Head:
    """The decoder head a config names: ``"istft"`` or ``"harmonic"`` (``phase_terms``, ``minimum_phase``: see
    HarmonicHead)."""
    if kind == "istft":
        return ISTFTHead(dim, hop)
    if kind == "harmonic":
        return HarmonicHead(dim, hop, sample_rate, phase_terms=phase_terms, minimum_phase=minimum_phase)
    raise ConfigError(f"unknown decoder head {kind!r} (expected 'istft' or 'harmonic')")
