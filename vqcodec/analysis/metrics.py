"""Quality metrics of a decoded signal against its reference, both mono float at 16 kHz.

PESQ-WB and STOI come from the optional ``pesq`` and ``pystoi`` packages, DNSMOS (a no-reference MOS estimate)
from ``speechmos``, which ships its ONNX models (nothing is downloaded), F0 and voicing errors from Praat's
pitch tracker (``praat-parselmouth``, see :mod:`vqcodec.pitch.tracker`), loudness from ``pyloudnorm`` (ITU-R BS.1770)
(all ``pip install 'vqcodec[eval]'``), imported only when first used; log-mel distance, SI-SDR and the delay
estimate need nothing beyond torch and numpy.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from vqcodec.errors import UserError

SR = 16000
MAX_DELAY_S = 0.05  # search range of the delay estimate (Codec2 delays ~34 ms)
PITCH_HOP = 160  # 10 ms frames for the F0 metrics
ENVELOPE_S = 0.005  # smoothing of the amplitude envelopes the delay is estimated on
MIN_ENVELOPE_CORR = 0.5  # files whose envelopes correlate less give no delay estimate

EVAL_HINT = "pip install 'vqcodec[eval]'"


def _pesq_module():
    try:
        import pesq
    except ImportError:
        raise UserError(f"PESQ needs the 'pesq' package: {EVAL_HINT}") from None
    return pesq


def _stoi_function():
    try:
        from pystoi import stoi
    except ImportError:
        raise UserError(f"STOI needs the 'pystoi' package: {EVAL_HINT}") from None
    return stoi


def _loudness_meter():
    try:
        import pyloudnorm
    except ImportError:
        raise UserError(f"loudness needs the 'pyloudnorm' package: {EVAL_HINT}") from None
    return pyloudnorm.Meter(SR)


def _dnsmos_module():
    try:
        from speechmos import dnsmos
    except ImportError:
        raise UserError(f"DNSMOS needs the 'speechmos' and 'librosa' packages: {EVAL_HINT}") from None
    return dnsmos


def require_eval() -> None:
    """Fail now, in one line, if a metric cannot be computed (before a long run, not after)."""
    from vqcodec.pitch.tracker import _praat

    _pesq_module()
    _stoi_function()
    _loudness_meter()
    _dnsmos_module()
    _praat()


@functools.cache
def _mel():
    import torchaudio

    return torchaudio.transforms.MelSpectrogram(sample_rate=SR, n_fft=1024, hop_length=256, n_mels=80, power=2.0)


def log_mel(x: np.ndarray) -> torch.Tensor:
    """``[80, frames]`` log10 mel power of a 16 kHz signal, floored at 1e-5 (see :func:`log_mel_distance`)."""
    return _mel()(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).clamp(min=1e-5).log10()


def log_mel_distance(ref: np.ndarray, deg: np.ndarray) -> float:
    """Mean absolute difference of log10 mel power spectrograms.

    ``S = MelSpectrogram(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=80, power=2.0)`` (torchaudio
    defaults otherwise: Hann window of 1024, centered frames, HTK mel scale, f_min 0, f_max 8 kHz, no
    normalization), then ``mean over mels and frames of |log10(max(S_ref, 1e-5)) - log10(max(S_deg, 1e-5))|``.
    Lower is better; 0 for identical signals.
    """
    return float((log_mel(ref) - log_mel(deg)).abs().mean())


def si_sdr(ref: np.ndarray, deg: np.ndarray) -> float:
    """Scale-invariant SDR in dB of ``deg`` against ``ref``, both made zero-mean first."""
    r, d = ref.astype(np.float64) - ref.mean(), deg.astype(np.float64) - deg.mean()
    target = (d @ r) / max(r @ r, 1e-12) * r
    noise = d - target
    return float(10 * np.log10(max(target @ target, 1e-12) / max(noise @ noise, 1e-12)))


def pesq_wb(ref: np.ndarray, deg: np.ndarray) -> float | None:
    """PESQ wide-band (P.862.2) at 16 kHz, or None when PESQ refuses the file (e.g. no utterance found)."""
    pesq = _pesq_module()
    try:
        return float(pesq.pesq(SR, ref, deg, "wb"))
    except pesq.PesqError:
        return None


def stoi(ref: np.ndarray, deg: np.ndarray) -> float:
    """STOI (classic, not extended) at 16 kHz, between 0 and 1."""
    return float(_stoi_function()(ref, deg, SR, extended=False))


def dnsmos_ovrl(deg: np.ndarray) -> float:
    """DNSMOS P.835 overall quality (OVRL, about 1 to 5) of a 16 kHz signal, no reference needed (Reddy et al.
    2022, the ``speechmos`` package's models): the mean over 9 s windows a second apart (a shorter signal is
    repeated to 9 s), samples clipped to [-1, 1] as the models expect."""
    x = np.clip(np.asarray(deg, dtype=np.float32), -1.0, 1.0)
    return float(_dnsmos_module().run(x, SR)["ovrl_mos"])


def envelope(x: np.ndarray, width: int) -> np.ndarray:
    """Zero-mean amplitude envelope: ``|x|`` smoothed by a ``width``-sample moving average."""
    e = np.convolve(np.abs(x.astype(np.float64)), np.ones(width) / width, mode="same")
    return e - e.mean()


def estimate_delay(ref: np.ndarray, deg: np.ndarray, max_lag: int, sample_rate: int = SR) -> int | None:
    """Delay in samples of ``deg`` (positive: late), or None when it cannot be told.

    The lag within ``max_lag`` that maximises the normalised cross-correlation of the amplitude
    envelopes (5 ms moving average of ``|x|``, at ``sample_rate``; envelopes rather than waveforms so that
    parametric codecs, which do not keep the phase, are measured too). None when that peak is below
    ``MIN_ENVELOPE_CORR``. :func:`align` compensates it before the metrics.
    """
    width = int(ENVELOPE_S * sample_rate)
    a, b = envelope(ref, width), envelope(deg, width)
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    if norm == 0:
        return None
    n = 1 << int(np.ceil(np.log2(2 * len(ref))))
    xc = np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n) / norm
    lags = np.r_[0 : max_lag + 1, -max_lag:0]
    best = int(np.argmax(xc[lags]))
    return int(lags[best]) if xc[lags[best]] >= MIN_ENVELOPE_CORR else None


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` trimmed or zero-padded at the end to ``n`` samples."""
    return x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))


def align(deg: np.ndarray, delay: int | None, n: int) -> np.ndarray:
    """``deg`` advanced by ``delay`` samples (None: not shifted), trimmed or zero-padded to ``n`` samples."""
    if delay:
        deg = deg[delay:] if delay > 0 else np.pad(deg, (-delay, 0))
    return fit_length(deg, n)


def loudness_difference(ref: np.ndarray, deg: np.ndarray) -> float | None:
    """Integrated loudness of ``deg`` minus that of ``ref`` in dB (LU, ITU-R BS.1770 via pyloudnorm);
    None for signals too short (under 0.4 s) or too quiet to measure."""
    meter = _loudness_meter()
    if len(ref) < int(0.4 * SR) + 1:
        return None
    a, b = meter.integrated_loudness(ref.astype(np.float64)), meter.integrated_loudness(deg.astype(np.float64))
    return float(b - a) if np.isfinite(a) and np.isfinite(b) else None


def pitch_errors(ref: np.ndarray, deg: np.ndarray) -> tuple[float | None, float]:
    """F0 error and voicing-decision error of ``deg`` against ``ref``, both tracked by Praat at 10 ms.

    Returns:
        Mean absolute F0 difference in cents over frames voiced in both (None if there are none), and the
        fraction of frames on which the two voicing decisions differ.
    """
    from vqcodec.pitch.tracker import track_one

    frames = len(ref) // PITCH_HOP
    a, b = track_one(ref, SR, PITCH_HOP, frames), track_one(deg, SR, PITCH_HOP, frames)
    both = (a > 0) & (b > 0)
    cents = float(np.mean(np.abs(1200 * np.log2(b[both] / a[both])))) if both.any() else None
    return cents, float(np.mean((a > 0) != (b > 0))) if frames else 0.0


def compensated(ref: np.ndarray, deg: np.ndarray, sample_rate: int = SR) -> np.ndarray:
    """``deg`` shifted by its estimated delay against ``ref`` (within ``MAX_DELAY_S``) and fitted to its length:
    what every metric is computed on."""
    return align(deg, estimate_delay(ref, deg, int(MAX_DELAY_S * sample_rate), sample_rate), len(ref))
