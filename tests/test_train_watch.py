"""Tests for watching and running training: validation pass, collapse warnings, progress, the streaming loader
in a run, --amp/--compile on CPU, and resuming checkpoints written before these features existed."""

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
from vqcodec.io.manifest import write_manifest
from vqcodec.nn.model import VQCodecModel
from vqcodec.nn.quantizer import FactorizedVQ
from vqcodec.train.config import TrainConfig
from vqcodec.train.loop import CollapseWatch, Trainer, _Progress, run

MODEL = dataclasses.replace(TINY, name="tinywatch", strides=(16, 20))  # top_hop 640
CFG = TrainConfig(
    model=MODEL,
    steps=4,
    batch_size=2,
    segment_frames=2,
    ckpt_every=2,
    log_every=1,
    warmup=1,
    commit_warmup=2,
    num_workers=0,
)
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
    cfg = dataclasses.replace(CFG, valid_every=2, valid_segments=4, valid_seconds=0.25, valid_wavs=1)
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
    plain = run(CFG, corpus, tmp_path / "b", resume=False, init=None, progress="lines")
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
    straight = run(CFG, corpus, tmp_path / "a", resume=False, init=None, progress="lines")
    assert set(torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)) >= ORIGINAL_KEYS
    run(dataclasses.replace(CFG, steps=2), corpus, tmp_path / "b", resume=False, init=None, progress="lines")
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
    resumed = run(CFG, corpus, tmp_path / "b", resume=True, init=None, progress="lines")
    assert resumed.step == 4 and _same_weights(straight.model, resumed.model)
    capsys.readouterr()
    # missing optimiser and random states still load, with warnings
    torch.save({"model": old["model"], "step": old["step"]}, ckpt)
    assert run(CFG, corpus, tmp_path / "b", resume=True, init=None, progress="lines").step == 4
    assert "no optimiser state" in capsys.readouterr().err


def test_stream_loader_trains_and_resumes_exactly(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = dataclasses.replace(CFG, loader="stream")
    manifest = corpus / "manifest.csv"
    straight = run(cfg, manifest, tmp_path / "a", resume=False, init=None, progress="lines")
    run(dataclasses.replace(cfg, steps=2), manifest, tmp_path / "b", resume=False, init=None, progress="lines")
    state = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert json.loads(state["sampler_rng"]) == {"loader": "stream", "next_batch": 2}
    resumed = run(cfg, manifest, tmp_path / "b", resume=True, init=None, progress="lines")
    assert _same_weights(straight.model, resumed.model)
    # a memory run's checkpoint resumed with the stream loader: continues, with a warning
    run(dataclasses.replace(CFG, steps=2), corpus, tmp_path / "c", resume=False, init=None, progress="lines")
    capsys.readouterr()
    assert run(cfg, corpus, tmp_path / "c", resume=True, init=None, progress="lines").step == 4
    assert "does not fit loader 'stream'" in capsys.readouterr().err


def test_train_command_new_options(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    recipe = tmp_path / "recipe.json"
    recipe.write_text(CFG.to_json())
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
    recipe.write_text(json.dumps({**json.loads(CFG.to_json()), "loader": "disk"}))
    assert cli.main(["train", str(recipe), "--data", str(corpus), "--out", str(out)]) == 1
    assert "loader must be" in capsys.readouterr().err


def test_quantizers_and_istft_head_stay_float32_under_autocast() -> None:
    torch.manual_seed(0)
    model = VQCodecModel.from_config(MODEL).train()
    for m in model.modules():
        if isinstance(m, FactorizedVQ):
            m.restart_every, m.restart_threshold = 1, 2.0  # restart every step, most codes called dead
    x = torch.randn(2, 1, 2 * MODEL.top_hop) * 0.1
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
    cfg = dataclasses.replace(CFG, steps=2, log_every=2, batch_size=4)

    def one_code(self: Trainer) -> dict:  # every frame picks code 0 of every codebook
        out = original(self)
        for table in self.counts.values():
            table.zero_()
            table[:, 0] = 10 * MODEL.codebook_size
        return out

    original = Trainer.train_step
    Trainer.train_step = one_code
    try:
        run(cfg, corpus, tmp_path / "run", resume=False, init=None, progress="lines")
    finally:
        Trainer.train_step = original
    err = capsys.readouterr().err
    assert err.count("may be collapsing") == MODEL.n_top + MODEL.n_bottom
    assert "vqcodec train: warning: top codebook 0 may be collapsing" in err


def test_progress_bar(capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("tqdm")
    bar = _Progress("bar", 10, 3)
    bar.update()
    bar.row(
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
        }
    )
    bar.warn("top codebook 1 may be collapsing")
    bar.close()
    captured = capsys.readouterr()
    assert captured.out == "" and "4/10" in captured.err and "3.3 audio-s/s" in captured.err
    assert "warning: top codebook 1" in captured.err
