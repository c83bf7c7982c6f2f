"""The general-audio recipe (recipes/general24k): its config loads with the documented rates, and the
data script's licence rules keep what its README says they keep."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import load_recipe_script

from vqcodec.pipeline.rates import ladder
from vqcodec.train.config import load_train_config

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "general24k"


@pytest.fixture(scope="module")
def prepare():
    yield from load_recipe_script(RECIPE / "prepare.py", "general24k_prepare")


def test_config_is_a_24k_non_pitch_model_with_the_documented_ladder() -> None:
    cfg = load_train_config(RECIPE / "config.json")
    m = cfg.model
    assert (m.sample_rate, m.hop, m.top_hop) == (24000, 320, 1280)  # 75 Hz bottom, 18.75 Hz top frames
    assert (m.head, m.pitch_bits, m.phase_terms) == ("istft", 0, 0)
    assert [r.kbps for r in ladder(m)] == [0.75 * (n + 1) for n in range(1, 16)]  # 1.5 to 12 kbps
    assert cfg.split == "train" and cfg.valid_split == "dev"  # dev is never trained on
    readme = " ".join((RECIPE / "README.md").read_text().split())
    assert "vqcodec train recipes/general24k/config.json" in readme
    assert "python recipes/general24k/prepare.py" in readme
    assert "1.5, 2.25, 3, 3.75, 4.5, 5.25, 6, 6.75, 7.5, 8.25, 9, 9.75, 10.5, 11.25, 12" in readme


@pytest.mark.parametrize(
    ("licence", "kind"),
    [
        ("CC0", "permissive"),
        ("public-domain", "permissive"),
        ("CC-BY-3.0", "permissive"),
        ("BSD-3-Clause and MIT", "permissive"),
        ("CC-BY-SA-3.0 or CC-BY-3.0", "permissive"),
        ("zlib or GPL-2 or CC-BY-3.0", "permissive"),
        ("GPL-2+", "copyleft"),
        ("GPL-2 and MIT", "copyleft"),
        ("CC-BY-SA-4.0", "copyleft"),
        ("CC-BY-NC-3.0", ""),
        ("CC-BY-SA-3.0 and CC-BY-NC-3.0", ""),
        ("", ""),
    ],
)
def test_licence_kinds(prepare, licence: str, kind: str) -> None:
    assert prepare.licence_kind(licence) == kind


def test_copyright_stanzas_license_only_files_of_the_named_folders(prepare, tmp_path: Path) -> None:
    copyright_file = tmp_path / "copyright"
    copyright_file.write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: someone\nLicense: GPL-3+\n\n"
        "Files: data/sfx/*\nCopyright: a\nLicense: CC-BY-SA-3.0\n\n"
        "Files:\n data/sfx/boing.ogg\n data/sfx/clock.ogg\nCopyright: b\nLicense: CC0\n text of the licence\n\n"
        "Files: data/music/song*.ogg\nCopyright: c\nLicense: CC-BY-4.0\n"
    )
    rules = prepare.dep5_licences(copyright_file, ("data/music", "data/sfx"))
    assert prepare.dep5_lookup(rules, "data/sfx/clock.ogg") == "CC0"  # the last matching stanza wins
    assert prepare.dep5_lookup(rules, "data/sfx/crash.ogg") == "CC-BY-SA-3.0"
    assert prepare.dep5_lookup(rules, "data/music/song_fast.ogg") == "CC-BY-4.0"
    assert prepare.dep5_lookup(rules, "data/music/other.ogg") == ""  # the catch-all '*' licenses no sound


def test_channels_are_kept_apart_unless_equal_or_silent(prepare) -> None:
    t = np.arange(24000) / 24000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    assert [s for s, _ in prepare.channels(np.stack([tone, -tone], 1))] == ["-L", "-R"]
    assert [s for s, _ in prepare.channels(np.stack([tone, tone], 1))] == [""]
    assert [s for s, _ in prepare.channels(np.stack([tone, tone * 1e-4], 1))] == ["-L"]  # -R under -60 dBFS
    assert prepare.channels(np.zeros((100, 1), np.float32)) == []


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_convert_writes_one_24k_flac_per_channel_and_its_manifest_rows(prepare, tmp_path: Path) -> None:
    t = np.arange(44100) / 44100
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 660 * t)], 1)
    wav = tmp_path / "in.wav"
    sf.write(str(wav), stereo, 44100)
    source = prepare.Source("tones", "none", "train", "", lambda: iter(()))
    item = prepare.Item("tone", "CC0", wav)
    out = tmp_path / "out"
    rows = prepare.convert(source, item, out, 24000, False, tmp_path)
    assert [r["path"] for r in rows] == ["train/tones/tone-L.flac", "train/tones/tone-R.flac"]
    for r in rows:
        info = sf.info(str(out / r["path"]))
        assert (info.samplerate, info.channels, info.frames) == (24000, 1, r["frames"]) and r["orig_sr"] == 44100
        assert abs(info.frames - 24000) <= 1 and r["license"] == "CC0" and r["split"] == "train"
    y, _ = sf.read(str(out / rows[1]["path"]))
    assert np.sqrt(np.mean(y**2)) == pytest.approx(0.2 / np.sqrt(2), rel=0.01)
    assert prepare.convert(source, item, out, 24000, False, tmp_path) == rows  # a rerun reuses the files


def test_the_gpu_recipe_is_the_same_model_in_longer_batches() -> None:
    base, gpu = load_train_config(RECIPE / "config.json"), load_train_config(RECIPE / "gpu.json")
    assert gpu.model == base.model and gpu.model.content == "general"
    assert gpu.batch_size == 64 and gpu.segment_frames * gpu.model.top_hop / gpu.model.sample_rate == 1.92
    readme = " ".join((RECIPE / "README.md").read_text().split())
    assert (
        "python recipes/gpu_subset.py gpu_data/general" in readme
        and "recipes/gpu.sh recipes/general24k/gpu.json" in readme
    )
