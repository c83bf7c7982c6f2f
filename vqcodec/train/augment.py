"""Training-time rooms and noises: the input degraded as users record it, so that the codec learns to code it;
and other voices: the speech played faster or slower.

Every training corpus the speech model had is clean (studio readings, IVR prompts, LibriSpeech's clean
half), and what users compress is not. Measured on dev's unseen voices made reverberant or noisy (model card,
"Rooms and noises"), the shipped model lost far more naturalness than Codec2 3200. A codec reproduces its
input, so by default a degraded segment is both the model's input and its target: the model learns to render a
room's tail and a background, not to remove them.

- **room** (probability ``room``): the segment convolved with a synthetic room response: a direct path, a
  pre-delay of 0-5 ms, then a Gaussian tail decaying by 60 dB in ``rt60`` seconds (drawn uniformly in its
  range), darkened by a one-pole low-pass of random strength (soft rooms lose their highs first) and scaled so
  that the direct path is -3 to +12 dB above the tail's energy. The tail starts at the segment's first sample
  (the room has not heard what came before it) and what rings past its end is cut.
- **noise** (probability ``noise``): a stationary Gaussian noise whose power falls as ``f^-a`` (``a`` uniform in
  [0, 2]: white to brown, hiss to rumble), added at an SNR drawn uniformly in ``snr_db`` against the segment's
  mean power.

With ``clean_target`` the model is asked to remove them instead: the degraded segment is the input and the
clean one, at the same gain, the target (what Codec2's harmonic model does to a background by construction,
and what a no-reference naturalness score rewards). The samplers then give two rows per segment.

- **speed** (probability ``speed``; :func:`speed_factor`, :func:`respeed`): the segment read from ``f`` times
  its length of the recording and resampled into its own length, ``f`` uniform in ``speed_range``: pitch and
  formants both times ``f`` (and the speaking rate), what a shorter or longer vocal tract does, so that a
  corpus of a few hundred readers teaches more voices than it holds (the speed perturbation of speech
  recognition recipes). ``f`` > 1 leaves the top ``1 - 1 / f`` of the band empty, ``f`` < 1 the top ``1 - f``.
  Drawn before the segment is read; rooms and noises come after, on the new voice.

Draws come from the sampler's own generator, so batches stay reproducible; with every probability 0 nothing
is drawn and a recipe's batches are exactly what they were before the fields existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Augment:
    """What :func:`degrade` may do to a segment; probabilities 0: nothing."""

    room: float = 0.0
    noise: float = 0.0
    rt60: tuple[float, float] = (0.2, 0.8)
    snr_db: tuple[float, float] = (5.0, 30.0)
    sample_rate: int = 16000
    clean_target: bool = False
    speed: float = 0.0
    speed_range: tuple[float, float] = (0.88, 1.12)

    @property
    def active(self) -> bool:
        return self.room > 0 or self.noise > 0


def room_response(rng: np.random.Generator, sample_rate: int, rt60: float) -> np.ndarray:
    """A synthetic room impulse response ``[L]`` (module docstring), unit direct path at sample 0."""
    n = max(2, int(rt60 * sample_rate))
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    darken = rng.uniform(0.0, 0.7)  # a one-pole low-pass y[i] = (1 - a) x[i] + a y[i - 1], applied by FFT
    w = np.pi * np.arange(n + 1) / n  # the bins of a 2n-point transform
    tail = np.fft.irfft(np.fft.rfft(tail, 2 * n) * (1 - darken) / (1 - darken * np.exp(-1j * w)), 2 * n)[:n]
    tail[: int(rng.uniform(0.0, 0.005) * sample_rate) + 1] = 0.0  # pre-delay (and the direct path's sample)
    drr_db = rng.uniform(-3.0, 12.0)
    tail *= 10 ** (-drr_db / 20) / np.sqrt(np.sum(tail**2) + 1e-12)
    tail[0] = 1.0
    return tail


def coloured_noise(rng: np.random.Generator, n: int, slope: float) -> np.ndarray:
    """``[n]`` Gaussian noise of unit RMS whose power falls as ``f^-slope``."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    spec[1:] /= f[1:] ** (slope / 2)
    spec[0] = 0.0
    x = np.fft.irfft(spec, n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The first ``len(x)`` samples of ``x * h`` (FFT convolution)."""
    size = 1 << int(np.ceil(np.log2(len(x) + len(h) - 1)))
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: len(x)]


def degrade(x: np.ndarray, rng: np.random.Generator, spec: Augment) -> np.ndarray:
    """``x`` ``[T]`` (float) in a room and/or with a noise, as ``spec`` draws; the same array when neither."""
    if not spec.active:
        return x
    y = x.astype(np.float64)
    if spec.room > 0 and rng.random() < spec.room:
        power = np.mean(y**2)
        y = convolve(y, room_response(rng, spec.sample_rate, rng.uniform(*spec.rt60)))
        y *= np.sqrt(power / (np.mean(y**2) + 1e-20))  # as loud as it was: the level is the sampler's business
    if spec.noise > 0 and rng.random() < spec.noise:
        snr_db = rng.uniform(*spec.snr_db)
        noise = coloured_noise(rng, len(y), rng.uniform(0.0, 2.0))
        y = y + noise * np.sqrt(np.mean(y**2)) * 10 ** (-snr_db / 20)
    return y.astype(x.dtype)


def speed_factor(rng: np.random.Generator, spec: Augment) -> float:
    """The speed a segment is played at: 1.0 with nothing drawn when ``spec.speed`` is 0; else, with probability
    ``spec.speed``, uniform in ``spec.speed_range`` (1.0 otherwise)."""
    if spec.speed <= 0 or rng.random() >= spec.speed:
        return 1.0
    return float(rng.uniform(*spec.speed_range))


def span(segment: int, factor: float) -> int:
    """Samples of the recording a ``segment``-sample segment played at speed ``factor`` is made of."""
    return max(1, round(segment * factor))


def respeed(x: np.ndarray, segment: int) -> np.ndarray:
    """``x`` ``[N]`` resampled into ``segment`` samples (soxr, high quality): played at ``N / segment`` times its
    speed, pitch and formants times that; ``x`` itself when ``N == segment``."""
    if len(x) == segment:
        return x
    import soxr

    y = soxr.resample(np.asarray(x, dtype=np.float32), len(x), segment, quality="HQ")
    return np.pad(y, (0, max(0, segment - len(y))))[:segment].astype(x.dtype)
