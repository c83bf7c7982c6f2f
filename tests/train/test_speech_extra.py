"""The speech-extra data recipe (recipes/speech-extra/prepare.py): which files it takes from a snapshot,
the dev-overlap and licence rules, and an end-to-end build from a small git repository made here (no
fetched data needed)."""

from __future__ import annotations

import csv
import dataclasses
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import load_recipe_script

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "speech-extra"


@pytest.fixture(scope="module")
def prepare():
    yield from load_recipe_script(RECIPE / "prepare.py", "speech_extra_prepare")


def test_speech_commands_names_give_the_speaker_and_noise_is_left_out(prepare) -> None:
    clip = prepare.parse_speech_commands("yes/0c540988_nohash_1.wav")
    assert (clip.speaker, clip.key) == ("0c540988", "yes/0c540988_nohash_1")
    unknown = prepare.parse_speech_commands("_unknown_/backward_0cb74144_nohash_2.wav.wav")
    assert (unknown.speaker, unknown.key) == ("0cb74144", "backward/0cb74144_nohash_2")
    for rel in ("_silence_/1024.wav", "_background_noise_/white_noise.wav", "LICENSE", "README.md"):
        assert prepare.parse_speech_commands(rel) is None


def test_voice_conversion_demo_keeps_only_the_real_recordings(prepare) -> None:
    src = prepare.parse_starganv2_vctk("Seen/F2M/p225xp259/source.wav")
    tgt = prepare.parse_starganv2_vctk("Seen/F2M/p225xp259/target.wav")
    assert (src.speaker, src.sex, tgt.speaker, tgt.sex) == ("p225", "F", "p259", "M")
    for synthesized in (
        "Seen/F2M/p225xp259/starganv2.wav",
        "Seen/F2M/p225xp259/autovc.wav",
        "Unseen/M2M/p287xp273/converted.wav",
        "Crosslingual/Korean/source.wav",  # not a VCTK speaker
        "Singing/p233/starganv2.wav",
    ):
        assert prepare.parse_starganv2_vctk(synthesized) is None


def test_vctk_names_give_speaker_sex_and_utterance(prepare) -> None:
    clip = prepare.parse_vctk("p228/p228_023.wav")
    assert (clip.speaker, clip.sex, clip.key) == ("p228", "F", "p228_023")
    assert prepare.parse_vctk("p334_047.wav").key == "p334_047"
    assert prepare.parse_vctk("wav48_silence_trimmed/p226/p226_001_mic1.flac").sex == "M"
    assert prepare.parse_vctk("p228/p228_023_converted.wav") is None
    assert prepare.parse_vctk("p228/speaker.npy") is None


def test_dev_speakers_and_excluded_corpora_are_never_trained_on(prepare, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "path,split,source,speaker\n"
        "dev/a.flac,dev,resemblyzer_librispeech,1183\n"
        "dev/b.flac,dev,ljspeech_part1,LJ\n"
        "train/c.flac,train,resemblyzer_librispeech,1034\n"
    )
    dev = prepare.dev_speakers(manifest)
    assert dev == {("librispeech", "1183"), ("ljspeech", "LJ")}
    assert prepare.dev_conflict("librispeech", "1183", dev)
    assert prepare.dev_conflict("librispeech", "5703", dev)  # ends in 3: the dev rule
    assert not prepare.dev_conflict("librispeech", "1034", dev)  # a train speaker may give more audio
    assert prepare.dev_conflict("ravdess", "actor01", dev)
    assert prepare.dev_conflict("fsdd", "george", dev)
    assert not prepare.dev_conflict("speechcommands", "0c540988", dev)
    assert prepare.dev_speakers(tmp_path / "missing.csv") == set()


def test_only_permissive_recording_licences_are_allowed(prepare) -> None:
    for ok in ("CC0-1.0", "public-domain", "CC-BY-4.0", "CC-BY-SA-4.0", "MIT", "Apache-2.0", "BSD-3-Clause"):
        assert prepare.licence_allowed(ok)
    for bad in ("CC-BY-NC-SA-4.0", "CC-BY-NC-4.0", "CC-BY-ND-4.0", "LDC", "unknown", ""):
        assert not prepare.licence_allowed(bad)
    assert all(prepare.licence_allowed(s.licence) for s in prepare.SOURCES)


def test_quality_join_and_chunks(prepare) -> None:
    rng = np.random.default_rng(0)
    speech = (rng.standard_normal(16000) * 3000).astype(np.int16)
    assert prepare.quality_ok(speech)
    assert not prepare.quality_ok((speech // 1000).astype(np.int16))  # about -60 dBFS
    clipped = speech.copy()
    clipped[:400] = 32767
    assert not prepare.quality_ok(clipped)

    joined = prepare.join([speech, speech])
    assert len(joined) == 32000 and joined.dtype == np.int16
    assert joined[0] == 0 and joined[15999] == 0 and joined[16000] == 0  # faded at every join
    assert np.array_equal(joined[1000:15000], speech[1000:15000])

    runs = prepare.chunks([16000] * 50, 30 * 16000)  # 50 s: two files of 25 s, not 30 + 20
    assert [len(r) for r in runs] == [25, 25]
    assert sum(runs, []) == list(range(50))
    assert prepare.chunks([40 * 16000, 16000], 30 * 16000) == [[0], [1]]
    assert prepare.chunks([], 100) == []


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_build_from_a_snapshot_writes_manifests_and_combines(prepare, tmp_path: Path) -> None:
    work = tmp_path / "work"
    rng = np.random.default_rng(1)
    files = {
        "data/yes/aaaaaaaa_nohash_0.wav": 16000,
        "data/no/aaaaaaaa_nohash_0.wav": 16000,
        "data/yes/bbbbbbbb_nohash_0.wav": 8000,  # 16 kHz, resampled from 8 kHz
        "data/_silence_/1.wav": 16000,
    }
    for rel, sr in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(work / rel, (rng.standard_normal(sr) * 0.1).astype(np.float32), sr, subtype="PCM_16")
    (work / "data/no/bbbbbbbb_nohash_0.wav").write_bytes((work / "data/yes/bbbbbbbb_nohash_0.wav").read_bytes())
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "data"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    mirrors = tmp_path / "mirrors"
    (mirrors / "someone+sc").mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirrors / "someone+sc" / "repo")], check=True)

    speech = tmp_path / "shared" / "speech"
    speech.mkdir(parents=True)
    (speech / "manifest.csv").write_text(
        "path,split,source,speaker,sex,lang,orig_sr,sr,duration_s,license\n"
        "train/x.flac,train,ljspeech_part1,LJ,F,en,22050,16000,1.0,public domain\n"
        "dev/y.flac,dev,ljspeech_part1,LJ,F,en,22050,16000,1.0,public domain\n"
        "extra/z.flac,extra,ravdess,actor01,F,en,48000,16000,1.0,CC-BY-NC-SA-4.0\n"
    )
    source = prepare.Source("sc", "someone/sc", commit, "data", "speechcommands", "CC-BY-4.0", "CC-BY-4.0 (test)", "en",
                            prepare.parse_speech_commands)  # fmt: skip
    out = tmp_path / "shared-data" / "speech-extra"
    out.mkdir(parents=True)
    log: list[str] = []
    rows = prepare.build(out, mirrors, speech, sources=(source,), log=log.append)

    assert [(r["path"], r["speaker"], r["frames"]) for r in rows] == [
        ("train/sc/aaaaaaaa.flac", "aaaaaaaa", 32000),
        ("train/sc/bbbbbbbb.flac", "bbbbbbbb", 16000),  # its copy under no/ is the same samples: once
    ]
    assert any("1 same samples" in line and "1 not a speech recording" in line for line in log)
    audio, sr = sf.read(out / "train/sc/bbbbbbbb.flac", dtype="int16")
    info = sf.info(out / "train/sc/bbbbbbbb.flac")
    assert (sr, info.format, info.subtype, len(audio)) == (16000, "FLAC", "PCM_16", 16000)
    with open(out / "manifest.csv", newline="") as f:
        manifest = list(csv.DictReader(f))
    assert manifest[1]["orig_sr"] == "8000" and manifest[0]["license"] == "CC-BY-4.0 (test)"
    with open(out / "clips.csv", newline="") as f:
        clips = list(csv.DictReader(f))
    assert [c["source_path"] for c in clips] == [
        "data/no/aaaaaaaa_nohash_0.wav",
        "data/yes/aaaaaaaa_nohash_0.wav",
        "data/no/bbbbbbbb_nohash_0.wav",
    ]
    assert clips[1]["offset_s"] == "1.000" and clips[0]["commit"] == commit
    with open(out / "combined.csv", newline="") as f:
        combined = list(csv.DictReader(f))
    assert [r["path"] for r in combined] == [
        "../../shared/speech/train/x.flac",
        "../../shared/speech/dev/y.flac",  # dev rows travel for validation; extra (non-commercial) does not
        "train/sc/aaaaaaaa.flac",
        "train/sc/bbbbbbbb.flac",
    ]

    source_gone = dataclasses.replace(source, commit="0" * 40)
    with pytest.raises(SystemExit, match="is missing"):
        prepare.build(out, mirrors, speech, sources=(source_gone,), log=log.append)
