"""Quality and speed of vqcodec against Opus and Codec2, on the same files in one run.

    python benchmarks/quality.py --data ../shared/speech/dev [--model PATH] [--limit N]
        [--out bench_out] [--rates 1,1.5,2,3,4,6]

Every codec codes each reference (mono, 16 kHz) and is decoded back to 16 kHz; the decoded signal is
trimmed or zero-padded at the end to the reference length (no delay compensation). Metrics are averaged
over files: PESQ-WB, STOI, log-mel distance and SI-SDR. Also reported: codebook usage of vqcodec at its
top rung, and the coding speed of vqcodec (3 kbps) against ``opusenc``/``opusdec`` (6 kbps).

Writes ``OUT/quality.md`` and ``OUT/quality.json``; prints the tables to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pesq
import soundfile as sf
import torch
import torchaudio
from pystoi import stoi

import vqcodec
from vqcodec.audio_io import read_audio
from vqcodec.codec import Codec, Rung
from vqcodec.compress import compress, decompress
from vqcodec.stats import code_histogram, codebook_stats

SR = 16000
AUDIO_SUFFIXES = (".flac", ".wav")
DEFAULT_RATES = "1,1.5,2,3,4,6"
OPUS_KBPS = (6, 8, 12)
CODEC2_MODES = ("3200", "1600", "700C")
SPEED_VQ_KBPS, SPEED_OPUS_KBPS = 3.0, 6
MAX_DELAY_S = 0.05  # search range of the (reported, never compensated) delay estimate
ENVELOPE_S = 0.005  # smoothing of the amplitude envelopes the delay is estimated on
MIN_ENVELOPE_CORR = 0.5  # files whose envelopes correlate less give no delay estimate


@dataclass(frozen=True)
class Coded:
    """One file through one codec: decoded audio at 16 kHz, coded size, and coding wall time."""

    audio: np.ndarray
    num_bytes: int
    seconds: float


@dataclass(frozen=True)
class Row:
    """One line of the quality table: a codec at one setting, averaged over the files.

    Attributes:
        codec: codec name.
        setting: its setting (rate or mode).
        real_kbps: total coded bytes * 8 / total audio seconds / 1000, container overhead included.
        pesq_wb: mean PESQ-WB over the files PESQ could score (None if none).
        stoi: mean STOI.
        log_mel: mean log-mel distance (see :func:`log_mel_distance`).
        si_sdr: mean SI-SDR in dB.
        delay_ms: median estimated delay of the decoded signal (positive = late) over the files with a
            reliable estimate (see :func:`estimate_delay`), None if none; reported, never compensated.
        files: number of files coded.
        pesq_skipped: files PESQ could not score.
        coding_seconds: wall time of encoding plus decoding over all files.
    """

    codec: str
    setting: str
    real_kbps: float
    pesq_wb: float | None
    stoi: float
    log_mel: float
    si_sdr: float
    delay_ms: float | None
    files: int
    pesq_skipped: int
    coding_seconds: float


@dataclass(frozen=True)
class LevelUsage:
    """Codebook health of one vqcodec level, over all files at the top rung."""

    level: str
    codebooks: int
    usage_mean: float
    usage_min: float
    perplexity_mean: float
    perplexity_min: float
    dead_mean: float
    dead_max: int
    per_codebook: tuple[dict, ...]


@dataclass
class Accumulator:
    """Per-file results of one codec setting, before averaging (lists in file order; PESQ None = skipped)."""

    codec: str
    setting: str
    num_bytes: int = 0
    seconds: float = 0.0
    pesq: list[float | None] = field(default_factory=list)
    stoi: list[float] = field(default_factory=list)
    log_mel: list[float] = field(default_factory=list)
    si_sdr: list[float] = field(default_factory=list)
    delay: list[int | None] = field(default_factory=list)


Coder = Callable[[np.ndarray, Path, Path], Coded]  # (reference, reference .wav, temp dir) -> Coded


# ---------------------------------------------------------------- files

def list_files(root: Path, limit: int | None) -> list[Path]:
    """Audio files under ``root`` (recursive, sorted); ``limit`` picks that many, evenly spaced.

    Args:
        root: folder to search for .flac and .wav files.
        limit: number of files to keep, or None for all.

    Returns:
        The sorted paths, or the subset at indices ``floor(i * n / limit)``.
    """
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise SystemExit(f"no .flac/.wav files under {root}")
    if limit is None or limit >= len(files):
        return files
    return [files[i * len(files) // limit] for i in range(limit)]


def load_reference(path: Path) -> np.ndarray:
    """A file as mono float32 at 16 kHz (channels averaged, resampled with torchaudio if needed)."""
    wav, sr = read_audio(path)
    mono = torch.from_numpy(wav.mean(axis=0))
    if sr != SR:
        mono = torchaudio.functional.resample(mono, sr, SR)
    return mono.numpy().astype(np.float32)


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` trimmed or zero-padded at the end to ``n`` samples."""
    return x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))


# ---------------------------------------------------------------- metrics

_MEL = torchaudio.transforms.MelSpectrogram(sample_rate=SR, n_fft=1024, hop_length=256, n_mels=80, power=2.0)


def log_mel_distance(ref: np.ndarray, deg: np.ndarray) -> float:
    """Mean absolute difference of log10 mel power spectrograms.

    ``S = MelSpectrogram(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=80, power=2.0)`` (torchaudio
    defaults otherwise: Hann window of 1024, centered frames, HTK mel scale, f_min 0, f_max 8 kHz, no
    normalization), then ``mean over mels and frames of |log10(max(S_ref, 1e-5)) - log10(max(S_deg, 1e-5))|``.
    Lower is better; 0 for identical signals.
    """
    s_ref, s_deg = (_MEL(torch.from_numpy(x)).clamp(min=1e-5).log10() for x in (ref, deg))
    return float((s_ref - s_deg).abs().mean())


def si_sdr(ref: np.ndarray, deg: np.ndarray) -> float:
    """Scale-invariant SDR in dB of ``deg`` against ``ref``, both made zero-mean first."""
    r, d = ref.astype(np.float64) - ref.mean(), deg.astype(np.float64) - deg.mean()
    target = (d @ r) / max(r @ r, 1e-12) * r
    noise = d - target
    return float(10 * np.log10(max(target @ target, 1e-12) / max(noise @ noise, 1e-12)))


def pesq_wb(ref: np.ndarray, deg: np.ndarray) -> float | None:
    """PESQ wide-band (P.862.2) at 16 kHz, or None when PESQ refuses the file (e.g. no utterance found)."""
    try:
        return float(pesq.pesq(SR, ref, deg, "wb"))
    except pesq.PesqError:
        return None


def envelope(x: np.ndarray, width: int) -> np.ndarray:
    """Zero-mean amplitude envelope: ``|x|`` smoothed by a ``width``-sample moving average."""
    e = np.convolve(np.abs(x.astype(np.float64)), np.ones(width) / width, mode="same")
    return e - e.mean()


def estimate_delay(ref: np.ndarray, deg: np.ndarray, max_lag: int) -> int | None:
    """Delay in samples of ``deg`` (positive: late), or None when it cannot be told.

    The lag within ``max_lag`` that maximises the normalised cross-correlation of the amplitude
    envelopes (5 ms moving average of ``|x|``; envelopes rather than waveforms so that parametric codecs,
    which do not keep the phase, are measured too). None when that peak is below ``MIN_ENVELOPE_CORR``.
    Only reported, to explain low SI-SDR; the metrics never shift the signal.
    """
    a, b = envelope(ref, int(ENVELOPE_S * SR)), envelope(deg, int(ENVELOPE_S * SR))
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    if norm == 0:
        return None
    n = 1 << int(np.ceil(np.log2(2 * len(ref))))
    xc = np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n) / norm
    lags = np.r_[0:max_lag + 1, -max_lag:0]
    best = int(np.argmax(xc[lags]))
    return int(lags[best]) if xc[lags[best]] >= MIN_ENVELOPE_CORR else None


def score(acc: Accumulator, ref: np.ndarray, deg: np.ndarray) -> None:
    """Add the metrics of one decoded file to ``acc``."""
    acc.pesq.append(pesq_wb(ref, deg))
    acc.stoi.append(float(stoi(ref, deg, SR, extended=False)))
    acc.log_mel.append(log_mel_distance(ref, deg))
    acc.si_sdr.append(si_sdr(ref, deg))
    acc.delay.append(estimate_delay(ref, deg, int(MAX_DELAY_S * SR)))


def median_delay_ms(delays: Sequence[int | None]) -> float | None:
    """Median of the known delays, in ms (None if no file gave one)."""
    known = [d for d in delays if d is not None]
    return float(np.median(known)) * 1000 / SR if known else None


def to_row(acc: Accumulator, total_seconds: float) -> Row:
    """Average an accumulator into a table row."""
    scored = [p for p in acc.pesq if p is not None]
    return Row(acc.codec, acc.setting, acc.num_bytes * 8 / total_seconds / 1000,
               float(np.mean(scored)) if scored else None, float(np.mean(acc.stoi)),
               float(np.mean(acc.log_mel)), float(np.mean(acc.si_sdr)),
               median_delay_ms(acc.delay), len(acc.stoi), len(acc.pesq) - len(scored), acc.seconds)


# ---------------------------------------------------------------- coders

def run_tool(args: Sequence[str | Path]) -> None:
    """Run an external tool, failing loudly with its stderr."""
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(str(a) for a in args)} failed ({done.returncode}): {done.stderr.strip()}")


def read_wav16k(path: Path) -> np.ndarray:
    """A decoded mono 16 kHz file as float32 (asserting the rate)."""
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    if sr != SR:
        raise RuntimeError(f"{path}: expected {SR} Hz, got {sr}")
    return data[:, 0]


def vqcodec_coder(codec: Codec, rung: Rung) -> Coder:
    """vqcodec through the bytes API; the time is in-process ``compress`` + ``decompress`` only."""
    def code(ref: np.ndarray, wav_path: Path, tmp: Path) -> Coded:
        t0 = time.perf_counter()
        data = compress(codec, ref[None], SR, rung.kbps)
        out, sr = decompress(codec, data)
        seconds = time.perf_counter() - t0
        assert sr == SR
        return Coded(out[0].numpy(), len(data), seconds)
    return code


def opus_coder(kbps: int) -> Coder:
    """``opusenc --bitrate K`` then ``opusdec --rate 16000``; size of the .opus file (Ogg included)."""
    def code(ref: np.ndarray, wav_path: Path, tmp: Path) -> Coded:
        enc, dec = tmp / "out.opus", tmp / "opus.wav"
        t0 = time.perf_counter()
        run_tool(["opusenc", "--quiet", "--bitrate", kbps, wav_path, enc])
        run_tool(["opusdec", "--quiet", "--rate", SR, enc, dec])
        seconds = time.perf_counter() - t0
        return Coded(read_wav16k(dec), enc.stat().st_size, seconds)
    return code


def codec2_coder(mode: str) -> Coder:
    """sox to 8 kHz s16 raw, ``c2enc``/``c2dec``, sox back to 16 kHz; time of c2enc + c2dec only.

    sox runs with ``-D`` (no dither) so that runs are repeatable. The size is the .c2 file's, its small
    header included.
    """
    raw = ["-t", "raw", "-r", "8000", "-e", "signed-integer", "-b", "16", "-c", "1"]

    def code(ref: np.ndarray, wav_path: Path, tmp: Path) -> Coded:
        pcm8k, enc, out8k, dec = tmp / "in8k.raw", tmp / "out.c2", tmp / "out8k.raw", tmp / "c2.wav"
        run_tool(["sox", "-D", wav_path, *raw, pcm8k])
        t0 = time.perf_counter()
        run_tool(["c2enc", mode, pcm8k, enc])
        run_tool(["c2dec", mode, enc, out8k])
        seconds = time.perf_counter() - t0
        run_tool(["sox", "-D", *raw, out8k, "-r", str(SR), "-e", "signed-integer", "-b", "16", dec])
        return Coded(read_wav16k(dec), enc.stat().st_size, seconds)
    return code


def vqcodec_rungs(codec: Codec, rates: Sequence[float]) -> list[Rung]:
    """The distinct ladder rungs serving ``rates`` (each the highest rung at or below its rate)."""
    return sorted({codec.rung(r) for r in rates}, key=lambda r: r.kbps)


def rung_label(rung: Rung) -> str:
    return f"{rung.kbps:g} kbps ({rung.n_top}t+{rung.n_bottom}b)"


# ---------------------------------------------------------------- the passes

def code_all(files: Sequence[Path], coders: dict[tuple[str, str], Coder]) -> list[Accumulator]:
    """Every file through every coder, scoring each decoded file against its reference.

    Args:
        files: the audio files.
        coders: ``(codec, setting) -> coder``; the order is the table's.

    Returns:
        One accumulator per coder, in order.
    """
    accs = {key: Accumulator(*key) for key in coders}
    with tempfile.TemporaryDirectory(prefix="vqc-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for i, path in enumerate(files, 1):
            ref = load_reference(path)
            log(f"[{i}/{len(files)}] {path.name} ({len(ref) / SR:.1f} s)")
            wav_path = tmp / "ref.wav"
            sf.write(wav_path, ref, SR, subtype="PCM_16")
            for key, coder in coders.items():
                coded = coder(ref, wav_path, tmp)
                accs[key].num_bytes += coded.num_bytes
                accs[key].seconds += coded.seconds
                score(accs[key], ref, fit_length(coded.audio, len(ref)))
    return list(accs.values())


def codebook_usage(codec: Codec, files: Sequence[Path]) -> list[LevelUsage]:
    """Histograms of every top and bottom codebook over all files, encoded at the top rung."""
    top_rung = codec.ladder()[-1]
    k = codec.config.codebook_size
    counts = {"top": torch.zeros(top_rung.n_top, k, dtype=torch.int64),
              "bottom": torch.zeros(top_rung.n_bottom, k, dtype=torch.int64)}
    for i, path in enumerate(files, 1):
        log(f"[codebooks {i}/{len(files)}] {path.name}")
        codes = codec.encode(load_reference(path)[None], SR, top_rung.kbps)
        for level, tensor in (("top", codes.top), ("bottom", codes.bottom)):
            for j in range(tensor.shape[1]):
                counts[level][j] += code_histogram(tensor[:, j], k)
    return [level_usage(level, c) for level, c in counts.items()]


def level_usage(level: str, counts: torch.Tensor) -> LevelUsage:
    """Summary of the codebooks of one level from their counts ``[n_codebooks, K]``."""
    stats = [codebook_stats(c) for c in counts]
    usage = [s.usage * 100 for s in stats]
    ppl = [s.perplexity for s in stats]
    dead = [s.dead for s in stats]
    per = tuple({"codebook": j, "usage_pct": u, "perplexity": p, "dead": d}
                for j, (u, p, d) in enumerate(zip(usage, ppl, dead, strict=True)))
    return LevelUsage(level, len(stats), float(np.mean(usage)), min(usage), float(np.mean(ppl)), min(ppl),
                      float(np.mean(dead)), max(dead), per)


def speed(accs: Sequence[Accumulator], files: Sequence[Path], total_seconds: float,
          vq: tuple[tuple[str, str], Coder], opus: tuple[tuple[str, str], Coder]) -> dict:
    """x-real-time of vqcodec (3 kbps rung) and Opus (6 kbps), reusing the quality pass's timings.

    If either was not part of the quality pass, it is timed alone over the same files.
    """
    done = {(a.codec, a.setting): a for a in accs}
    missing = {key: coder for key, coder in (vq, opus) if key not in done}
    if missing:
        log("timing " + ", ".join(" ".join(k) for k in missing) + " (not in the quality pass)")
        done.update({(a.codec, a.setting): a for a in code_all(files, missing)})
    vq_s, opus_s = done[vq[0]].seconds, done[opus[0]].seconds
    return {"vqcodec_setting": vq[0][1], "opus_setting": opus[0][1], "audio_seconds": total_seconds,
            "vqcodec_seconds": vq_s, "opus_seconds": opus_s,
            "vqcodec_xrt": total_seconds / vq_s, "opus_xrt": total_seconds / opus_s,
            "ratio_vqcodec_over_opus": vq_s / opus_s,
            "vqcodec_timing": "in-process vqcodec.compress.compress + decompress (bytes API), model on CPU, "
                              f"{torch.get_num_threads()} torch threads",
            "opus_timing": "opusenc + opusdec subprocesses (process start and temp files included)"}


# ---------------------------------------------------------------- report

def fmt(x: float | None, digits: int) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def quality_table(rows: Sequence[Row]) -> str:
    """The main markdown table."""
    lines = ["| codec | setting | real kbps | PESQ-WB | STOI | log-mel dist | SI-SDR |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        pesq_cell = fmt(r.pesq_wb, 3) + (f" ({r.pesq_skipped} skipped)" if r.pesq_skipped else "")
        lines.append(f"| {r.codec} | {r.setting} | {r.real_kbps:.2f} | {pesq_cell} | {r.stoi:.3f} | "
                     f"{r.log_mel:.3f} | {r.si_sdr:.2f} |")
    return "\n".join(lines)


def usage_table(levels: Sequence[LevelUsage], rung: Rung) -> str:
    """The codebook usage markdown table."""
    lines = [f"Codebook usage at the top rung ({rung_label(rung)}), histograms over all files:", "",
             "| level | codebooks | usage % mean | usage % min | perplexity mean | perplexity min "
             "| dead mean | dead max |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for lv in levels:
        lines.append(f"| {lv.level} | {lv.codebooks} | {lv.usage_mean:.1f} | {lv.usage_min:.1f} | "
                     f"{lv.perplexity_mean:.1f} | {lv.perplexity_min:.1f} | {lv.dead_mean:.1f} | {lv.dead_max} |")
    return "\n".join(lines)


def speed_line(s: dict) -> str:
    return (f"Speed: vqcodec {s['vqcodec_setting']} {s['vqcodec_xrt']:.1f}x real time "
            f"({s['vqcodec_timing']}); opus {s['opus_setting']} {s['opus_xrt']:.1f}x real time "
            f"({s['opus_timing']}); vqcodec/opus time ratio {s['ratio_vqcodec_over_opus']:.2f}.")


def delay_note(rows: Sequence[Row]) -> str:
    """A note on the settings whose output is delayed (which SI-SDR punishes) or too unlike the input to tell."""
    late = [f"{r.codec} {r.setting} {r.delay_ms:+.1f} ms" for r in rows
            if r.delay_ms is not None and abs(r.delay_ms) >= 0.5]
    unknown = [f"{r.codec} {r.setting}" for r in rows if r.delay_ms is None]
    parts = ["Delay of the decoded signal (median envelope cross-correlation lag; reported only, never "
             "compensated): " + ("; ".join(late) if late else "none above 0.5 ms") + "."]
    if unknown:
        parts.append(f"No estimate (envelope correlation below {MIN_ENVELOPE_CORR} on every file): "
                     + "; ".join(unknown) + ".")
    return " ".join(parts)


def report(meta: dict, rows: Sequence[Row], levels: Sequence[LevelUsage], top: Rung, spd: dict) -> str:
    """The whole markdown report."""
    return "\n".join([
        "# vqcodec quality benchmark", "",
        f"{meta['files']} files, {meta['total_seconds']:.1f} s of audio from `{meta['data']}`; "
        f"model `{meta['model']}`; {meta['date']}; {meta['machine']}.", "",
        f"Command: `{meta['command']}`", "",
        quality_table(rows), "",
        "Means over files. Real kbps = coded bytes * 8 / audio seconds, headers and containers included. "
        "Decoded signals trimmed/zero-padded at the end to the reference length, never shifted. "
        "Log-mel distance: mean |log10 mel power| difference (80 mels, n_fft 1024, hop 256; lower is better). "
        "vqcodec settings: ladder rung (top + bottom codebooks kept). "
        "Opus: opusenc default VBR at the given target, size of the Ogg file. "
        "Codec2: 8 kHz via sox, size of the .c2 file (header included).", "",
        delay_note(rows), "",
        usage_table(levels, top), "",
        speed_line(spd), "",
    ])


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- main

def warm_up(codec: Codec) -> None:
    """One compress/decompress of a second of noise, so that no timed call pays one-time setup costs."""
    noise = np.random.default_rng(0).normal(0, 0.05, SR).astype(np.float32)
    decompress(codec, compress(codec, noise[None], SR, SPEED_VQ_KBPS))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder of .flac/.wav files (searched recursively)")
    ap.add_argument("--model", type=Path, default=None, help="model .safetensors (default: the shipped model)")
    ap.add_argument("--limit", type=int, default=None, help="use N evenly spaced files")
    ap.add_argument("--out", type=Path, default=Path("bench_out"), help="output folder")
    ap.add_argument("--rates", default=DEFAULT_RATES, help="vqcodec rates in kbps, comma-separated")
    args = ap.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    if args.limit is not None and args.limit < 1:
        ap.error("--limit must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(2)
    codec = vqcodec.load(args.model)
    warm_up(codec)
    files = list_files(args.data, args.limit)
    total_seconds = sum(sf.info(str(f)).duration for f in files)
    log(f"{len(files)} files, {total_seconds:.1f} s; model {codec.name} ({codec.hash.hex()})")

    coders: dict[tuple[str, str], Coder] = {}
    for rung in vqcodec_rungs(codec, args.rates):
        coders["vqcodec", rung_label(rung)] = vqcodec_coder(codec, rung)
    for kbps in OPUS_KBPS:
        coders["opus", f"{kbps} kbps"] = opus_coder(kbps)
    for mode in CODEC2_MODES:
        coders["codec2", mode] = codec2_coder(mode)

    accs = code_all(files, coders)
    rows = [to_row(a, total_seconds) for a in accs]
    top = codec.ladder()[-1]
    levels = codebook_usage(codec, files)
    speed_vq = codec.rung(SPEED_VQ_KBPS)
    spd = speed(accs, files, total_seconds,
                (("vqcodec", rung_label(speed_vq)), vqcodec_coder(codec, speed_vq)),
                (("opus", f"{SPEED_OPUS_KBPS} kbps"), opus_coder(SPEED_OPUS_KBPS)))

    meta = {"command": shlex.join([sys.executable, *sys.argv]), "data": str(args.data),
            "model": str(args.model) if args.model else "shipped default",
            "model_name": codec.name, "model_hash": codec.hash.hex(), "files": len(files),
            "file_list": [str(f) for f in files], "total_seconds": total_seconds,
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": f"{platform.platform()}, {os.cpu_count()} CPUs", "torch": torch.__version__,
            "torch_threads": torch.get_num_threads()}
    text = report(meta, rows, levels, top, spd)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(text)
    result = {**meta, "rows": [dataclasses.asdict(r) for r in rows],
              "codebooks": {"rung": dataclasses.asdict(top), "levels": [dataclasses.asdict(lv) for lv in levels]},
              "speed": spd, "per_file": [dataclasses.asdict(a) for a in accs]}
    (args.out / "quality.json").write_text(json.dumps(result, indent=2) + "\n")
    print(text)
    log(f"wrote {args.out / 'quality.md'} and {args.out / 'quality.json'}")


if __name__ == "__main__":
    main()
