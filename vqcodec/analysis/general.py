"""Quality on music and sounds, at the model's own rate (issue 26's measurement): excerpts of each file through
vqcodec's rungs and Opus, each decoding scored by

* **log-mel distance**, full band: 128 mels up to the rate's Nyquist frequency (the speech metric stops at 8 kHz);
* **SI-SDR** (dB);
* **ViSQOL v3, audio mode** (MOS-LQO, about 1 to 4.75): both signals resampled to 48 kHz, the rate its model
  was fitted at; from the optional ``visqol-python`` package, which bundles its SVR model (nothing is
  downloaded);
* **high band** (dB): the decoded signal's energy above ``HIGH_BAND_HZ`` against the reference's; 0 is kept,
  a codec that drops the band is tens of dB below;
* **tonal peaks** (dB): how far the decoded signal's spectral peaks stand above the spectrum between them,
  against the reference's (:func:`tonal_peaks_db`); 0 is as tonal as the reference. Below: partials smeared
  into noise under the right envelope. Above: peaks the reference lacks, such as a buzz at a decoder's frame
  rate (a comb at its multiples). ViSQOL and the log-mel distance hardly see either.

Every decoding's delay is compensated first, as for speech (:mod:`vqcodec.analysis.scoring`). The speech
metrics (PESQ-WB, STOI, F0, DNSMOS) stay in :mod:`vqcodec.analysis.quality`: none of them means anything on a
chord or a drum.
"""

from __future__ import annotations

import functools
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from vqcodec.analysis.metrics import compensated, si_sdr
from vqcodec.analysis.quality import Example
from vqcodec.analysis.reference_codecs import Coder, opus_coder
from vqcodec.analysis.scoring import mean_known
from vqcodec.analysis.vqcodec_coder import rung_label, vqcodec_coder
from vqcodec.errors import UserError
from vqcodec.io.audio import read_mono
from vqcodec.pipeline.coder import Coder as Pipeline
from vqcodec.pipeline.rates import Rung

HIGH_BAND_HZ = 6000.0  # above Opus's band at 6 kbps (4.5 kHz), within a 24 kHz model's 12 kHz
TONAL_MAX_HZ = 4000.0  # where partials are, and where Opus at 6 kbps still codes (its band ends at 4.5 kHz)
TONAL_WINDOW_S = 0.17  # 4096 points at 24 kHz: bins of 6 Hz, fine enough to part a low note's partials
TONAL_SMOOTH_HZ = 150.0  # the moving median a partial is measured above: wider than a partial, narrower than a formant
TONAL_FLOOR_DB = 50.0  # frames this far below the loudest are left out (silence has no partials)
VISQOL_SR = 48000
VISQOL_MIN_S = 1.0
MEL_BANDS = 128
OPUS_KBPS = (6, 12)  # the bar's rate, and twice it


@dataclass
class GeneralScores:
    """Per-excerpt results of one codec setting (lists in file order; ViSQOL None where not measured)."""

    codec: str
    setting: str
    num_bytes: int = 0
    seconds: float = 0.0
    log_mel: list[float] = field(default_factory=list)
    si_sdr: list[float] = field(default_factory=list)
    visqol: list[float | None] = field(default_factory=list)
    high_band_db: list[float | None] = field(default_factory=list)
    tonal_db: list[float | None] = field(default_factory=list)

    def row(self, total_seconds: float) -> dict:
        """The means as one table row; ``real_kbps`` counts every coded byte."""
        return {
            "codec": self.codec,
            "setting": self.setting,
            "real_kbps": self.num_bytes * 8 / total_seconds / 1000,
            "log_mel": float(np.mean(self.log_mel)),
            "si_sdr": float(np.mean(self.si_sdr)),
            "visqol": mean_known(self.visqol),
            "high_band_db": mean_known(self.high_band_db),
            "tonal_db": mean_known(self.tonal_db),
            "files": len(self.log_mel),
        }


def excerpt(path: Path | str, sample_rate: int, seconds: float | None) -> np.ndarray:
    """A file as mono float32 ``[T]`` at ``sample_rate``: its middle ``seconds`` (the whole file if shorter, or
    if ``seconds`` is None)."""
    x = read_mono(path, sample_rate).numpy().astype(np.float32)
    n = len(x) if seconds is None else min(len(x), int(round(seconds * sample_rate)))
    start = (len(x) - n) // 2
    return x[start : start + n]


@functools.cache
def _mel(sample_rate: int):
    import torchaudio

    n_fft = 1 << int(np.ceil(np.log2(0.064 * sample_rate)))  # 64 ms or just over: 1024 at 16 kHz, 2048 at 24
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=n_fft // 4, n_mels=MEL_BANDS, f_max=sample_rate / 2, power=2.0
    )


def log_mel_distance(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float:
    """Mean absolute difference of log10 mel power (128 HTK mels from 0 Hz to Nyquist, a Hann window of 64 ms
    or just over and a quarter of it as hop, floored at 1e-5) of two signals at ``sample_rate``."""

    def lm(x: np.ndarray) -> torch.Tensor:
        return _mel(sample_rate)(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).clamp(min=1e-5).log10()

    return float((lm(ref) - lm(deg)).abs().mean())


def high_band_db(ref: np.ndarray, deg: np.ndarray, sample_rate: int, cutoff: float = HIGH_BAND_HZ) -> float | None:
    """Energy of ``deg`` above ``cutoff`` Hz over that of ``ref``, in dB (None where the reference has
    essentially none there: below 1e-6 of its total energy, as a band-limited recording has)."""
    freqs = np.fft.rfftfreq(len(ref), 1 / sample_rate)
    power_ref = np.abs(np.fft.rfft(ref.astype(np.float64))) ** 2
    power_deg = np.abs(np.fft.rfft(deg.astype(np.float64))) ** 2
    band = freqs >= cutoff
    if power_ref[band].sum() < 1e-6 * max(power_ref.sum(), 1e-30):
        return None
    return float(10 * np.log10(max(power_deg[band].sum(), 1e-30) / power_ref[band].sum()))


def peak_prominence_db(x: np.ndarray, sample_rate: int) -> float | None:
    """How far the partials of ``x`` stand above the spectrum between them, in dB: per frame (Hann windows of
    ``TONAL_WINDOW_S``, half overlapping), the log spectrum up to ``TONAL_MAX_HZ`` minus its moving median over
    ``TONAL_SMOOTH_HZ``, its 95th percentile over bins; the median over frames within ``TONAL_FLOOR_DB`` of the
    loudest. None for a signal shorter than one window or silent."""
    from scipy.ndimage import median_filter

    n = 1 << int(np.round(np.log2(TONAL_WINDOW_S * sample_rate)))
    if len(x) < n:
        return None
    frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), n)[:: n // 2] * np.hanning(n)
    bins = int(TONAL_MAX_HZ * n / sample_rate)
    power = np.abs(np.fft.rfft(frames, axis=1)[:, 1 : bins + 1]) ** 2
    energy = power.sum(axis=1)
    if energy.max() <= 0:
        return None
    db = 10 * np.log10(power[energy >= energy.max() * 10 ** (-TONAL_FLOOR_DB / 10)] + 1e-20)
    width = max(3, int(TONAL_SMOOTH_HZ * n / sample_rate) | 1)
    above = db - median_filter(db, size=(1, width), mode="nearest")
    return float(np.median(np.percentile(above, 95, axis=1)))


def tonal_peaks_db(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float | None:
    """The decoded signal's peak prominence (:func:`peak_prominence_db`) minus the reference's: 0 is as tonal,
    negative is smeared, positive has peaks of its own (None where either cannot be measured)."""
    a, b = peak_prominence_db(ref, sample_rate), peak_prominence_db(deg, sample_rate)
    return None if a is None or b is None else b - a


def _visqol_module():
    try:
        import visqol
    except ImportError:
        raise UserError("ViSQOL needs the 'visqol-python' package: pip install 'vqcodec[music]'") from None
    return visqol


@functools.cache
def _visqol_api():
    api = _visqol_module().VisqolApi()
    api.create(mode="audio")
    return api


def visqol_audio(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float | None:
    """ViSQOL v3 MOS-LQO in audio mode, both signals resampled from ``sample_rate`` to 48 kHz first; None for
    a signal shorter than ``VISQOL_MIN_S`` (too few of its patches to compare: a 0.2 s effect)."""
    if len(ref) < VISQOL_MIN_S * sample_rate:
        return None
    from vqcodec.resample import resample

    def at48(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        return (t if sample_rate == VISQOL_SR else resample(t, sample_rate, VISQOL_SR)).double().numpy()

    return float(_visqol_api().measure_from_arrays(at48(ref), at48(deg), VISQOL_SR).moslqo)


def score(scores: GeneralScores, ref: np.ndarray, decoded: np.ndarray, sample_rate: int, visqol: bool) -> np.ndarray:
    """Add one decoding's metrics to ``scores``, its delay compensated; returns the aligned decoding."""
    deg = compensated(ref, decoded, sample_rate)
    scores.log_mel.append(log_mel_distance(ref, deg, sample_rate))
    scores.si_sdr.append(si_sdr(ref, deg))
    scores.visqol.append(visqol_audio(ref, deg, sample_rate) if visqol else None)
    scores.high_band_db.append(high_band_db(ref, deg, sample_rate))
    scores.tonal_db.append(tonal_peaks_db(ref, deg, sample_rate))
    return deg


def coders(
    codec: Pipeline, rungs: Sequence[Rung], opus_kbps: Sequence[int] = OPUS_KBPS
) -> dict[tuple[str, str], Coder]:
    """vqcodec at each rung and Opus at each rate, all at the model's rate, keyed ``(codec, setting)``."""
    rate = codec.config.sample_rate
    out: dict[tuple[str, str], Coder] = {("vqcodec", rung_label(r)): vqcodec_coder(codec, r, rate) for r in rungs}
    out.update({("opus", f"{k} kbps"): opus_coder(k, rate) for k in opus_kbps})
    return out


@dataclass(frozen=True)
class GeneralEvaluation:
    """What :func:`evaluate` measured: a row per coder (:meth:`GeneralScores.row`) in table order, the seconds
    of audio coded, and every decoding of the first files (for :func:`vqcodec.analysis.report.write_spectrograms`)."""

    rows: list[dict]
    seconds: float
    examples: list[Example]
    files: list[Path] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        """``seconds`` (the name :func:`vqcodec.analysis.report.run_meta` reads)."""
        return self.seconds


def evaluate(
    codec: Pipeline,
    files: Sequence[Path],
    rungs: Sequence[Rung],
    seconds: float | None = 10.0,
    opus_kbps: Sequence[int] = OPUS_KBPS,
    visqol: bool = True,
    examples: int = 2,
    on_file: Callable[[Example, dict[str, dict[str, str]]], None] | None = None,
) -> GeneralEvaluation:
    """Every file's excerpt (:func:`excerpt`) through every coder of :func:`coders`, scored; the decodings of the
    first ``examples`` files kept. ``on_file``: called after each file with its decodings and, per decoding
    (keyed ``"codec setting"``), its numbers as text (:func:`vqcodec.analysis.listen.general_metrics`), e.g.
    :meth:`vqcodec.analysis.listen.ListenPage.add_file`."""
    from vqcodec.analysis.listen import general_metrics

    if visqol:
        _visqol_module()  # fail before the long part, not after
    rate = codec.config.sample_rate
    table = coders(codec, rungs, opus_kbps)
    scores = {key: GeneralScores(*key) for key in table}
    total, shown = 0.0, []
    with tempfile.TemporaryDirectory(prefix="vqc-general-") as tmpdir:
        tmp = Path(tmpdir)
        for i, path in enumerate(files, 1):
            ref = excerpt(path, rate, seconds)
            total += len(ref) / rate
            print(f"[{i}/{len(files)}] {Path(path).name} ({len(ref) / rate:.1f} s)", file=sys.stderr, flush=True)
            sf.write(tmp / "ref.wav", ref, rate, subtype="PCM_16")
            example, numbers = Example(Path(path), ref), {}
            for key, coder in table.items():
                coded = coder(ref, tmp / "ref.wav", tmp)
                scores[key].num_bytes += coded.num_bytes
                scores[key].seconds += coded.seconds
                example.decoded[" ".join(key)] = score(scores[key], ref, coded.audio, rate, visqol)
                numbers[" ".join(key)] = general_metrics(coded.num_bytes, len(ref) / rate, scores[key])
            shown += [example] if i <= examples else []
            if on_file is not None:
                on_file(example, numbers)
    return GeneralEvaluation([s.row(total) for s in scores.values()], total, shown, [Path(f) for f in files])


def report(rows: Sequence[dict], command: str, model: str, total_seconds: float) -> str:
    """The rows as a markdown table, under the command that measured them."""

    def f(v: float | None, digits: int) -> str:
        return "–" if v is None else f"{v:.{digits}f}"

    lines = [
        f"`{command}`",
        "",
        f"Model {model}; {rows[0]['files'] if rows else 0} excerpts, {total_seconds:.1f} s of audio; every decoding's "
        f"delay compensated. High band: energy above {HIGH_BAND_HZ / 1000:g} kHz against the reference's. Tonal "
        f"peaks: how far partials below {TONAL_MAX_HZ / 1000:g} kHz stand above the spectrum between them, against "
        "the reference's (0: as tonal; below: smeared into noise; above: peaks of its own, e.g. a frame-rate buzz).",
        "",
        "| codec | setting | real kbps | ViSQOL (audio) | log-mel dist | SI-SDR (dB) | high band (dB) "
        "| tonal peaks (dB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['codec']} | {r['setting']} | {r['real_kbps']:.2f} | {f(r['visqol'], 2)} | {r['log_mel']:.3f} | "
            f"{r['si_sdr']:.1f} | {f(r['high_band_db'], 1)} | {f(r.get('tonal_db'), 1)} |"
        )
    return "\n".join(lines) + "\n"
