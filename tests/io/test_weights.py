"""The exported model file: float16 parameters, statistics kept exactly (no float16 overflow)."""

from __future__ import annotations

import torch
from conftest import make_model

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
