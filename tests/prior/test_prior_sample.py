"""Sampling: deterministic for a seed, in range, bottom given top; training runs on token arrays and reports
bits per code; the shipped prior belongs to the shipped weights; the sample command."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
from test_prior_model import SMALL

from vqcodec.prior.data import Tokens
from vqcodec.prior.model import Prior
from vqcodec.prior.sample import sample_bottom, sample_top
from vqcodec.prior.train import fit
from vqcodec.prior.weights import default_prior_path, load_prior


def _draw(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    prior = Prior(SMALL).eval()
    g = torch.Generator().manual_seed(seed)
    top = sample_top(prior, 5, g)
    return top, sample_bottom(prior, top, 3, g)


def test_sampling_is_deterministic_for_a_seed() -> None:
    a, b, c = _draw(1), _draw(1), _draw(2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not (torch.equal(a[0], c[0]) and torch.equal(a[1], c[1]))


def test_samples_have_the_level_shapes_and_range() -> None:
    top, bottom = _draw(3)
    assert top.shape == (1, 2, 5) and bottom.shape == (1, 3, 20)
    assert 0 <= int(top.min()) and int(top.max()) < 16 and 0 <= int(bottom.min()) and int(bottom.max()) < 16


def test_sampling_follows_the_model() -> None:
    """A prior whose top head always predicts code 3 samples code 3."""
    torch.manual_seed(0)
    prior = Prior(SMALL).eval()
    with torch.no_grad():
        prior.top.bias[:] = -1e4
        prior.top.bias[:, 3] = 1e4
    top = sample_top(prior, 4, torch.Generator().manual_seed(0))
    assert torch.all(top == 3)


def _tokens(seed: int, n: int = 6) -> Tokens:
    rng = np.random.default_rng(seed)
    top = [rng.integers(0, 16, (2, 10)) for _ in range(n)]
    bottom = [rng.integers(0, 16, (3, 40)) for _ in range(n)]
    info = {"codebook_size": 16, "n_top": 2, "n_bottom": 3, "model": "t", "model_hash": "00000000"}
    return Tokens(top, bottom, info)


def test_training_runs_and_reports_bits_per_code() -> None:
    args = argparse.Namespace(seed=0, dim=16, lr=2e-3, steps=3, minutes=1.0, batch=4, frames=8)
    prior, facts = fit(_tokens(0), _tokens(1), args)
    assert facts["steps"] == 3 and facts["model_hash"] == "00000000"
    assert set(facts["dev_bits"]) == {"top", "bottom"} and facts["context_model_bits"] is None
    assert all(2.0 < bits < 8.0 for bits in facts["dev_bits"].values())  # 4 bits uniform, untrained


def test_training_keeps_the_best_held_out_step() -> None:
    args = argparse.Namespace(
        seed=0, dim=16, lr=2e-3, steps=5, minutes=1.0, batch=4, frames=8, holdout=0.34, check_every=2
    )
    _, facts = fit(_tokens(0), _tokens(1), args)
    checked = [entry["step"] for entry in facts["log"]]
    assert checked == [2, 4, 5] and facts["kept_step"] in checked


def test_shipped_prior_was_trained_on_the_shipped_model(shipped_codec) -> None:
    """Fails when the weights change without the prior: re-train it (docs/training.md, "The prior")."""
    _, facts = load_prior(default_prior_path())
    assert facts["model_hash"] == shipped_codec.hash.hex()
    assert default_prior_path().stat().st_size < 8e6


def test_cli_sample_is_deterministic_for_a_seed(tmp_path) -> None:
    from vqcodec import cli

    for name in ("a", "b"):
        assert cli.main(["sample", "-q", "-o", str(tmp_path / f"{name}.wav"), "--seconds", "0.5", "--seed", "3"]) == 0
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert cli.main(["sample", "-o", str(tmp_path / "a.wav"), "--seed", "3"]) == 1  # exists: --force


def test_cli_sample_keeps_a_files_top_codes(tmp_path) -> None:
    from pathlib import Path

    from vqcodec import cli

    golden = Path(__file__).resolve().parents[1] / "golden" / "speech.entropy.vqc"
    out = tmp_path / "keep.wav"
    assert cli.main(["sample", "-q", "--keep-top", str(golden), "-o", str(out), "--seed", "1"]) == 0
    import soundfile as sf

    info = sf.info(str(out))
    assert info.samplerate == 22050 and abs(info.duration - 9.265) < 0.01


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--temperature", "0"], "--temperature must be a positive number, not 0"),
        (["--temperature", "nan"], "--temperature must be a positive number, not nan"),
        (["--temperature", "-1"], "--temperature must be a positive number, not -1"),
        (["--temperature", "inf"], "--temperature must be a positive number, not inf"),
        (["--seed", str(2**70)], "--seed must be in 0..2**64-1"),
        (["--seed", "-1"], "--seed must be in 0..2**64-1"),
        (["--seconds", "nan"], "--seconds must be in (0, 600]"),
        (["--seconds", "1e-9"], "--seconds 1e-09 is less than one sample at 16000 Hz"),
    ],
)
def test_cli_sample_refuses_what_it_cannot_use_in_one_line(tmp_path, capsys, argv, says) -> None:
    from vqcodec import cli

    out = tmp_path / "x.wav"
    assert cli.main(["sample", "-q", "-o", str(out), *argv]) == 1
    err = capsys.readouterr().err
    assert err == f"vqcodec: {says}\n" or (err.count("\n") == 1 and says in err), err
    assert not out.exists()
