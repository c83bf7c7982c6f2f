"""Tests for vqcodec.analysis.references: which files a measurement runs on, and how they are read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vqcodec.analysis.references import list_files, load_reference
from vqcodec.errors import UserError


def test_list_files_sorted_recursive_and_evenly_spaced(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    names = [f"{i:02d}.wav" for i in range(10)]
    for i, name in enumerate(names):
        sf.write(tmp_path / ("sub" if i % 2 else "") / name, np.zeros(160, np.float32), 16000)
    (tmp_path / "notes.txt").write_text("not audio")
    every = list_files(tmp_path, None)
    assert [p.name for p in every] == sorted(names, key=lambda n: (int(n[:2]) % 2, n))  # paths sort by folder
    assert list_files(tmp_path, 4) == [every[0], every[2], every[5], every[7]]  # floor(i * 10 / 4)
    assert list_files(tmp_path, 50) == every
    assert list_files(every[3], 2) == [every[3]]  # a file is its own list


def test_list_files_of_a_folder_without_audio_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("")
    with pytest.raises(UserError, match="no .* files under"):
        list_files(tmp_path, None)


def test_load_reference_is_mono_float32_at_the_metrics_rate(tmp_path: Path) -> None:
    t = np.arange(8000) / 8000
    left = 0.5 * np.sin(2 * np.pi * 200 * t)
    sf.write(tmp_path / "s.wav", np.stack([left, 0 * left], 1), 8000)
    x = load_reference(tmp_path / "s.wav")
    assert x.dtype == np.float32 and x.shape == (16000,)
    assert abs(np.abs(x).max() - 0.25) < 0.01  # the channels averaged
