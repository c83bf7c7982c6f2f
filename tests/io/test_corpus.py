"""Tests for vqcodec.io.corpus: a manifest reads back as written, a split selects its rows, lengths come from the
headers (unreadable files dropped), and an evenly spaced subset samples every part of a list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vqcodec.errors import UserError
from vqcodec.io.corpus import AudioEntry, evenly_spaced, read_manifest, with_lengths, write_manifest


@pytest.mark.parametrize(
    ("n", "picked"), [(None, list(range(10))), (0, list(range(10))), (3, [0, 3, 6]), (4, [0, 2, 5, 7])]
)
def test_evenly_spaced(n: int | None, picked: list[int]) -> None:
    assert evenly_spaced(list(range(10)), n) == picked
    assert evenly_spaced(list(range(10)), 11) == list(range(10))


def test_manifest_round_trip_and_splits(tmp_path: Path) -> None:
    rows = [
        {"path": "a.wav", "split": "train", "speaker": "s1", "sr": 16000, "frames": 320},
        {"path": "sub/b.wav", "split": "valid", "speaker": "s2", "sr": 8000, "duration_s": 0.5},
    ]
    write_manifest(tmp_path / "m.csv", rows)
    entries = read_manifest(tmp_path / "m.csv")
    assert entries[0] == AudioEntry(tmp_path / "a.wav", "train", "s1", 16000, 320)
    assert entries[1].path == tmp_path / "sub" / "b.wav" and entries[1].frames == 4000 - 8  # a little short of 0.5 s
    assert [e.split for e in read_manifest(tmp_path / "m.csv", "valid")] == ["valid"]


def test_a_manifest_without_paths_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("file,split\na.wav,train\n")
    with pytest.raises(UserError, match="needs a 'path' column"):
        read_manifest(tmp_path / "m.csv")


def test_lengths_from_headers_and_unreadable_files_dropped(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", np.zeros(1234, np.float32), 22050)
    (tmp_path / "b.wav").write_bytes(b"not audio")
    entries = with_lengths([AudioEntry(tmp_path / "a.wav"), AudioEntry(tmp_path / "b.wav")])
    assert entries == [AudioEntry(tmp_path / "a.wav", sample_rate=22050, frames=1234)]
