"""Distilling a cheaper encoder: the student is the teacher but for its waveform encoder, a student that
computes what the teacher computes has no loss and codes alike, training lowers the loss, and a run
resumes where its checkpoint left it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import TINY, make_model

from vqcodec.errors import UserError
from vqcodec.io.weights import load_model, save_model
from vqcodec.train import distill

TEACHER = dataclasses.replace(TINY, encoder_mels=8, encoder_blocks=1)
STUDENT = {"encoder_channels": [16], "strides": [20], "encoder_blocks": 2}


def _speechlike(seconds: float, seed: int, sr: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t) ** 2)
    return (0.1 * x + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def test_student_keeps_everything_but_the_waveform_encoder():
    teacher = make_model(TEACHER)
    student = distill.make_student(teacher, STUDENT)
    assert student.config.strides == (20,) and student.config.encoder_blocks == 2
    theirs, ours = teacher.state_dict(), student.state_dict()
    for k, v in ours.items():
        if k.startswith(("hierarchy.", "decoder.", "encoder.spectral.")):
            assert torch.equal(v, theirs[k]), k
    # the conv to the latent and the first ConvNeXt block are the teacher's, the new block adds nothing yet
    t_last, s_last = len(teacher.encoder.net) - 2, len(student.encoder.net) - 3
    assert torch.equal(student.encoder.net[s_last].weight, teacher.encoder.net[t_last].weight)
    assert torch.equal(student.encoder.net[s_last + 1].pw1.weight, teacher.encoder.net[t_last + 1].pw1.weight)
    assert torch.count_nonzero(student.encoder.net[s_last + 2].scale) == 0


def test_a_student_that_replaces_the_first_layers_keeps_the_teachers_others():
    """A student whose faster front ends where the teacher's sample-rate layers end starts with the teacher's
    layers after it (the same kind and shapes, counted back from the conv to the latent)."""
    teacher = make_model(dataclasses.replace(TEACHER, encoder_channels=(8, 16, 16), strides=(2, 2, 5)))
    student = distill.make_student(teacher, {"encoder_channels": [16, 16], "strides": [4, 5], "encoder_blocks": 1})
    t, s = teacher.encoder.net, student.encoder.net
    for ours, theirs in ((1, 3), (2, 4), (3, 5), (4, 6)):  # ResUnit, Downsample, conv, ConvNeXt block
        assert all(torch.equal(v, t[theirs].state_dict()[k]) for k, v in s[ours].state_dict().items())
    assert s[0].conv.weight.shape != t[2].conv.weight.shape  # the new stem


def test_a_student_that_is_the_teacher_has_no_loss_and_codes_alike():
    teacher = make_model(TEACHER)
    same = {"encoder_channels": list(TEACHER.encoder_channels), "strides": list(TEACHER.strides), "encoder_blocks": 1}
    student = distill.make_student(teacher, same)
    student.encoder.load_state_dict(teacher.encoder.state_dict())
    wav = torch.from_numpy(_speechlike(0.4, 0))[None, None, : 16 * TEACHER.top_hop]
    loss, metrics = distill.distill_loss(teacher, student, wav)
    assert float(loss.detach()) == 0.0
    assert metrics["agree_top"] == 1.0 and metrics["agree_bottom"] == 1.0
    other = distill.make_student(teacher, STUDENT)
    loss, _ = distill.distill_loss(teacher, other, wav)
    assert float(loss.detach()) > 0.0


def test_the_hop_must_stay_the_teachers():
    with pytest.raises(UserError, match="multiply to the teacher's hop"):
        distill.make_student(make_model(TEACHER), {**STUDENT, "strides": [10]})


def test_a_recipe_with_an_unknown_encoder_field_is_refused(tmp_path: Path):
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({"encoder": {"latent_dim": 8}}))
    with pytest.raises(UserError, match="unknown field 'latent_dim'"):
        distill.DistillConfig.from_json(recipe)


def _run(tmp_path: Path, steps: int, resume: bool = False) -> list[dict]:
    data = tmp_path / "data"
    if not data.exists():
        data.mkdir()
        for i in range(3):
            sf.write(str(data / f"{i}.wav"), _speechlike(1.0, i), 16000)
        save_model(make_model(TEACHER), tmp_path / "teacher.safetensors", precision="float32")
    config = distill.DistillConfig(
        encoder=STUDENT, steps=steps, batch_size=4, segment_frames=8, lr=3e-3, warmup=2, log_every=1, ckpt_every=5
    )
    out = tmp_path / "out"
    distill.train(config, str(tmp_path / "teacher.safetensors"), str(data), out, threads=1, resume=resume)
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_training_lowers_the_loss_and_resumes(tmp_path: Path):
    rows = _run(tmp_path, 10)
    first, last = np.mean([r["loss"] for r in rows[:3]]), np.mean([r["loss"] for r in rows[-3:]])
    assert last < first
    student = load_model(tmp_path / "out" / "model.safetensors")
    assert student.config.strides == (20,)
    rows = _run(tmp_path, 15, resume=True)
    assert [r["step"] for r in rows] == list(range(1, 16))  # steps 11-15 appended after the first run's
