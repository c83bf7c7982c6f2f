"""Does a recording sound like music or sound rather than speech? A cheap check on its first seconds, so that
a user who compresses music with the speech model is told, in one line, that a general model is shipped.

Two features of the first ``CHECK_S`` seconds (channels averaged), numpy only:

* **low-energy ratio**: the share of 20 ms frames quieter than half the mean level of the second around them.
  Speech pauses between syllables and words; most music never falls that quiet.
* **spectral stability**: the median cosine similarity of consecutive 40 ms log-magnitude spectra up to 4 kHz,
  over frames within 20 dB of the loudest: held notes change less from frame to frame than a voice does.

Music is flagged when both say so (``LOW_ENERGY_MAX``, ``STABILITY_MIN``). The thresholds were chosen on the
training splits (speech: ``../shared/speech/train``; music and sounds: the general corpus's train split):
they flag 0.45 % of training speech and 85 % of training music. The pair on ``benchmarks/music_check.py``'s
grid that flags the most training music within 0.5 % of training speech (0.4 and 0.94: 93 %) flags 1 to 2 %
of held-out speech against none for this one, so the cautious pair stays: a wrong hint on speech costs a
speech codec's users more than a missed one on music. Held-out rates: docs/benchmarks.md. Files shorter than
2 s or silent are not judged.
"""

from __future__ import annotations

import numpy as np

CHECK_S = 20.0
FRAME_S, SPECTRUM_S = 0.02, 0.04
MIN_S, SILENT_RMS = 2.0, 1e-4
LOW_ENERGY_MAX = 0.2
STABILITY_MIN = 0.92
STABILITY_HZ = 4000.0


def low_energy_ratio(x: np.ndarray, sample_rate: int) -> float:
    """Share of 20 ms frames of ``x`` ``[T]`` below half the mean RMS of the 50 frames centred on them."""
    rms = frame_rms(x, sample_rate)
    if len(rms) < 50:
        local = np.full_like(rms, rms.mean())
    else:
        local = np.convolve(rms, np.ones(50) / 50, mode="full")[25 : 25 + len(rms)]
    return float(np.mean(rms < 0.5 * local))


def frame_rms(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS of consecutive 20 ms frames of ``x`` ``[T]`` -> ``[frames]``."""
    hop = int(FRAME_S * sample_rate)
    n = len(x) // hop
    return np.sqrt((x[: n * hop].reshape(n, hop).astype(np.float64) ** 2).mean(1) + 1e-12)


def spectral_stability(x: np.ndarray, sample_rate: int) -> float:
    """Median cosine similarity of consecutive 40 ms log-magnitude spectra (Hann window, bins up to 4 kHz) of
    ``x`` ``[T]``, over pairs of frames both within 20 dB of the loudest; 0 if there is no such pair."""
    w = int(SPECTRUM_S * sample_rate)
    n = len(x) // w
    frames = x[: n * w].reshape(n, w).astype(np.float64)
    spec = np.abs(np.fft.rfft(frames * np.hanning(w), axis=1))[:, : int(STABILITY_HZ / sample_rate * w) + 1]
    rms = np.sqrt((frames**2).mean(1))
    loud = rms > 0.1 * rms.max()
    a = np.log1p(spec / (spec.max() + 1e-9) * 1000)
    cos = (a[1:] * a[:-1]).sum(1) / (np.linalg.norm(a[1:], axis=1) * np.linalg.norm(a[:-1], axis=1) + 1e-9)
    both = loud[1:] & loud[:-1]
    return float(np.median(cos[both])) if both.any() else 0.0


def features(x: np.ndarray, sample_rate: int) -> tuple[float, float] | None:
    """The low-energy ratio and the spectral stability of mono ``x`` ``[T]``'s first :data:`CHECK_S` seconds;
    None when they are too short or silent to judge."""
    x = np.asarray(x[: int(CHECK_S * sample_rate)], dtype=np.float32)
    if len(x) < MIN_S * sample_rate or frame_rms(x, sample_rate).mean() < SILENT_RMS:
        return None
    return low_energy_ratio(x, sample_rate), spectral_stability(x, sample_rate)


def file_features(path) -> tuple[float, float] | None:
    """:func:`features` of an audio file's first seconds (channels averaged); None also if it cannot be read (the
    coding that follows says why)."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            return features(f.read(int(CHECK_S * f.samplerate), dtype="float32", always_2d=True).mean(1), f.samplerate)
    except (sf.LibsndfileError, RuntimeError, ValueError, OSError):
        return None


def is_music(feats: tuple[float, float] | None) -> bool | None:
    """Whether :func:`features` say music or sound rather than speech (None: not judged)."""
    return None if feats is None else feats[0] < LOW_ENERGY_MAX and feats[1] > STABILITY_MIN


def sounds_like_music(x: np.ndarray, sample_rate: int) -> bool | None:
    """Whether mono ``x`` ``[T]`` (the first :data:`CHECK_S` seconds are judged) sounds like music or sound
    rather than speech; None when it is too short or silent to tell."""
    return is_music(features(x, sample_rate))


def file_sounds_like_music(path) -> bool | None:
    """:func:`sounds_like_music` of an audio file's first seconds; None if it cannot be read or is too short or
    silent."""
    return is_music(file_features(path))
