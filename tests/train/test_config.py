"""Tests for vqcodec.train.config: every recipe loads, and a recipe's mistakes are one error naming the field."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from conftest import TINY

from vqcodec import cli
from vqcodec.errors import ConfigError
from vqcodec.io.weights import load_model
from vqcodec.pretrained import default_model_path
from vqcodec.train import prepare as prep
from vqcodec.train.config import TrainConfig, load_train_config

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def test_every_recipe_loads_and_documents_its_commands() -> None:
    names = sorted(p.name for p in RECIPES.iterdir() if p.is_dir())
    assert {"speech16k", "librispeech", "libritts", "vctk", "ljspeech", "folder"} <= set(names)
    speech = load_train_config(RECIPES / "speech16k" / "config.json")
    assert speech.loader == "memory" and speech.valid_every == 0  # the shipped model's run is unchanged
    for name in names:
        if name == "general24k":  # the general-audio model: its own rate and data script (test_general24k.py)
            continue
        if not (RECIPES / name / "config.json").exists():  # a corpus only (speech-extra): its script, no model
            assert (RECIPES / name / "prepare.py").is_file() and (RECIPES / name / "README.md").is_file(), name
            continue
        cfg = load_train_config(RECIPES / name / "config.json")
        assert cfg.model.sample_rate == 16000
        readme = (RECIPES / name / "README.md").read_text()
        assert f"vqcodec train recipes/{name}/config.json" in readme, name
        if name != "speech16k":
            assert f"vqcodec prepare {name} " in readme, name
            assert name in prep.KINDS
    assert "benchmarks/train_throughput.py" in (RECIPES / "README.md").read_text()


def test_speech16k_recipes_build_the_shipped_model() -> None:
    """The last stage of the recipes that reproduce the shipped model (recipes/speech16k/README.md) must
    describe exactly its architecture and rates, up to the output gain the calibration after training sets;
    the earlier stages differ from it in the head, the number of decoder blocks, the pitch stream and the
    encoder's spectral input at most (a stage may grow or shrink the decoder, see ``freeze_codes``, add a pitch stream
    and add a spectral input)."""
    shipped = load_model(default_model_path()).config
    stages = (
        "config.json",
        "harmonic-0.json",
        "harmonic.json",
        "harmonic-2.json",
        "grow.json",
        "pitch-light-f0.json",
        "spectral.json",
        "gpu.json",
        "gpu-2.json",
        "gpu-3.json",
        "gpu-4.json",
        "small-decoder.json",
        "perceptual.json",
    )
    configs = [load_train_config(RECIPES / "speech16k" / name) for name in stages]
    assert dataclasses.replace(configs[-1].model, output_gain_db=shipped.output_gain_db) == shipped
    for cfg in configs:
        kept = {
            k: getattr(shipped, k) for k in ("head", "decoder_blocks", "pitch_bits", "output_gain_db", "encoder_mels")
        }
        assert dataclasses.replace(cfg.model, **kept) == shipped
        assert cfg.split == "train"  # the shipped weights never see dev/ or extra/


@pytest.mark.parametrize("name", ["gpu-5.json", "gpu-gan.json", "perceptual-2.json"])
def test_recipes_prepared_for_the_next_stage_start_from_the_shipped_model(name: str) -> None:
    """A recipe that continues from ``--init default`` must name the shipped architecture (gpu-gan.json named
    the 18-block decoder after the 6-block one shipped, and could not have started)."""
    shipped = load_model(default_model_path()).config
    cfg = load_train_config(RECIPES / "speech16k" / name)
    assert dataclasses.replace(cfg.model, output_gain_db=shipped.output_gain_db) == shipped
    assert cfg.split == "train" and cfg.perceptual_weight > 0  # stage 13's loss stays


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda r: r["model"].update(n_tops=r["model"].pop("n_top")),
            "unknown model config field 'n_tops' (did you mean 'n_top'?)",
        ),
        (lambda r: r["model"].update(strides=[8, 8]), "model config field 'encoder_channels' must have one width"),
        (lambda r: r["model"].update(codebook_size="1024"), "model config field 'codebook_size' must be a whole"),
        (lambda r: r["model"].update(readout_from=[4]), "model config field 'readout_from' must be empty or hold"),
        (lambda r: r["model"].update(bypass=1.5), "model config field 'bypass' must be between 0 and 1"),
        (lambda r: r.update(step=10), "unknown training config field 'step' (did you mean 'steps'?)"),
        (lambda r: r.update(lr="fast"), "training config field 'lr' must be a number"),
        (lambda r: r.update(model=[]), "model config must be a JSON object"),
        (lambda r: r.update(freeze_codes=True, encoder_only=True), "leave nothing to train"),
        (lambda r: r.update(augment_room=1.5), "augment_room must be between 0 and 1"),
        (lambda r: r.update(augment_snr_db=[30, 5]), "augment_snr_db must be [low, high] with low <= high"),
        (lambda r: r.update(augment_speed=-0.1), "augment_speed must be between 0 and 1"),
        (lambda r: r.update(augment_speed_range=[0.0, 1.1]), "augment_speed_range must be [low, high] with 0 < low"),
    ],
)
def test_recipe_mistakes_are_one_line_naming_the_field(tmp_path: Path, capsys, edit, message) -> None:
    recipe = json.loads((RECIPES / "speech16k" / "config.json").read_text())
    edit(recipe)
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    with pytest.raises(ConfigError, match=f"^{path}: "):
        load_train_config(path)
    out = tmp_path / "run"
    assert cli.main(["train", str(path), "--data", str(tmp_path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(path) in err
    assert not out.exists()  # refused before anything is made


def test_intelligibility_needs_segments_longer_than_stois_window() -> None:
    cfg = TrainConfig(model=TINY, segment_frames=2, intelligibility_weight=1.0)
    with pytest.raises(ConfigError, match="intelligibility_weight needs segments"):
        cfg.check()
    dataclasses.replace(cfg, intelligibility_weight=0.0).check()  # only the loss needs them
