"""Validation during training: a fixed set of held-out segments coded by the model every few steps.

The set is chosen once, at the start of a run: ``n`` files evenly spaced over the (sorted) validation
list, from each the centred window of up to ``seconds`` (a whole number of top frames; files under
2048 samples are skipped), at the model rate and scaled to -24 dBFS RMS (the middle of the training
gain range). Each pass runs the model in eval mode (all codebooks, no dropout, no codebook updates, no
random numbers drawn), so a run with validation trains exactly like one without.

Per pass: the mean log-mel distance and SI-SDR (:mod:`vqcodec.analysis.metrics`, at 16 kHz) over the set, and per
level the mean usage and perplexity of the codes it chose, appended to ``OUT/valid.jsonl``; the first
``wavs`` decoded segments go to ``OUT/valid/step-N/NN.wav``, their references once to
``OUT/valid/reference/NN.wav``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from vqcodec.analysis.metrics import SR as METRICS_SR
from vqcodec.analysis.metrics import log_mel_distance, si_sdr
from vqcodec.analysis.stats import usage_fields
from vqcodec.errors import UserError
from vqcodec.io.audio import read_mono, write_audio
from vqcodec.nn.model import VQCodecModel
from vqcodec.resample import resample

LEVEL_DB = -24.0
MIN_SAMPLES = 2048


def load_segments(paths: list[Path], sample_rate: int, top_hop: int, n: int, seconds: float) -> list[np.ndarray]:
    """The fixed validation set: up to ``n`` mono float32 segments at ``sample_rate`` (see module doc)."""
    if not paths or n <= 0:
        return []
    picks = sorted({int(i) for i in np.linspace(0, len(paths) - 1, min(n, len(paths)))})
    longest = max(top_hop, int(seconds * sample_rate) // top_hop * top_hop)
    segments = []
    for i in picks:
        try:
            x = read_mono(paths[i], sample_rate).numpy().astype(np.float32)
        except UserError:
            continue
        length = min(longest, len(x) // top_hop * top_hop)
        if length < MIN_SAMPLES:
            continue
        start = (len(x) - length) // 2
        seg = x[start : start + length]
        rms_db = 10 * np.log10(np.mean(seg.astype(np.float64) ** 2) + 1e-12)
        segments.append(np.clip(seg * 10 ** ((LEVEL_DB - rms_db) / 20), -1, 1).astype(np.float32))
    return segments


class Validator:
    """Codes the fixed set with a model and records the result (see module doc).

    Args:
        segments: mono float32 arrays at the model rate, each a whole number of top frames.
        sample_rate: the model's rate.
        out: the run folder.
        wavs: how many decoded segments to write per pass.
    """

    def __init__(self, segments: list[np.ndarray], sample_rate: int, out: Path, wavs: int = 3):
        self.segments, self.sample_rate, self.out, self.wavs = segments, sample_rate, Path(out), wavs

    def _metric_rate(self, x: np.ndarray) -> np.ndarray:
        if self.sample_rate == METRICS_SR:
            return x
        return resample(torch.from_numpy(x), self.sample_rate, METRICS_SR).numpy()

    @torch.no_grad()
    def run(self, model: VQCodecModel, step: int) -> dict:
        """One pass; returns (and appends to ``OUT/valid.jsonl``) its row."""
        was_training = model.training
        device = next(model.parameters()).device
        c = model.config
        counts = {
            "top": torch.zeros(c.n_top, c.codebook_size, dtype=torch.int64),
            "bottom": torch.zeros(c.n_bottom, c.codebook_size, dtype=torch.int64),
        }
        mels, sdrs = [], []
        step_dir = self.out / "valid" / f"step-{step}"
        ref_dir = self.out / "valid" / "reference"
        model.eval()
        try:
            for i, ref in enumerate(self.segments):
                out = model(torch.from_numpy(ref)[None, None].to(device))
                deg = out.audio[0, 0].float().cpu().numpy()
                for level, health in out.metrics.items():  # the quantizers count their own codes
                    counts[level] += health["counts"].round().long().cpu()
                r, d = self._metric_rate(ref), self._metric_rate(deg)
                mels.append(log_mel_distance(r, d))
                sdrs.append(si_sdr(r, d))
                if i < self.wavs:
                    step_dir.mkdir(parents=True, exist_ok=True)
                    write_audio(step_dir / f"{i:02d}.wav", deg[None], self.sample_rate)
                    if not (ref_dir / f"{i:02d}.wav").exists():
                        ref_dir.mkdir(parents=True, exist_ok=True)
                        write_audio(ref_dir / f"{i:02d}.wav", ref[None], self.sample_rate)
        finally:
            model.train(was_training)
        row = {
            "step": step,
            "valid_mel": round(float(np.mean(mels)), 5),
            "valid_si_sdr": round(float(np.mean(sdrs)), 4),
            "valid_segments": len(self.segments),
            "valid_seconds": round(sum(len(s) for s in self.segments) / self.sample_rate, 3),
        }
        row.update(usage_fields(counts, prefix="valid_"))
        with open(self.out / "valid.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        return row
