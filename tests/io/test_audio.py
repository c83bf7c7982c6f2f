"""Tests for vqcodec.io.audio's readers: one mono reader at a rate, one recursive lister."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from conftest import speech_like

from vqcodec.io.audio import audio_files, read_mono
from vqcodec.resample import resample


def test_read_mono_averages_channels_and_resamples(tmp_path: Path) -> None:
    x = speech_like(0.5, 22050, seed=3)
    sf.write(tmp_path / "s.wav", np.stack([x, 0.5 * x], 1), 22050, subtype="FLOAT")
    mono = read_mono(tmp_path / "s.wav", 22050)
    assert mono.dtype == torch.float32 and mono.shape == (len(x),)
    torch.testing.assert_close(mono, torch.from_numpy(0.75 * x), rtol=0, atol=1e-6)
    torch.testing.assert_close(read_mono(tmp_path / "s.wav", 16000), resample(mono, 22050, 16000))


def test_audio_files_are_recursive_sorted_and_files_only(tmp_path: Path) -> None:
    for name in ("b/z.WAV", "a.flac", "b/c/y.ogg", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "folder.wav").mkdir()  # a folder named like audio is not a file
    assert audio_files(tmp_path) == [tmp_path / "a.flac", tmp_path / "b/c/y.ogg", tmp_path / "b/z.WAV"]
    assert audio_files(tmp_path, (".flac",)) == [tmp_path / "a.flac"]
