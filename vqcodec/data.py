"""Training data: random fixed-length segments of speech held in memory."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
import torchaudio.functional as AF

from vqcodec.audio_io import AUDIO_EXTENSIONS, read_audio


def list_audio(root: str | Path, split: str | None = None) -> list[Path]:
    """Audio files under ``root``; if ``root`` holds a ``manifest.csv`` with a ``split`` column, only
    that split's rows."""
    root = Path(root)
    manifest = root / "manifest.csv"
    if split and manifest.exists():
        with open(manifest, newline="") as f:
            return [root / row["path"] for row in csv.DictReader(f) if row["split"] == split]
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)


def load_corpus(paths: list[Path], sample_rate: int) -> list[np.ndarray]:
    """Each file as a mono int16 array at ``sample_rate`` (int16 halves the memory of float32)."""
    clips = []
    for p in paths:
        wav, sr = read_audio(p)
        x = torch.from_numpy(wav.mean(axis=0))
        if sr != sample_rate:
            x = AF.resample(x, sr, sample_rate)
        clips.append((x.clamp(-1, 1) * 32767).round().to(torch.int16).numpy())
    return clips


class SegmentSampler:
    """Draws batches of random segments, skipping near-silent ones and normalising loudness.

    Args:
        clips: mono int16 arrays.
        segment: samples per segment.
        seed: seed of the sampler's own generator (batches are reproducible).
        min_rms_db: segments quieter than this (dBFS) are redrawn.
        gain_db: target RMS range in dBFS; each segment is scaled to a random level in it.
    """

    def __init__(self, clips: list[np.ndarray], segment: int, seed: int = 0,
                 min_rms_db: float = -50.0, gain_db: tuple[float, float] = (-32.0, -16.0)):
        self.clips = [c for c in clips if len(c) >= segment]
        if not self.clips:
            raise ValueError(f"no clip is at least {segment} samples long")
        self.segment, self.min_rms_db, self.gain_db = segment, min_rms_db, gain_db
        self.rng = np.random.default_rng(seed)
        lengths = np.array([len(c) for c in self.clips], dtype=np.float64)
        self.weights = lengths / lengths.sum()

    def _draw(self) -> np.ndarray:
        for _ in range(20):
            clip = self.clips[self.rng.choice(len(self.clips), p=self.weights)]
            start = self.rng.integers(0, len(clip) - self.segment + 1)
            x = clip[start:start + self.segment].astype(np.float32) / 32768.0
            rms_db = 10 * np.log10(np.mean(x ** 2) + 1e-12)
            if rms_db > self.min_rms_db:
                break
        target = self.rng.uniform(*self.gain_db)
        return np.clip(x * 10 ** ((target - rms_db) / 20), -1.0, 1.0)

    def batch(self, size: int) -> torch.Tensor:
        """[size, 1, segment] float32."""
        return torch.from_numpy(np.stack([self._draw() for _ in range(size)]))[:, None]

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state
