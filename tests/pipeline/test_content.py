"""Tests for vqcodec.pipeline.content and the hint it drives: music compressed with the default (speech) model
is told, in one line, of the shipped general model; speech, a named model, --quiet, or no general model
shipped, and nothing is said."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import run_cli

from vqcodec import pretrained
from vqcodec.pipeline import content

SR = 16000


def _chord(seconds: float) -> np.ndarray:
    """Held notes (three tones and their harmonics), as music is: never quiet, changing slowly."""
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f * k * t) / k for f in (220.0, 277.2, 329.6) for k in range(1, 8))
    return (0.2 * x / np.abs(x).max()).astype(np.float32)


def _syllables(seconds: float) -> np.ndarray:
    """Bursts of 150 ms with gliding pitch, 100 ms apart, as speech is: pauses, and a spectrum on the move."""
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120 + 60 * np.sin(2 * np.pi * 1.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 20)) * ((t % 0.25) < 0.15)
    noise = np.random.default_rng(0).normal(0, 1e-3, len(t))
    return (0.2 * x / np.abs(x).max() + noise).astype(np.float32)


def test_held_notes_sound_like_music_and_syllables_do_not() -> None:
    assert content.sounds_like_music(_chord(5.0), SR) is True
    assert content.sounds_like_music(_syllables(5.0), SR) is False


def test_too_short_or_silent_is_not_judged() -> None:
    assert content.sounds_like_music(_chord(1.0), SR) is None
    assert content.sounds_like_music(np.zeros(5 * SR, np.float32), SR) is None


def test_an_unreadable_file_is_not_judged(tmp_path) -> None:
    (tmp_path / "x.wav").write_bytes(b"not audio")
    assert content.file_sounds_like_music(tmp_path / "x.wav") is None


@pytest.fixture(scope="module")
def two_shipped(tmp_path_factory, tiny_onnx) -> Path:
    """Shipped models: the tiny harmonic-head model as the default (speech), a tiny ``general`` one beside it."""
    from conftest import TINY, make_model

    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    folder = tmp_path_factory.mktemp("shipped")
    src = tiny_onnx["harmonic"].parent
    for path in src.glob("tinyh.*"):
        shutil.copy(path, folder / path.name.replace("tinyh.", "default."))
    shutil.copy(src / "tinyh.safetensors", folder)  # the graphs read their weights by this name
    manifest = json.loads((folder / "default.onnx.json").read_text())
    for key in ("encoder", "decoder", "weights"):
        manifest[key] = manifest[key].replace("tinyh.", "default.")
    (folder / "default.onnx.json").write_text(json.dumps(manifest))
    save_model(make_model(dataclasses.replace(TINY, name="tinyg", content="general")), folder / "tinyg.safetensors")
    export_file(folder / "tinyg.safetensors", folder)
    return folder


@pytest.fixture
def speech_and_general(two_shipped, monkeypatch) -> Path:
    monkeypatch.setattr(pretrained, "folder", lambda: two_shipped)
    assert pretrained.general().name == "tinyg" and pretrained.find("default").name == "tinyh"
    return two_shipped


@pytest.fixture
def clips(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / "song.wav", _chord(3.0), SR)
    sf.write(folder / "talk.wav", _syllables(3.0), SR)
    return folder


def test_music_with_the_default_model_is_one_line_naming_the_general_model(speech_and_general, clips, capsys) -> None:
    code, out, err = run_cli(capsys, "compress", str(clips / "song.wav"), "-o", str(clips / "s.vqc"))
    assert code == 0 and (clips / "s.vqc").is_file()
    assert err.count("\n") == 1 and "sounds like music" in err and "--model tinyg " in err, err


@pytest.mark.parametrize("extra", [["--model", "default"], ["--quiet"]])
def test_a_named_model_or_quiet_says_nothing(speech_and_general, clips, capsys, extra) -> None:
    code, _, err = run_cli(capsys, "compress", str(clips / "song.wav"), "-o", str(clips / "s.vqc"), *extra)
    assert code == 0 and "music" not in err


def test_speech_says_nothing(speech_and_general, clips, capsys) -> None:
    code, _, err = run_cli(capsys, "compress", str(clips / "talk.wav"), "-o", str(clips / "t.vqc"))
    assert code == 0 and "music" not in err


def test_a_folder_of_music_says_so_once(speech_and_general, clips, tmp_path, capsys) -> None:
    sf.write(clips / "song2.wav", _chord(3.0), SR)
    code, _, err = run_cli(capsys, "compress", str(clips), "-o", str(tmp_path / "out"))
    assert code == 0 and err.count("like music") == 1 and "2 of 3 files checked" in err, err


def test_without_a_general_model_music_says_nothing(two_shipped, clips, tmp_path, monkeypatch, capsys) -> None:
    """A package with the speech model alone (as before issue 26 shipped one): the hint has nothing to name."""
    alone = tmp_path / "alone"
    alone.mkdir()
    for path in two_shipped.iterdir():
        if not path.name.startswith("tinyg."):
            shutil.copy(path, alone / path.name)
    monkeypatch.setattr(pretrained, "folder", lambda: alone)
    assert pretrained.general() is None
    code, _, err = run_cli(capsys, "compress", str(clips / "song.wav"), "-o", str(clips / "s.vqc"))
    assert code == 0 and "music" not in err
