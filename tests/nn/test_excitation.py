"""Tests for vqcodec.nn.excitation: the harmonic source is band-limited and phase-continuous, the noise is a
pure function of the absolute sample index."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vqcodec.nn.excitation import harmonic_source, hashed_noise, upsample_frames

SR = 16000


def _spectrum(x: torch.Tensor) -> np.ndarray:
    """Magnitude spectrum of a 1 s signal: bin k is k Hz."""
    return np.abs(np.fft.rfft(x.numpy().astype(np.float64) * np.hanning(len(x))))


@pytest.mark.parametrize("f0", [100.0, 220.0, 3000.0])
def test_harmonics_at_multiples_of_f0_and_none_above_nyquist(f0: float) -> None:
    x = harmonic_source(torch.full((1, SR), f0), SR)[0]
    spec = _spectrum(x)
    k = int(np.ceil(SR / 2 / f0)) - 1
    peaks = [spec[int(round(j * f0))] for j in range(1, k + 1)]
    assert min(peaks) > 0.4 * max(peaks)  # every harmonic below Nyquist, at comparable amplitude
    between = spec[int(f0 / 2)]
    assert between < 1e-3 * max(peaks)
    if f0 == 3000.0:  # a third harmonic (9 kHz) would alias to 7 kHz: it must not be there
        assert spec[7000] < 1e-3 * max(peaks)


def test_power_is_half_the_number_of_harmonics() -> None:
    x = harmonic_source(torch.full((1, SR), 200.0), SR)
    assert float(x.pow(2).mean()) == pytest.approx(39 / 2, rel=0.01)  # 39 harmonics below 8 kHz


def test_phase_is_continuous_through_a_glide() -> None:
    f0 = torch.linspace(100, 300, SR)[None]
    x = harmonic_source(f0, SR)
    k = torch.ceil(SR / 2 / f0) - 1
    jumps = (x[:, 1:] - x[:, :-1]).abs()
    # a sum of K unit sines changes by at most sum_k 2 pi k f0 / sr per sample
    bound = (k * (k + 1) / 2 * 2 * np.pi * f0 / SR)[:, 1:]
    assert bool((jumps <= bound + 1e-3).all())


def test_output_is_continuous_in_f0_where_a_harmonic_meets_nyquist() -> None:
    """At 200 Hz the 40th harmonic sits on Nyquist: one float32 step of f0 either side of it must not switch
    a whole harmonic on or off (a rounding difference between CPUs or runtimes would then be audible)."""
    below, above = np.nextafter(np.float32(200), np.float32(0)), np.nextafter(np.float32(200), np.float32(1e9))
    n = SR // 20
    x = []
    for f0 in (below, above):
        track = torch.full((1, n), float(f0))
        track[:, :37] = 123.0  # an arbitrary phase when the 40th harmonic reaches Nyquist, not 0
        x.append(harmonic_source(track, SR))
    assert float((x[0] - x[1]).abs().max()) < 0.05


def test_the_highest_harmonic_fades_out_before_nyquist() -> None:
    """At 199 Hz, 40.2 harmonics fit below Nyquist: the 40th (7960 Hz) is within half an f0 of it, so it
    sounds at (40.2 - 40) / 0.5 = 0.4 of the others' amplitude."""
    spec = _spectrum(harmonic_source(torch.full((1, SR), 199.0), SR)[0])
    top, full = spec[int(round(40 * 199.0))], spec[int(round(39 * 199.0))]
    assert top / full == pytest.approx(0.402, abs=0.03)


def test_noise_depends_only_on_the_absolute_index() -> None:
    whole = hashed_noise(1000, 0, 1, torch.device("cpu"))
    part = hashed_noise(300, 400, 2, torch.device("cpu"))
    assert part.shape == (2, 300)
    assert torch.equal(part[0], whole[0, 400:700]) and torch.equal(part[1], part[0])
    long = hashed_noise(200000, 0, 1, torch.device("cpu"))[0]
    assert abs(float(long.mean())) < 0.01 and float(long.var()) == pytest.approx(1.0, rel=0.02)
    assert abs(float((long[1:] * long[:-1]).mean())) < 0.01  # white: neighbours uncorrelated


def test_upsample_frames_keeps_constants() -> None:
    y = upsample_frames(torch.full((2, 5), 3.0), 4)
    assert y.shape == (2, 20) and torch.allclose(y, torch.full((2, 20), 3.0))


def test_a_locked_source_passes_through_the_voices_fundamental_phase() -> None:
    """fundamental_phase measures a sine's phase at the frame centres; a source locked to a signal's measured
    phase (with an F0 3 Hz off, so that it would drift running free) has that phase again, and follows the
    signal where the free source does not."""
    from vqcodec.nn.excitation import fundamental_phase, harmonic_phase, harmonic_source, locked_phase

    sr, hop, t = 16000, 160, 16000
    f0 = torch.full((1, t), 150.0)
    voice = harmonic_source(f0, sr, harmonic_phase(f0, sr) + 1.0)  # [1, T]
    coded = torch.full((1, t // hop), 153.0)  # [1, N]
    measured = fundamental_phase(voice, coded, hop, sr)
    free = harmonic_phase(torch.full((1, t), 153.0), sr)
    locked = locked_phase(free, measured - free[:, ::hop], hop)
    wrapped = fundamental_phase(harmonic_source(coded[:, :1].expand(1, t), sr, locked), coded, hop, sr) - measured
    assert float(((wrapped + math.pi) % (2 * math.pi) - math.pi)[:, 5:-5].abs().max()) < 0.01

    def snr(y: torch.Tensor) -> float:
        inner = slice(1000, -1000)
        return float(10 * torch.log10(voice[:, inner].pow(2).sum() / (voice - y)[:, inner].pow(2).sum()))

    assert (
        snr(harmonic_source(coded[:, :1].expand(1, t), sr, locked))
        > 15
        > 0
        > snr(harmonic_source(coded[:, :1].expand(1, t), sr))
    )


def test_the_lock_is_unwrapped_the_shortest_way_round() -> None:
    """Locks that cross +-pi between frames bend the phase by less than pi per frame, not by 2 pi."""
    from vqcodec.nn.excitation import locked_phase

    lock = torch.tensor([[3.0, -3.0, 3.0]])  # 0.28 rad apart across the wrap
    out = locked_phase(torch.zeros(1, 30, dtype=torch.float64), lock, 10)
    assert float(torch.diff(out, dim=-1).abs().max()) < 0.03
