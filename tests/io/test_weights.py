"""The exported model file: float16 parameters, statistics kept exactly (no float16 overflow)."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import make_model

from vqcodec.cli import main
from vqcodec.errors import ConfigError, UserError, VQCodecError
from vqcodec.io.weights import load_model, save_model, weights_hash


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


def test_int8_file_is_half_the_size_and_close(tmp_path):
    """int8 with a scale per output channel: large matrices within half a step of each row's peak / 127,
    codebooks, small tensors and statistics as a float16 file keeps them, and the model hash of what is read."""
    from vqcodec.io.weights import int8_names, weights_hash

    model = make_model(dataclasses.replace(make_model().config, decoder_dim=64))
    save_model(model, tmp_path / "h.safetensors")
    save_model(model, tmp_path / "q.safetensors", precision="int8")
    half, quarter = load_model(tmp_path / "h.safetensors"), load_model(tmp_path / "q.safetensors")
    names = int8_names(model)
    assert names and not any("codebook" in n for n in names)
    for name, p in model.named_parameters():
        got = quarter.get_parameter(name)
        if name in names:
            step = p.abs().flatten(1).amax(1).view(-1, *[1] * (p.ndim - 1)) / 127
            assert torch.all((got - p).abs() <= step / 2 + 1e-6 * step), name
            assert not torch.equal(got, p.half().float()) or p.abs().max() == 0
        else:
            assert torch.equal(got, half.get_parameter(name)), name
    for name, buf in model.named_buffers():
        assert torch.equal(quarter.get_buffer(name), buf), name
    assert weights_hash(load_model(tmp_path / "q.safetensors")) == weights_hash(quarter)
    stored = sum(p.numel() for n, p in model.named_parameters() if n in names)
    assert (tmp_path / "q.safetensors").stat().st_size < (tmp_path / "h.safetensors").stat().st_size - stored * 0.9


def test_unknown_precision_is_refused(tmp_path):
    with pytest.raises(ValueError, match="precision must be one of"):
        save_model(make_model(), tmp_path / "m.safetensors", precision="int4")


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


def test_pack_writes_the_shipping_precision(tmp_path, capsys):
    from vqcodec.train.pack import main as pack

    save_model(make_model(), tmp_path / "m.safetensors")
    pack([str(tmp_path / "m.safetensors"), "-o", str(tmp_path / "p.safetensors")])
    assert "int8" in capsys.readouterr().out
    assert load_model(tmp_path / "p.safetensors").config == make_model().config
    with pytest.raises(SystemExit, match="no such model file"):
        pack([str(tmp_path / "none.safetensors"), "-o", str(tmp_path / "x.safetensors")])
    assert not (tmp_path / "x.safetensors").exists()


def test_pack_names_the_model_without_changing_its_hash(tmp_path, capsys):
    from vqcodec.train.pack import main as pack

    save_model(make_model(), tmp_path / "m.safetensors")
    pack([str(tmp_path / "m.safetensors"), "-o", str(tmp_path / "a.safetensors")])
    pack([str(tmp_path / "m.safetensors"), "-o", str(tmp_path / "b.safetensors"), "--name", "renamed"])
    a, b = load_model(tmp_path / "a.safetensors"), load_model(tmp_path / "b.safetensors")
    assert b.config.name == "renamed" and a.config.name == make_model().config.name
    assert weights_hash(a) == weights_hash(b)


def test_damaged_int8_scales_are_one_error(tmp_path):
    """A scale that does not fit its int8 tensor (a crafted or damaged file) is one line naming the file."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    save_model(make_model(), tmp_path / "q.safetensors", precision="int8")
    with safe_open(str(tmp_path / "q.safetensors"), framework="pt") as f:
        meta = dict(f.metadata())
    state = load_file(str(tmp_path / "q.safetensors"))
    name = next(k for k in state if k.endswith(".int8_scale"))
    for bad in (state[name][:1], state[name].half().to(torch.int8)):
        save_file({**state, name: bad.contiguous()}, str(tmp_path / "bad.safetensors"), metadata=meta)
        with pytest.raises(UserError, match=r"bad\.safetensors: its weights are damaged"):
            load_model(tmp_path / "bad.safetensors")
