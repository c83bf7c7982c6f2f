"""Tests for vqcodec.train.prepare: manifests from tiny fake corpus trees of every layout."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vqcodec import cli
from vqcodec.io.corpus import COLUMNS, read_manifest
from vqcodec.train import prepare as prep
from vqcodec.train.data import list_audio, list_entries


def _tone(path: Path, rate: int, seconds: float = 0.05, channels: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(rate * seconds)) / rate
    x = 0.2 * np.sin(2 * np.pi * 220 * t)
    sf.write(path, np.stack([x] * channels, axis=1).astype(np.float32), rate)


def make_librispeech(root: Path) -> dict[str, int]:
    """5 speakers, 2 chapters x 2 utterances each (FLAC, 16 kHz); returns files per speaker."""
    speakers = {"19": 4, "26": 4, "103": 4, "1069": 4, "2002": 4}
    for spk in speakers:
        for chapter in ("198", "227"):
            for utt in range(2):
                _tone(root / "train-clean-100" / spk / chapter / f"{spk}-{chapter}-{utt:04d}.flac", 16000)
            (root / "train-clean-100" / spk / chapter / f"{spk}-{chapter}.trans.txt").write_text("TEXT\n")
    _tone(root / "train-clean-100" / "19" / "198" / "stray.flac", 16000)  # not in the layout: ignored
    (root / "SPEAKERS.TXT").write_text(
        ";ID  |SEX| SUBSET |MINUTES| NAME\n19 | F | train-clean-100 | 25.19 | A\n26 | M | train-clean-100 | 25.08 | B\n"
    )
    return speakers


def make_libritts(root: Path) -> dict[str, int]:
    speakers = {"14": 2, "16": 2, "17": 3}
    for spk, n in speakers.items():
        for i in range(n):
            _tone(root / "train-clean-100" / spk / "212" / f"{spk}_212_{i:06d}_000000.wav", 24000)
            (root / "train-clean-100" / spk / "212" / f"{spk}_212_{i:06d}_000000.normalized.txt").write_text("t")
    return speakers


def make_vctk(root: Path) -> dict[str, int]:
    speakers = {"p225": 4, "p226": 4, "p227": 2, "s5": 2}
    for spk, n in speakers.items():
        for i in range(n // 2):
            for mic in (1, 2):
                _tone(root / "wav48_silence_trimmed" / spk / f"{spk}_{i + 1:03d}_mic{mic}.flac", 48000)
    _tone(root / "other" / "p225" / "p225_001.wav", 48000)  # not under wav48*: ignored
    (root / "speaker-info.txt").write_text(
        "ID  AGE  GENDER  ACCENTS  REGION\np225  23  F  English  Southern\np226  22  M  English  Surrey\n"
    )
    return speakers


def make_ljspeech(root: Path) -> dict[str, int]:
    for i in range(10):
        _tone(root / "wavs" / f"LJ001-{i + 1:04d}.wav", 22050)
    (root / "metadata.csv").write_text("LJ001-0001|text|text\n")
    return {"LJ": 10}


def make_folder(root: Path) -> dict[str, int]:
    _tone(root / "alice" / "a.wav", 16000)
    _tone(root / "alice" / "b.flac", 44100, channels=2)
    _tone(root / "bob" / "x" / "c.wav", 8000)  # speaker: the folder holding the file
    _tone(root / "d.wav", 16000)  # directly under ROOT: speaker is ROOT's name
    (root / "notes.txt").write_text("not audio")
    return {"alice": 2, "x": 1, root.name: 1}


CORPORA = {
    "librispeech": make_librispeech,
    "libritts": make_libritts,
    "vctk": make_vctk,
    "ljspeech": make_ljspeech,
    "folder": make_folder,
}


@pytest.mark.parametrize("kind", sorted(CORPORA))
def test_prepare_each_layout(kind: str, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    speakers = CORPORA[kind](root)
    rows = prep.prepare(kind, root, valid_fraction=0.3, seed=0)
    manifest = root / "manifest.csv"
    with open(manifest, newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == COLUMNS
        written = list(reader)
    assert len(written) == len(rows) == sum(speakers.values())
    counts: dict[str, int] = {}
    for row in written:
        counts[row["speaker"]] = counts.get(row["speaker"], 0) + 1
        path = root / row["path"]
        assert path.is_file() and not Path(row["path"]).is_absolute()
        info = sf.info(str(path))
        assert int(row["sr"]) == int(row["orig_sr"]) == info.samplerate and int(row["frames"]) == info.frames
        assert float(row["duration_s"]) == pytest.approx(info.frames / info.samplerate, abs=1e-3)
        assert row["split"] in ("train", "valid")
    assert counts == speakers
    assert [r["path"] for r in written] == sorted(r["path"] for r in written)
    assert {r["split"] for r in written} == {"train", "valid"}
    train, valid = ({r["speaker"] for r in written if r["split"] == s} for s in ("train", "valid"))
    if len(speakers) > 1:
        assert not train & valid  # speaker-disjoint
    # the training code reads it: by folder (manifest.csv inside) and by the manifest path itself
    assert (
        list_audio(root, "valid")
        == list_audio(manifest, "valid")
        == [root / r["path"] for r in written if r["split"] == "valid"]
    )
    entries = list_entries(manifest, "train")
    assert all(e.frames > 0 and e.sample_rate > 0 for e in entries)


def test_prepare_metadata_and_layout_details(tmp_path: Path) -> None:
    make_librispeech(tmp_path / "ls")
    rows = {r["speaker"]: r for r in prep.prepare("librispeech", tmp_path / "ls")}
    assert rows["19"]["sex"] == "F" and rows["26"]["sex"] == "M" and rows["103"]["sex"] == ""
    assert rows["19"]["source"] == "librispeech" and rows["19"]["license"] == "CC-BY-4.0"
    make_vctk(tmp_path / "vctk")
    rows = {r["speaker"]: r for r in prep.prepare("vctk", tmp_path / "vctk")}
    assert rows["p225"]["sex"] == "F" and rows["p226"]["sex"] == "M" and set(rows) == {"p225", "p226", "p227", "s5"}
    make_folder(tmp_path / "f")
    rows = prep.prepare("folder", tmp_path / "f")
    assert {r["source"] for r in rows} == {"f"} and {int(r["sr"]) for r in rows} == {8000, 16000, 44100}


def test_split_is_speaker_disjoint_and_seeded() -> None:
    rng = np.random.default_rng(1)
    speakers = [f"s{int(i)}" for i in rng.integers(0, 100, 2000)]
    paths = [f"f{i:05d}.flac" for i in range(2000)]
    a = prep.assign_splits(paths, speakers, 0.1, seed=0)
    assert a == prep.assign_splits(paths, speakers, 0.1, seed=0)
    assert a != prep.assign_splits(paths, speakers, 0.1, seed=1)
    train = {s for s, x in zip(speakers, a, strict=True) if x == "train"}
    valid = {s for s, x in zip(speakers, a, strict=True) if x == "valid"}
    assert not train & valid and len(valid) == round(0.1 * len(set(speakers)))
    # at least one valid speaker, never all; none when the fraction is 0
    assert prep.assign_splits(paths[:3], ["a", "b", "c"], 0.01, 0).count("valid") == 1
    assert prep.assign_splits(paths[:2], ["a", "b"], 0.9, 0).count("train") == 1
    assert set(prep.assign_splits(paths, speakers, 0.0, 0)) == {"train"}
    # one speaker: a file-level split
    one = prep.assign_splits(paths[:100], ["lj"] * 100, 0.05, 0)
    assert one.count("valid") == 5
    assert one == prep.assign_splits(paths[:100], ["lj"] * 100, 0.05, 0)


def test_prepare_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "LJSpeech-1.1"
    make_ljspeech(root)
    out = tmp_path / "lists" / "lj.csv"  # elsewhere: paths are relative to the manifest
    assert cli.main(["prepare", "ljspeech", str(root), "-o", str(out), "--valid-fraction", "0.2", "--seed", "3"]) == 0
    assert "train: 8 files" in capsys.readouterr().out
    entries = read_manifest(out)
    assert entries[0].path == out.parent / "../LJSpeech-1.1/wavs/LJ001-0001.wav" and entries[0].path.is_file()
    assert sum(e.split == "valid" for e in entries) == 2
    assert cli.main(["prepare", "ljspeech", str(root), "-o", str(out)]) == 1  # refuses to replace without --force
    assert "already exists" in capsys.readouterr().err
    assert (
        cli.main(
            ["prepare", "ljspeech", str(root), "-o", str(out), "--force", "--seed", "3", "--valid-fraction", "0.2"]
        )
        == 0
    )
    assert read_manifest(out) == entries  # the same seed gives the same manifest
    assert cli.main(["prepare", "vctk", str(root), "-o", str(tmp_path / "x.csv")]) == 1  # no VCTK layout there
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no audio files in the vctk layout" in err
