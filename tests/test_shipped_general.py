"""The shipped general-audio model (issue 26): found beside the speech model without displacing it, its graphs,
tables and weights belong together, and a file of music goes through the CLI on both runtimes and comes back
at the model's 24 kHz, named in the .vqc so that decompress needs no flag."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import run_cli

from vqcodec import entropy, pretrained
from vqcodec.backends.exported import file_sha256, read_manifest
from vqcodec.entropy import tables as T

SR = 24000


@pytest.fixture(scope="module")
def general() -> pretrained.Shipped:
    found = pretrained.general()
    assert found is not None, "no general model is shipped: recipes/general24k/ship.sh MODEL"
    return found


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    """3 s of held chords with a drum-like noise burst every half second, 24 kHz stereo."""
    t = np.arange(3 * SR) / SR
    notes = sum(np.sin(2 * np.pi * f * k * t) / k for f in (196.0, 246.9, 293.7) for k in range(1, 6))
    hits = np.random.default_rng(0).normal(0, 1, len(t)) * np.exp(-30 * (t % 0.5))
    x = 0.15 * notes / np.abs(notes).max() + 0.05 * hits
    path = tmp_path_factory.mktemp("song") / "song.wav"
    sf.write(path, np.stack([x, np.roll(x, 240)], 1).astype(np.float32), SR)
    return path


def test_general_model_ships_beside_the_default_speech_model(general) -> None:
    assert (general.name, general.config.sample_rate, general.config.pitch_bits) == ("ga24k", SR, 0)
    assert not general.is_default and pretrained.find("default").config.content == "speech"
    assert [m.name for m in pretrained.shipped()][0] == "sp16k"
    assert "ga24k (24000 Hz)" in pretrained.listing()


def test_general_graphs_and_tables_come_from_its_weights(general) -> None:
    """Fails when its weights change alone: re-run recipes/general24k/ship.sh."""
    m = read_manifest(general.manifest)
    assert m.weights == general.weights and m.weights_sha256 == file_sha256(general.weights)
    tables = T.load(general.weights.with_name(general.stem + entropy.TABLES_SUFFIX))
    assert tables.model_hash == general.model_hash
    assert [len(level) for level in tables.levels] == [s.codebooks for s in general.config.streams]


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_music_round_trip_through_the_cli(general, song, tmp_path, capsys, runtime) -> None:
    vqc, out = tmp_path / "song.vqc", tmp_path / "back.wav"
    code, _, err = run_cli(capsys, "compress", song, "-o", vqc, "--model", "ga24k", "-b", "6", "--runtime", runtime)
    assert code == 0, err
    code, info, err = run_cli(capsys, "info", vqc)
    assert code == 0 and "ga24k" in info, err
    code, _, err = run_cli(capsys, "decompress", vqc, "-o", out, "--runtime", runtime)
    assert code == 0, err
    x, sr = sf.read(song, dtype="float32")
    y, sr_out = sf.read(out, dtype="float32")
    assert sr_out == sr == SR and y.shape == x.shape
    assert vqc.stat().st_size * 8 / 3.0 < 2 * 6000  # two channels, entropy-coded below the 6 kbps rung each
    assert 0.3 < np.sqrt(np.mean(y**2) / np.mean(x**2)) < 3.0  # sound, at about the level it went in


def test_training_continues_from_the_shipped_weights_by_name(general) -> None:
    """``vqcodec train RECIPE --init ga24k``: the next stage starts from exactly the weights that ship."""
    from vqcodec.errors import UserError
    from vqcodec.io.weights import weights_hash
    from vqcodec.nn.model import VQCodecModel
    from vqcodec.train.warm_start import init_from

    model = VQCodecModel.from_config(general.config)
    init_from(model, "ga24k")
    assert weights_hash(model) == general.model_hash
    with pytest.raises(UserError, match="ga24k"):
        init_from(model, "no-such-model")
