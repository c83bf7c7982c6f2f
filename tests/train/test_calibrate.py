"""Output-level calibration: ``output_gain_db`` scales decoded audio exactly, and calibrating a model makes
its decoded speech as loud as its input, the same when run twice."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import TINY_PITCH, TOP_RUNG, make_model, speech_like

from vqcodec.analysis.metrics import loudness_difference
from vqcodec.codec import Codec
from vqcodec.io.weights import load_model, save_model
from vqcodec.nn.model import VQCodecModel
from vqcodec.train import calibrate


def test_output_gain_scales_decoding_but_not_the_training_pass() -> None:
    model = make_model(TINY_PITCH)
    louder = VQCodecModel.from_config(dataclasses.replace(TINY_PITCH, output_gain_db=20 * np.log10(2)))
    louder.load_state_dict(model.state_dict())
    louder.eval()
    x = torch.from_numpy(speech_like(0.5)[: 80 * 80])[None, None]
    top, bottom = model.encode(x, 2, 3)
    torch.testing.assert_close(louder.decode(top, bottom), 2 * model.decode(top, bottom))
    with torch.no_grad():
        torch.testing.assert_close(louder(x).audio, model(x).audio)


def test_calibration_matches_the_input_loudness_and_is_idempotent(tmp_path) -> None:
    for i in range(2):
        sf.write(tmp_path / f"{i}.wav", speech_like(1.0, seed=i), 16000)
    path = tmp_path / "m.safetensors"
    save_model(make_model(TINY_PITCH), path)
    args = [str(path), "--data", str(tmp_path), "--limit", "2", "--kbps", str(TOP_RUNG)]
    calibrate.main(args)
    gain = load_model(path).config.output_gain_db
    assert gain != 0
    codec = Codec(load_model(path))
    wav = speech_like(1.0, seed=0)
    after = loudness_difference(wav, codec.decode(codec.encode(wav, 16000, TOP_RUNG))[0].numpy())
    assert abs(after) < abs(gain)
    calibrate.main(args)
    assert load_model(path).config.output_gain_db == pytest.approx(gain, abs=0.011)


def test_calibration_over_several_rates_centres_their_mean(tmp_path) -> None:
    for i in range(2):
        sf.write(tmp_path / f"{i}.wav", speech_like(1.0, seed=i), 16000)
    path = tmp_path / "m.safetensors"
    gains = {}
    for rates in ([3.0], [TOP_RUNG], [3.0, TOP_RUNG]):
        save_model(make_model(TINY_PITCH), path)
        calibrate.main([str(path), "--data", str(tmp_path), "--limit", "2", "--kbps", *map(str, rates)])
        gains[len(rates), rates[-1]] = load_model(path).config.output_gain_db
    assert gains[1, 3.0] != pytest.approx(gains[1, TOP_RUNG], abs=0.02)
    assert gains[2, TOP_RUNG] == pytest.approx((gains[1, 3.0] + gains[1, TOP_RUNG]) / 2, abs=0.011)
