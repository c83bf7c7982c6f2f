"""Carrying tables and a prior over to a retrained decoder: done for a model that makes the same codes (the
files name the new model, the prior's tensors unchanged), refused, naming why, for one that does not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_PITCH, make_model
from safetensors.numpy import load_file

from vqcodec.entropy import tables as entropy_tables
from vqcodec.entropy.fit import quantise
from vqcodec.errors import UserError
from vqcodec.io.weights import load_model, save_model, weights_hash
from vqcodec.nn.model import VQCodecModel
from vqcodec.prior.config import PriorConfig
from vqcodec.prior.model import Prior
from vqcodec.prior.weights import load_prior, save_prior
from vqcodec.train import rekey

# tables need at least 256 codes per codebook
MODEL = dataclasses.replace(TINY_PITCH, codebook_size=256)


def _new_decoder(old: VQCodecModel, **fields) -> VQCodecModel:
    """``old`` with a freshly initialised decoder (of other ``fields``): the rest copied."""
    torch.manual_seed(7)
    new = VQCodecModel.from_config(dataclasses.replace(old.config, **fields)).eval()
    kept = {k: v for k, v in old.state_dict().items() if not k.startswith(rekey.DECODER_PREFIX)}
    new.load_state_dict(kept, strict=False)
    return new


def _tables(tables: entropy_tables.Tables) -> list[entropy_tables.CodebookTable]:
    return [t for level in tables.levels for t in level]


def _files(tmp_path: Path, old: VQCodecModel, new: VQCodecModel) -> tuple[Path, Path, Path, Path]:
    """The two models saved, tables and a prior fitted (by hand) on ``old``'s codes."""
    save_model(old, tmp_path / "old.safetensors")
    save_model(new, tmp_path / "new.safetensors")
    old_hash = weights_hash(load_model(tmp_path / "old.safetensors"))
    c = old.config
    flat = entropy_tables.CodebookTable((), (), quantise(np.ones((1, c.codebook_size)), c.codebook_size))
    tables = entropy_tables.Tables(c.name, old_hash, c.codebook_size, 2, ((flat,) * c.n_top, (flat,) * c.n_bottom))
    entropy_tables.save(tables, tmp_path / "t.safetensors.gz", {"fitted": "by hand"})
    torch.manual_seed(0)
    prior = Prior(PriorConfig(codebook_size=c.codebook_size, n_top=c.n_top, n_bottom=c.n_bottom, ratio=2, dim=8))
    save_prior(prior, tmp_path / "p.safetensors", {"model_hash": old_hash.hex(), "cpu_minutes": 1.0})
    return (
        tmp_path / "old.safetensors",
        tmp_path / "new.safetensors",
        tmp_path / "t.safetensors.gz",
        tmp_path / "p.safetensors",
    )


def test_a_retrained_decoder_gets_the_tables_and_prior_under_its_own_hash(tmp_path: Path) -> None:
    old = make_model(MODEL)
    old_path, new_path, t, p = _files(tmp_path, old, _new_decoder(old, decoder_blocks=1, output_gain_db=1.0))
    line = rekey.rekey(old_path, new_path, (t, tmp_path / "t2.gz"), (p, tmp_path / "p2.safetensors"))
    new_hash = weights_hash(load_model(new_path))
    assert new_hash.hex() in line and new_hash != weights_hash(load_model(old_path))
    tables = entropy_tables.load(tmp_path / "t2.gz")
    assert tables.model_hash == new_hash
    assert tables.hash != entropy_tables.load(t).hash  # a stream names its tables: the new ones are new
    assert all(
        (a.freqs == b.freqs).all() for a, b in zip(_tables(tables), _tables(entropy_tables.load(t)), strict=True)
    )
    provenance = entropy_tables.provenance(tmp_path / "t2.gz")
    assert provenance["fitted"] == "by hand" and provenance["rekeyed"]["to"] == new_hash.hex()
    _, facts = load_prior(tmp_path / "p2.safetensors")
    assert facts["model_hash"] == new_hash.hex() and facts["cpu_minutes"] == 1.0
    before, after = load_file(p), load_file(tmp_path / "p2.safetensors")
    assert before.keys() == after.keys() and all((before[k] == after[k]).all() for k in before)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("encoder", "coding tensors differ: encoder."),
        ("hierarchy", "coding tensors differ: hierarchy."),
        ("pitch_bits", "configs differ in pitch_bits"),
    ],
)
def test_a_model_that_codes_differently_is_refused(tmp_path: Path, change: str, named: str) -> None:
    old = make_model(MODEL)
    new = _new_decoder(old, pitch_bits=6) if change == "pitch_bits" else _new_decoder(old)
    if change != "pitch_bits":
        name = next(k for k, v in new.state_dict().items() if k.startswith(change + ".") and v.is_floating_point())
        with torch.no_grad():
            new.state_dict()[name].add_(0.5)
    old_path, new_path, t, p = _files(tmp_path, old, new)
    with pytest.raises(UserError, match=named):
        rekey.rekey(old_path, new_path, (t, tmp_path / "t2.gz"), (p, tmp_path / "p2.safetensors"))
    assert not (tmp_path / "t2.gz").exists() and not (tmp_path / "p2.safetensors").exists()


def test_tables_of_another_model_are_refused(tmp_path: Path) -> None:
    old = make_model(MODEL)
    old_path, new_path, t, p = _files(tmp_path, old, _new_decoder(old))
    with pytest.raises(UserError, match="fitted on model"):
        rekey.rekey(new_path, new_path, (t, tmp_path / "t2.gz"), None)
