"""The exported model file: float16 parameters, statistics kept exactly (no float16 overflow)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import make_model

from vqcodec.cli import main
from vqcodec.errors import ConfigError, UserError, VQCodecError
from vqcodec.io.weights import load_model, save_model


def test_export_keeps_statistics_beyond_float16_range(tmp_path):
    model = make_model()
    whiten = model.hierarchy.top_quantizer.layers[0].whiten
    with torch.no_grad():  # the shipped model's top variances reach ~9e4 (float16 stops at 65504)
        whiten.running_var.fill_(9e4)
        whiten.running_mean.fill_(300.0)
    save_model(model, tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    for name, buf in model.named_buffers():
        assert torch.equal(loaded.get_buffer(name), buf), name
    for name, p in model.named_parameters():  # parameters are stored as float16
        assert torch.equal(loaded.get_parameter(name), p.half().float()), name


def test_exported_model_codes_like_the_original(tmp_path):
    """Float16 parameters move codes only at near-ties: nearly all frames keep their code."""
    model = make_model()
    save_model(model, tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    x = torch.randn(2, 1, 40 * 50) * 0.1
    a, b = model.encode(x, 2, 3), loaded.encode(x, 2, 3)
    for ca, cb in zip(a, b, strict=True):
        assert (ca == cb).float().mean() > 0.9


def _rewrite(src, dst, config=None, drop_config=False):
    """A copy of the model file ``src`` with its config JSON replaced (or removed)."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(src), framework="pt") as f:
        meta = dict(f.metadata())
    if drop_config:
        del meta["config"]
    else:
        meta["config"] = json.dumps(config)
    save_file(load_file(str(src)), str(dst), metadata=meta)
    return dst


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"latent_dims": 16}, "unknown model config field 'latent_dims' (did you mean 'latent_dim'?)"),
        ({"strides": "4,5"}, "model config field 'strides' must be a list"),
        ({"n_top": 2.5}, "model config field 'n_top' must be a whole number"),
        ({"head": "wavenet"}, "model config field 'head' must be one of"),
        ({"latent_dim": 8}, "its weights do not fit its config"),
    ],
)
def test_bad_model_config_is_one_error_naming_the_field(tmp_path, capsys, edit, message) -> None:
    good = tmp_path / "good.safetensors"
    save_model(make_model(), good)
    config = {**json.loads(make_model().config.to_json()), **edit}
    bad = _rewrite(good, tmp_path / "bad.safetensors", config)
    with pytest.raises(VQCodecError, match=re.escape(message)):
        load_model(bad)
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(800, np.float32), 16000)
    assert main(["compress", str(wav), "-m", str(bad), "-q"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and str(bad) in err


def test_model_file_without_config_and_missing_fields(tmp_path) -> None:
    good = tmp_path / "good.safetensors"
    save_model(make_model(), good)
    with pytest.raises(ConfigError, match="holds no model config"):
        load_model(_rewrite(good, tmp_path / "none.safetensors", drop_config=True))
    # fields a file lacks take their defaults (files written before a field existed), as the shipped model's do
    config = json.loads(make_model().config.to_json())
    del config["restart_threshold"]
    assert load_model(_rewrite(good, tmp_path / "old.safetensors", config)).config == make_model().config


def test_errors_are_ours_and_standard() -> None:
    from vqcodec.io.container import ContainerError

    for error in (UserError, ConfigError, ContainerError):
        assert issubclass(error, VQCodecError) and issubclass(error, ValueError)
