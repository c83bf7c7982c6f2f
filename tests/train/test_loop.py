"""Tests for vqcodec.train.loop (with vqcodec.train.config, data and validate as the loop uses them): a few tiny
steps, checkpoints, exact resume, the validation pass, collapse warnings, progress, the streaming loader in a
run, --amp/--compile on CPU, and resuming checkpoints written before these features existed."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import TINY

from vqcodec import cli
from vqcodec.errors import UserError

# The training losses use STFTs of up to 2048 points, so a segment must be over 1024 samples: this tiny
# model has top_hop 640, and 2 top frames make a 1280-sample segment.
from vqcodec.io.corpus import write_manifest
from vqcodec.io.weights import load_model
from vqcodec.nn.config import ModelConfig
from vqcodec.nn.model import VQCodecModel
from vqcodec.nn.quantizer import FactorizedVQ
from vqcodec.train.config import TrainConfig, load_train_config
from vqcodec.train.data import SegmentSampler, list_audio, load_corpus
from vqcodec.train.loop import WARNING, CollapseWatch, Trainer, progress_bar, run, show_row
from vqcodec.train.losses import CodeSpectrumLoss

TRAIN_MODEL = dataclasses.replace(TINY, name="tinytrain", strides=(16, 20))


CFG = TrainConfig(
    model=TRAIN_MODEL, steps=4, batch_size=2, segment_frames=2, ckpt_every=2, log_every=1, warmup=1, commit_warmup=2
)


def _recipe_dict(cfg: TrainConfig) -> dict:
    return json.loads(cfg.to_json())


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three synthetic clips (sine sweeps plus noise) at different rates and channel counts."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for i, (rate, channels, seconds) in enumerate([(16000, 1, 0.5), (22050, 2, 0.4), (8000, 1, 0.6)]):
        t = np.arange(int(rate * seconds)) / rate
        f = 100 * (i + 1) + 1500 * t / seconds  # Hz, rising
        sweep = 0.3 * np.sin(2 * np.pi * np.cumsum(f) / rate) + 0.02 * rng.standard_normal(len(t))
        wav = np.stack([sweep] * channels).astype(np.float32)
        sf.write(root / f"clip{i}.wav", wav.T, rate)
    (root / "readme.txt").write_text("not audio")
    return root


def test_train_a_few_steps(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    trainer = run(CFG, data_dir, out, resume=False, init=None)
    assert isinstance(trainer, Trainer) and trainer.step == CFG.steps

    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    for r in rows:
        for key in ("loss", "mel", "spectral", "commit", "codebook", "grad"):
            assert math.isfinite(r[key]), (key, r)
        assert 0 < r["top_usage"] <= 1 and 1 <= r["top_perplexity"] <= TRAIN_MODEL.codebook_size
        # the quantizers' own restart reports, logged (restart_every is 50 steps: none in 4)
        assert r["top_restarts"] == r["bottom_restarts"] == 0

    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == CFG.steps
    assert json.loads(ckpt["config"]) == _recipe_dict(CFG)
    model = load_model(out / "model.safetensors")
    assert model.config == TRAIN_MODEL and not model.training
    params = {name for name, _ in trainer.model.named_parameters()}
    for name, value in model.state_dict().items():  # the export: parameters in float16, statistics exact
        trained = trainer.model.state_dict()[name]
        assert torch.equal(value, trained.half().float() if name in params else trained), name
    assert json.loads((out / "config.json").read_text()) == _recipe_dict(CFG)
    x = torch.zeros(1, 1, TRAIN_MODEL.top_hop * 2)
    assert model(x).audio.shape == x.shape


def test_resume_is_bit_exact(data_dir: Path, tmp_path: Path) -> None:
    straight = run(CFG, data_dir, tmp_path / "a", resume=False, init=None)

    half = run(dataclasses.replace(CFG, steps=CFG.steps // 2), data_dir, tmp_path / "b", resume=False, init=None)
    assert half.step == CFG.steps // 2
    resumed = run(CFG, data_dir, tmp_path / "b", resume=True, init=None)
    assert resumed.step == CFG.steps

    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    ca = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    cb = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(ca["model"][k], cb["model"][k]) for k in ca["model"])
    assert ca["sampler_rng"] == cb["sampler_rng"] and torch.equal(ca["torch_rng"], cb["torch_rng"])
    # The exports hold the same tensors (their bytes may differ: safetensors orders metadata keys at random).
    ea, eb = (load_model(tmp_path / run_dir / "model.safetensors").state_dict() for run_dir in ("a", "b"))
    assert all(torch.equal(ea[k], eb[k]) for k in ea)
    # The log of the resumed run continues where the first half stopped.
    steps = [json.loads(line)["step"] for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_init_from_model_file(data_dir: Path, tmp_path: Path) -> None:
    first = run(dataclasses.replace(CFG, steps=1, ckpt_every=1), data_dir, tmp_path / "a", resume=False, init=None)
    init = str(tmp_path / "a" / "model.safetensors")
    source = load_model(init)
    cfg0 = dataclasses.replace(CFG, steps=0)
    tuned = run(cfg0, data_dir, tmp_path / "b", resume=False, init=init)
    for name, value in source.state_dict().items():
        assert torch.equal(tuned.model.state_dict()[name], value), name
    assert first.step == 1

    other = dataclasses.replace(cfg0, model=dataclasses.replace(TRAIN_MODEL, n_bottom=2))
    with pytest.raises(UserError, match="config"):
        run(other, data_dir, tmp_path / "c", resume=False, init=init)


def test_no_audio_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with pytest.raises(UserError, match="no audio"):
        run(CFG, tmp_path / "data", tmp_path / "out", resume=False, init=None)


def test_lr_and_commit_schedules(data_dir: Path, tmp_path: Path) -> None:
    cfg = dataclasses.replace(CFG, steps=100, warmup=10, lr=1e-3, lr_final=1e-4, commit_warmup=50)
    clips = load_corpus(list_audio(data_dir), TRAIN_MODEL.sample_rate)
    trainer = Trainer(cfg, SegmentSampler(clips, 2 * TRAIN_MODEL.top_hop), tmp_path)
    assert trainer.lr_at(0) == pytest.approx(1e-4) and trainer.lr_at(9) == pytest.approx(1e-3)
    assert trainer.lr_at(10) == pytest.approx(1e-3) and trainer.lr_at(100) == pytest.approx(1e-4)
    lrs = [trainer.lr_at(s) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))
    assert cfg.commit_at(0) == cfg.commit_start
    assert cfg.commit_at(50) == cfg.commit_at(500) == pytest.approx(cfg.commit_weight)
    assert cfg.commit_start < cfg.commit_at(25) < cfg.commit_weight


# ---------------------------------------------------------------- recipes and the train command


def test_load_train_config(tmp_path: Path) -> None:
    path = tmp_path / "recipe.json"
    path.write_text(CFG.to_json())
    assert load_train_config(path) == CFG
    assert load_train_config(path, steps=9, batch_size=None) == dataclasses.replace(CFG, steps=9)
    path.write_text(json.dumps({**_recipe_dict(CFG), "bogus": 1}))
    with pytest.raises(UserError, match="bogus"):
        load_train_config(path)
    path.write_text("{not json")
    with pytest.raises(UserError):
        load_train_config(path)
    with pytest.raises(UserError):
        load_train_config(tmp_path / "missing.json")


def test_train_command(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    recipe = tmp_path / "recipe.json"
    recipe.write_text(CFG.to_json())
    out = tmp_path / "run"
    code = cli.main(["train", str(recipe), "--data", str(data_dir), "--out", str(out), "--steps", "1"])
    assert code == 0
    assert load_model(out / "model.safetensors").config == dataclasses.replace(TRAIN_MODEL, name="run")
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 1
    capsys.readouterr()


def test_trained_model_is_named_after_its_run(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Not after the recipe: two models of one recipe have two names in every message."""
    recipe = tmp_path / "recipe.json"
    recipe.write_text(CFG.to_json())
    argv = ["train", str(recipe), "--data", str(data_dir), "--steps", "1"]
    assert cli.main([*argv, "--out", str(tmp_path / "a"), "--name", "my-codec"]) == 0
    assert load_model(tmp_path / "a" / "model.safetensors").config.name == "my-codec"
    assert cli.main([*argv, "--out", str(tmp_path / "b"), "--init", str(tmp_path / "a" / "model.safetensors")]) == 0
    assert load_model(tmp_path / "b" / "model.safetensors").config.name == "b"  # fine-tuning renames too
    assert cli.main([*argv, "--out", str(tmp_path / "c"), "--name", "x" * 65]) == 1
    assert "--name" in capsys.readouterr().err


def test_resume_with_nothing_to_resume_is_refused_first(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    recipe = tmp_path / "recipe.json"
    recipe.write_text(CFG.to_json())
    code = cli.main(["train", str(recipe), "--data", str(data_dir), "--out", str(tmp_path / "run"), "--resume"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1 and "no checkpoint to resume" in err
    assert not (tmp_path / "run").exists()  # refused before anything was made


def test_too_short_segment_is_a_user_error(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = dataclasses.replace(CFG, model=TINY, steps=1)  # TINY: top_hop 40, 2 frames = 80 samples
    recipe = tmp_path / "recipe.json"
    recipe.write_text(cfg.to_json())
    code = cli.main(["train", str(recipe), "--data", str(data_dir), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code != 0 and len(err.splitlines()) == 1 and "Traceback" not in err


# ---------------------------------------------------------------- data


def test_list_and_load_corpus(data_dir: Path) -> None:
    paths = list_audio(data_dir)
    assert [p.name for p in paths] == ["clip0.wav", "clip1.wav", "clip2.wav"]
    clips = load_corpus(paths, 16000)
    assert all(c.dtype == np.int16 and c.ndim == 1 for c in clips)
    assert [len(c) for c in clips] == [8000, 6400, 9600]  # each resampled to 16 kHz


def test_manifest_selects_split(data_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    for p in list_audio(data_dir):
        (root / p.name).write_bytes(p.read_bytes())
    (root / "manifest.csv").write_text("path,split\nclip0.wav,train\nclip1.wav,dev\nclip2.wav,train\n")
    assert [p.name for p in list_audio(root, "train")] == ["clip0.wav", "clip2.wav"]
    assert [p.name for p in list_audio(root, "dev")] == ["clip1.wav"]


def test_segment_sampler_reproducible(data_dir: Path) -> None:
    clips = load_corpus(list_audio(data_dir), 16000)
    a, b = SegmentSampler(clips, 1000, seed=3), SegmentSampler(clips, 1000, seed=3)
    x = a.batch(4)
    assert x.shape == (4, 1, 1000) and x.dtype == torch.float32
    assert torch.equal(x, b.batch(4))
    state = a.state()
    y = a.batch(2)
    a.set_state(state)
    assert torch.equal(a.batch(2), y)
    with pytest.raises(ValueError):
        SegmentSampler(clips, 10**6)


def test_train_config_is_model_config_aware() -> None:
    assert isinstance(CFG.model, ModelConfig) and CFG.segment_frames * TRAIN_MODEL.top_hop == 1280


def test_harmonic_head_trains_with_pitch_losses_and_adopts_an_istft_model(data_dir: Path, tmp_path: Path) -> None:
    run(dataclasses.replace(CFG, steps=1, ckpt_every=1), data_dir, tmp_path / "a", resume=False, init=None)
    init = str(tmp_path / "a" / "model.safetensors")
    harmonic = dataclasses.replace(CFG, model=dataclasses.replace(TRAIN_MODEL, head="harmonic"), steps=2)
    trainer = run(harmonic, data_dir, tmp_path / "b", resume=False, init=init)
    rows = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert all(math.isfinite(r["f0"]) and math.isfinite(r["voicing"]) for r in rows)
    assert load_model(tmp_path / "b" / "model.safetensors").config.head == "harmonic"
    assert trainer.model.decoder.head.proj.weight.shape[0] == 2 * trainer.model.decoder.head.bins + 2


def test_loss_resolutions_and_betas_are_recipe_fields(tmp_path: Path) -> None:
    recipe = _recipe_dict(CFG) | {
        "adam_betas": [0.5, 0.9],
        "mel_n_ffts": [256, 512],
        "mel_n_mels": [20, 40],
        "spectral_n_ffts": [256],
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(recipe))
    cfg = load_train_config(path)
    assert cfg.adam_betas == (0.5, 0.9) and cfg.mel_n_ffts == (256, 512) and cfg.spectral_n_ffts == (256,)
    clips = load_corpus([], TRAIN_MODEL.sample_rate)
    trainer = Trainer(cfg, SegmentSampler(clips or [np.zeros(4000, np.float32)], 1280), tmp_path)
    assert trainer.opt.defaults["betas"] == (0.5, 0.9) and len(trainer.mel.mels) == 2


def test_adversarial_training_steps_and_resumes_the_discriminator(data_dir: Path, tmp_path: Path) -> None:
    cfg = dataclasses.replace(
        CFG,
        adversarial_weight=1.0,
        adversarial_start=1,
        disc_n_ffts=(256,),
        disc_channels=4,
        disc_batch=1,
        steps=2,
        ckpt_every=2,
    )
    trainer = run(cfg, data_dir, tmp_path / "a", resume=False, init=None)
    rows = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert "adversarial" not in rows[0] and all(math.isfinite(rows[1][k]) for k in ("adversarial", "features", "disc"))
    state = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert set(state["disc"]) == set(trainer.disc.state_dict())
    resumed = run(dataclasses.replace(cfg, steps=3), data_dir, tmp_path / "a", resume=True, init=None)
    assert resumed.step == 3


# ---------------------------------------------------------------- watching a run


WATCH_MODEL = dataclasses.replace(TRAIN_MODEL, name="tinywatch")  # top_hop 640
WATCH_CFG = dataclasses.replace(CFG, model=WATCH_MODEL, num_workers=0)
# The keys of checkpoint.pt as the trainer wrote them before this work (the speech16k run's checkpoint).


ORIGINAL_KEYS = {"model", "opt", "step", "config", "torch_rng", "sampler_rng"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four speakers of synthetic voiced sound: three train, one valid, listed in manifest.csv."""
    root = tmp_path_factory.mktemp("watch")
    rows = []
    for i in range(4):
        rate = (16000, 22050, 16000, 24000)[i]
        t = np.arange(int(rate * 0.5)) / rate
        x = sum(np.sin(2 * np.pi * k * (110 + 30 * i) * t) / k for k in range(1, 8)) * 0.1
        x *= 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
        path = root / f"s{i}" / f"u{i}.wav"
        path.parent.mkdir()
        sf.write(path, x.astype(np.float32), rate)
        rows.append({"path": f"s{i}/u{i}.wav", "split": "valid" if i == 3 else "train", "speaker": f"s{i}"})
    write_manifest(root / "manifest.csv", rows)
    return root


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_validation_pass_writes_wavs_and_metrics(corpus: Path, tmp_path: Path) -> None:
    cfg = dataclasses.replace(WATCH_CFG, valid_every=2, valid_segments=4, valid_seconds=0.25, valid_wavs=1)
    watched = run(cfg, corpus, tmp_path / "a", resume=False, init=None, progress="lines")
    rows = [json.loads(line) for line in (tmp_path / "a" / "valid.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4]
    for r in rows:
        assert math.isfinite(r["valid_mel"]) and r["valid_mel"] > 0 and math.isfinite(r["valid_si_sdr"])
        assert 0 < r["valid_top_usage"] <= 1 and 0 < r["valid_bottom_usage"] <= 1
        assert r["valid_segments"] == 1 and r["valid_seconds"] == pytest.approx(6 * 640 / 16000)  # one valid file
    for step in (2, 4):
        wavs = sorted((tmp_path / "a" / "valid" / f"step-{step}").iterdir())
        assert [w.name for w in wavs] == ["00.wav"]
        info = sf.info(str(wavs[0]))
        assert info.samplerate == 16000 and info.frames == 6 * 640
    assert (tmp_path / "a" / "valid" / "reference" / "00.wav").is_file()
    # validation runs in eval mode and draws no random numbers: the weights are those of a run without it
    plain = run(WATCH_CFG, corpus, tmp_path / "b", resume=False, init=None, progress="lines")
    assert _same_weights(watched.model, plain.model) and watched.model.training
    assert not (tmp_path / "b" / "valid.jsonl").exists()
    # --valid-data: another folder (all its files); a bare folder as --data has no valid split: off
    run(
        dataclasses.replace(cfg, steps=2),
        corpus,
        tmp_path / "c",
        resume=False,
        init=None,
        valid_data=corpus / "s0",
        progress="lines",
    )
    assert json.loads((tmp_path / "c" / "valid.jsonl").read_text())["valid_segments"] == 1
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "u0.wav").write_bytes((corpus / "s0" / "u0.wav").read_bytes())
    run(dataclasses.replace(cfg, steps=1), tmp_path / "bare", tmp_path / "d", resume=False, init=None, progress="lines")
    assert not (tmp_path / "d" / "valid.jsonl").exists()


def test_checkpoint_of_the_original_trainer_resumes_exactly(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    straight = run(WATCH_CFG, corpus, tmp_path / "a", resume=False, init=None, progress="lines")
    assert set(torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)) >= ORIGINAL_KEYS
    run(dataclasses.replace(WATCH_CFG, steps=2), corpus, tmp_path / "b", resume=False, init=None, progress="lines")
    ckpt = tmp_path / "b" / "checkpoint.pt"
    state = torch.load(ckpt, weights_only=True)
    old = {k: state[k] for k in ORIGINAL_KEYS}  # exactly the original keys, and a config without the new fields
    new_fields = {
        "loader",
        "num_workers",
        "valid_every",
        "valid_split",
        "valid_segments",
        "valid_seconds",
        "valid_wavs",
    }
    old["config"] = json.dumps({k: v for k, v in json.loads(state["config"]).items() if k not in new_fields})
    torch.save(old, ckpt)
    resumed = run(WATCH_CFG, corpus, tmp_path / "b", resume=True, init=None, progress="lines")
    assert resumed.step == 4 and _same_weights(straight.model, resumed.model)
    capsys.readouterr()
    # missing optimiser and random states still load, with warnings
    torch.save({"model": old["model"], "step": old["step"]}, ckpt)
    assert run(WATCH_CFG, corpus, tmp_path / "b", resume=True, init=None, progress="lines").step == 4
    assert "no optimiser state" in capsys.readouterr().err


def test_stream_loader_trains_and_resumes_exactly(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = dataclasses.replace(WATCH_CFG, loader="stream")
    manifest = corpus / "manifest.csv"
    straight = run(cfg, manifest, tmp_path / "a", resume=False, init=None, progress="lines")
    run(dataclasses.replace(cfg, steps=2), manifest, tmp_path / "b", resume=False, init=None, progress="lines")
    state = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert json.loads(state["sampler_rng"]) == {"loader": "stream", "next_batch": 2}
    resumed = run(cfg, manifest, tmp_path / "b", resume=True, init=None, progress="lines")
    assert _same_weights(straight.model, resumed.model)
    # a memory run's checkpoint resumed with the stream loader: continues, with a warning
    run(dataclasses.replace(WATCH_CFG, steps=2), corpus, tmp_path / "c", resume=False, init=None, progress="lines")
    capsys.readouterr()
    assert run(cfg, corpus, tmp_path / "c", resume=True, init=None, progress="lines").step == 4
    assert "does not fit loader 'stream'" in capsys.readouterr().err


def test_train_command_new_options(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    recipe = tmp_path / "recipe.json"
    recipe.write_text(WATCH_CFG.to_json())
    out = tmp_path / "run"
    code = cli.main(
        [
            "train",
            str(recipe),
            "--data",
            str(corpus),
            "--out",
            str(out),
            "--steps",
            "1",
            "--amp",
            "--compile",
            "--valid-every",
            "1",
            "--num-workers",
            "0",
            "--progress",
            "lines",
            "--device",
            "cpu",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    bf16_cpu = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert ("--amp needs" in captured.err) != bf16_cpu  # bf16 autocast runs on CPUs that have bfloat16
    assert "--compile needs CUDA" in captured.err
    assert "step=1 loss=" in captured.out and "valid step=1 valid_mel=" in captured.out
    assert json.loads((out / "config.json").read_text())["valid_every"] == 1
    recipe.write_text(json.dumps({**json.loads(WATCH_CFG.to_json()), "loader": "disk"}))
    assert cli.main(["train", str(recipe), "--data", str(corpus), "--out", str(out)]) == 1
    assert "loader must be" in capsys.readouterr().err


def test_quantizers_and_istft_head_stay_float32_under_autocast() -> None:
    torch.manual_seed(0)
    model = VQCodecModel.from_config(WATCH_MODEL).train()
    for m in model.modules():
        if isinstance(m, FactorizedVQ):
            m.restart_every, m.restart_threshold = 1, 2.0  # restart every step, most codes called dead
    x = torch.randn(2, 1, 2 * WATCH_MODEL.top_hop) * 0.1
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):  # CPU stands in for CUDA here
        out = model(x)
    assert out.audio.dtype == torch.float32 and out.audio.shape == x.shape and torch.isfinite(out.audio).all()
    assert model.hierarchy.top_quantizer.layers[0].codebook.weight.dtype == torch.float32


def test_collapse_watch_reports_once() -> None:
    k = 16
    healthy = torch.ones(2, k) * 10
    collapsed = healthy.clone()
    collapsed[1] = 0
    collapsed[1, 3] = 160  # one code takes everything
    watch = CollapseWatch()
    assert watch.check({"top": healthy}) == []
    lines = watch.check({"top": collapsed})
    assert len(lines) == 1 and lines[0].startswith("top codebook 1 may be collapsing")
    assert watch.check({"top": collapsed}) == []  # already reported
    assert watch.check({"top": healthy}) == []
    assert len(watch.check({"top": collapsed})) == 1  # collapsed again after recovering


def test_collapse_warning_printed_by_the_loop(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = dataclasses.replace(WATCH_CFG, steps=2, log_every=2, batch_size=4)

    def one_code(self: Trainer) -> dict:  # every frame picks code 0 of every codebook
        out = original(self)
        for table in self.counts.values():
            table.zero_()
            table[:, 0] = 10 * WATCH_MODEL.codebook_size
        return out

    original = Trainer.train_step
    Trainer.train_step = one_code
    try:
        run(cfg, corpus, tmp_path / "run", resume=False, init=None, progress="lines")
    finally:
        Trainer.train_step = original
    err = capsys.readouterr().err
    assert err.count("may be collapsing") == WATCH_MODEL.n_top + WATCH_MODEL.n_bottom
    assert "vqcodec train: warning: top codebook 0 may be collapsing" in err


def test_progress_bar(capsys: pytest.CaptureFixture) -> None:
    """On a bar, a log row is the bar's postfix and a warning a line above it, all on stderr."""
    pytest.importorskip("tqdm")
    bar = progress_bar("bar", 10, 3)
    bar.update(1)
    show_row(
        bar,
        {
            "step": 4,
            "loss": 1.0,
            "mel": 0.5,
            "spectral": 0.2,
            "commit": 0.1,
            "top_usage": 0.9,
            "bottom_usage": 1.0,
            "top_perplexity": 12.0,
            "bottom_perplexity": 14.0,
            "audio_s_per_s": 3.3,
        },
    )
    bar.write(WARNING + "top codebook 1 may be collapsing")
    bar.close()
    captured = capsys.readouterr()
    assert captured.out == "" and "4/10" in captured.err and "3.3 audio-s/s" in captured.err
    assert "warning: top codebook 1" in captured.err


def test_a_grown_decoder_starts_as_the_trained_one(data_dir: Path, tmp_path: Path) -> None:
    """More decoder blocks from a trained model: the old blocks load, the new ones are identities, so the
    grown model decodes exactly as the trained one before its first step; it then trains."""
    run(dataclasses.replace(CFG, steps=1, ckpt_every=1), data_dir, tmp_path / "a", resume=False, init=None)
    init = str(tmp_path / "a" / "model.safetensors")
    source = load_model(init).eval()
    blocks = TRAIN_MODEL.decoder_blocks + 3
    grown_cfg = dataclasses.replace(CFG, model=dataclasses.replace(TRAIN_MODEL, decoder_blocks=blocks), steps=0)
    grown = run(grown_cfg, data_dir, tmp_path / "b", resume=False, init=init).model.eval()
    x = torch.randn(1, 1, 4 * TRAIN_MODEL.top_hop)
    with torch.no_grad():
        codes = source.encode(x, TRAIN_MODEL.n_top, TRAIN_MODEL.n_bottom)
        assert torch.equal(grown.encode(x, TRAIN_MODEL.n_top, TRAIN_MODEL.n_bottom)[1], codes[1])
        torch.testing.assert_close(grown.decode(*codes), source.decode(*codes))
    assert len(grown.decoder.pre) + len(grown.decoder.post) == blocks
    trained = run(dataclasses.replace(grown_cfg, steps=2), data_dir, tmp_path / "c", resume=False, init=init)
    assert any(float(b.scale.detach().abs().max()) > 0 for b in list(trained.model.decoder.post)[-2:])

    shrunk = dataclasses.replace(grown_cfg, model=dataclasses.replace(TRAIN_MODEL, decoder_blocks=1))
    small = run(shrunk, data_dir, tmp_path / "d", resume=False, init=init).model  # a smaller decoder, to distil
    assert len(small.decoder.pre) + len(small.decoder.post) == 1


def test_a_spectral_input_starts_silent_and_trains(data_dir: Path, tmp_path: Path) -> None:
    """An encoder given a spectral input (``encoder_mels``) from a trained model codes exactly as the trained
    one before its first step (the input starts silent); it then trains."""
    run(dataclasses.replace(CFG, steps=1, ckpt_every=1), data_dir, tmp_path / "a", resume=False, init=None)
    init = str(tmp_path / "a" / "model.safetensors")
    source = load_model(init).eval()
    cfg = dataclasses.replace(CFG, model=dataclasses.replace(TRAIN_MODEL, encoder_mels=8), steps=0)
    added = run(cfg, data_dir, tmp_path / "b", resume=False, init=init).model.eval()
    x = torch.randn(1, 1, 4 * TRAIN_MODEL.top_hop)
    with torch.no_grad():
        codes = source.encode(x, TRAIN_MODEL.n_top, TRAIN_MODEL.n_bottom)
        assert all(torch.equal(a, b) for a, b in zip(added.encode(x, *TRAIN_MODEL.codebooks), codes, strict=True))
    trained = run(dataclasses.replace(cfg, steps=2), data_dir, tmp_path / "c", resume=False, init=init).model
    assert float(trained.encoder.spectral.net[-1].weight.detach().abs().max()) > 0
    grown = dataclasses.replace(cfg.model, decoder_blocks=TRAIN_MODEL.decoder_blocks + 1)
    with pytest.raises(UserError, match="in a stage of its own"):
        run(dataclasses.replace(cfg, model=grown), data_dir, tmp_path / "d", resume=False, init=init)


@pytest.mark.parametrize(
    "field, frozen, trained",
    [
        ("freeze_codes", ("encoder.", "hierarchy."), "decoder."),
        ("encoder_only", ("hierarchy.", "decoder."), "encoder."),
    ],
)
def test_a_frozen_part_stays_as_loaded_while_the_rest_trains(data_dir: Path, tmp_path: Path, field, frozen, trained):
    """With ``freeze_codes`` the encoder and hierarchy (weights, whitening statistics, code usage) stay as loaded,
    so the codes do not change, while the decoder trains; with ``encoder_only`` the hierarchy and the decoder stay
    while the encoder trains (a distilled encoder tuned on the decoded audio's losses)."""
    run(dataclasses.replace(CFG, steps=1, ckpt_every=1), data_dir, tmp_path / "a", resume=False, init=None)
    init = str(tmp_path / "a" / "model.safetensors")
    source = load_model(init)
    tuned = run(dataclasses.replace(CFG, steps=3, **{field: True}), data_dir, tmp_path / "b", resume=False, init=init)
    before, after = source.state_dict(), tuned.model.state_dict()
    for name, value in before.items():
        if name.startswith(frozen):
            assert torch.equal(after[name], value), name
    assert any(not torch.equal(after[k], v) for k, v in before.items() if k.startswith(trained))


def test_a_decoder_told_its_rate_trains_each_rate_it_is_given(data_dir: Path, tmp_path: Path) -> None:
    """``rate_embedding`` on a model trained without, decoder only: quantizer dropout gives the items of a
    batch different numbers of bottom codebooks, and the vectors of the numbers drawn (not of the unused 0)
    move from zero."""
    run(dataclasses.replace(CFG, steps=1, ckpt_every=1), data_dir, tmp_path / "a", resume=False, init=None)
    told = dataclasses.replace(TRAIN_MODEL, rate_embedding=True, bottom_dropout=1.0)
    cfg = dataclasses.replace(CFG, model=told, steps=2, freeze_codes=True)
    model = run(cfg, data_dir, tmp_path / "b", resume=False, init=str(tmp_path / "a" / "model.safetensors")).model
    moved = model.decoder.rate_pre.weight.detach().abs().sum(1)  # [n_bottom + 1]
    assert moved[0] == 0 and moved.count_nonzero() >= 2


def test_a_head_given_its_phase_starts_as_the_trained_one(data_dir: Path, tmp_path: Path) -> None:
    """``phase_terms`` on a harmonic model trained without: everything else loads, the phase starts at zero, so
    the model decodes exactly as the trained one; with ``phase_weight`` the phase loss is logged and trains it."""
    harmonic = dataclasses.replace(TRAIN_MODEL, head="harmonic")
    base = dataclasses.replace(CFG, model=harmonic, steps=1, ckpt_every=1)
    run(base, data_dir, tmp_path / "a", resume=False, init=None)
    init = str(tmp_path / "a" / "model.safetensors")
    source = load_model(init).eval()
    cfg = dataclasses.replace(base, model=dataclasses.replace(harmonic, phase_terms=4), steps=0, phase_weight=1.0)
    added = run(cfg, data_dir, tmp_path / "b", resume=False, init=init).model.eval()
    x = torch.randn(1, 1, 4 * harmonic.top_hop)
    with torch.no_grad():
        codes = source.encode(x, harmonic.n_top, harmonic.n_bottom)
        torch.testing.assert_close(added.decode(*codes), source.decode(*codes))
    trained = run(dataclasses.replace(cfg, steps=2), data_dir, tmp_path / "c", resume=False, init=init).model
    assert float(trained.decoder.head.phase.weight.detach().abs().max()) > 0
    rows = [json.loads(line) for line in (tmp_path / "c" / "log.jsonl").read_text().splitlines()]
    assert all(0 <= row["phase"] <= 4 for row in rows)
    with pytest.raises(UserError, match="phase"):
        run(
            dataclasses.replace(cfg, model=dataclasses.replace(harmonic, phase_terms=2)),
            data_dir,
            tmp_path / "d",
            resume=False,
            init=str(tmp_path / "c" / "model.safetensors"),
        )


def test_a_phase_locked_run_measures_the_inputs_fundamental_phase(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``phase_lock``: the source is driven by the pitch stream's F0 and locked to the input's fundamental phase,
    measured on each batch."""
    import vqcodec.train.loop as loop

    seen = []
    measure = loop.fundamental_phase
    monkeypatch.setattr(loop, "fundamental_phase", lambda *a, **k: seen.append(a[0].shape) or measure(*a, **k))
    model = dataclasses.replace(TRAIN_MODEL, head="harmonic", pitch_bits=7, phase_terms=2)
    cfg = dataclasses.replace(CFG, model=model, steps=2, phase_weight=1.0, phase_lock=True)
    run(cfg, data_dir, tmp_path / "a", resume=False, init=None)
    assert seen == [(CFG.batch_size, CFG.segment_frames * model.top_hop)] * 2


def test_train_threads_are_bounded(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--threads`` above the usable cores computes with the usable cores (1000 once started 832 threads);
    below 1 is one line and a non-zero exit."""
    from vqcodec.threads import usable_cores

    asked = []
    monkeypatch.setattr(torch, "set_num_threads", asked.append)
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps(_recipe_dict(dataclasses.replace(CFG, steps=1))))
    common = ["train", str(recipe), "--data", str(data_dir), "--progress", "lines"]
    assert cli.main([*common, "--out", str(tmp_path / "a"), "--threads", "1000"]) == 0
    assert asked and max(asked) == usable_cores()
    assert cli.main([*common, "--out", str(tmp_path / "b"), "--threads", "0"]) != 0
    assert "--threads must be at least 1" in capsys.readouterr().err


def test_frozen_bottom_keeps_the_first_codes_while_the_later_codebooks_train(data_dir: Path, tmp_path: Path) -> None:
    """``frozen_bottom = 1`` on a model grown a residual readout: the encoder, the top level and the first bottom
    codebook stay as loaded (so do their codes), its readout is fitted all the same, and the later bottom codebooks
    and the decoder train."""
    run(dataclasses.replace(CFG, steps=1, ckpt_every=1), data_dir, tmp_path / "a", resume=False, init=None)
    init = str(tmp_path / "a" / "model.safetensors")
    source = load_model(init)
    grown = dataclasses.replace(TRAIN_MODEL, residual_readout=True, readout_from=(1, 1))
    cfg = dataclasses.replace(CFG, model=grown, steps=3, frozen_bottom=1)
    tuned = run(cfg, data_dir, tmp_path / "b", resume=False, init=init).model
    before, after = source.state_dict(), tuned.state_dict()
    frozen = ("encoder.", "hierarchy.top_", "hierarchy.condition.", "hierarchy.bottom_quantizer.layers.0.")
    for name, value in before.items():
        if name.startswith(frozen) and not name.endswith("num_batches_tracked"):
            assert torch.equal(after[name], value), name
    for trained in ("hierarchy.bottom_quantizer.layers.1.", "decoder."):
        assert any(not torch.equal(after[k], v) for k, v in before.items() if k.startswith(trained)), trained
    assert float(tuned.hierarchy.bottom_quantizer.layers[0].readout.abs().max()) > 0
    x = torch.randn(1, 1, 4 * grown.top_hop)
    with torch.no_grad():
        top, bottom = source.eval().encode(x, grown.n_top, grown.n_bottom)
        top2, bottom2 = tuned.eval().encode(x, grown.n_top, grown.n_bottom)
    assert torch.equal(top, top2) and torch.equal(bottom[:, :1], bottom2[:, :1])


def test_code_spectrum_probe_trains_with_the_model_and_resumes(data_dir: Path, tmp_path: Path) -> None:
    """``code_mel_weight``: the probe's loss is logged, its weights move, and they are in the checkpoint (a resumed
    run continues them) but not in the model file; the encoder gets its gradient."""
    cfg = dataclasses.replace(CFG, steps=2, ckpt_every=2, code_mel_weight=1.0)
    trainer = run(cfg, data_dir, tmp_path / "a", resume=False, init=None)
    rows = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert all(row["code_mel"] > 0 for row in rows)
    state = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert "probe" in state and not any(
        "probe" in k for k in load_model(tmp_path / "a" / "model.safetensors").state_dict()
    )
    fresh = CodeSpectrumLoss(TRAIN_MODEL.latent_dim, TRAIN_MODEL.sample_rate, TRAIN_MODEL.hop)
    moved = state["probe"]["read.weight"]
    assert moved.shape == fresh.read.weight.shape
    resumed = run(dataclasses.replace(cfg, steps=3), data_dir, tmp_path / "a", resume=True, init=None)
    assert not torch.equal(resumed.probe.state_dict()["read.weight"], moved)  # continued, one more step
    model = trainer.model
    x = torch.randn(2, 1, 4 * TRAIN_MODEL.top_hop)
    out = model.train()(x)
    trainer.probe(out.bottom, out.top, x).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


def test_perceptual_loss_is_a_recipe_field_and_trains(data_dir: Path, tmp_path: Path) -> None:
    """``perceptual_weight``: the loss is logged every step and changes what the step does."""
    cfg = dataclasses.replace(CFG, steps=2, ckpt_every=2, perceptual_weight=100.0)
    trainer = run(cfg, data_dir, tmp_path / "a", resume=False, init=None)
    rows = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(row["perceptual"] > 0 for row in rows)
    plain = run(dataclasses.replace(cfg, perceptual_weight=0.0), data_dir, tmp_path / "b", resume=False, init=None)
    assert "perceptual" not in json.loads((tmp_path / "b" / "log.jsonl").read_text().splitlines()[0])
    a, b = trainer.model.state_dict(), plain.model.state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)


class _Rows:
    """A sampler whose every batch is the given [B, R, T] rows."""

    def __init__(self, rows: torch.Tensor):
        self.rows = rows

    def batch(self, size: int) -> torch.Tensor:
        return self.rows[:size].clone()


def test_a_clean_target_is_what_the_losses_compare_with(tmp_path: Path) -> None:
    """Batches [B, 2, T] (``augment_target`` "clean"): the model codes row 0 and its losses compare with row 1, so
    [x, x] trains exactly as [x] does, and [x, 0.5 x] does not."""
    x = 0.3 * torch.randn(2, 1, 2 * TRAIN_MODEL.top_hop, generator=torch.Generator().manual_seed(2))
    mel = {}
    for name, rows in (("plain", x), ("same", torch.cat([x, x], 1)), ("half", torch.cat([x, 0.5 * x], 1))):
        mel[name] = Trainer(CFG, _Rows(rows), tmp_path / name).train_step()["mel"]
    assert mel["same"] == mel["plain"] and mel["half"] != mel["plain"]


def test_augment_target_is_degraded_or_clean() -> None:
    assert TrainConfig().augment_target == "degraded" and not TrainConfig().augment.clean_target
    assert dataclasses.replace(CFG, augment_target="clean").augment.clean_target
    with pytest.raises(UserError, match="augment_target"):
        dataclasses.replace(CFG, augment_target="dry").check()


def test_intelligibility_loss_is_a_recipe_field_and_trains(data_dir: Path, tmp_path: Path) -> None:
    """``intelligibility_weight``: 1 - STOI is logged every step and changes what the step does."""
    cfg = dataclasses.replace(CFG, steps=2, ckpt_every=2, segment_frames=13, intelligibility_weight=10.0)
    trainer = run(cfg, data_dir, tmp_path / "a", resume=False, init=None)
    rows = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(0 < row["intelligibility"] <= 2 for row in rows)
    plain = run(dataclasses.replace(cfg, intelligibility_weight=0.0), data_dir, tmp_path / "b", resume=False, init=None)
    assert "intelligibility" not in json.loads((tmp_path / "b" / "log.jsonl").read_text().splitlines()[0])
    a, b = trainer.model.state_dict(), plain.model.state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)
