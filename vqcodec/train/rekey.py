"""Carry a model's entropy tables and prior over to a model that makes the same codes (a retrained decoder).

    python -m vqcodec.train.rekey FROM_MODEL TO_MODEL --tables IN OUT --prior IN OUT

Tables and priors are fitted on a model's codes and name it by its weights hash. A model whose encoder,
hierarchy (quantizers, top encoder and decoder) and every config field that shapes the codes are those of
``FROM_MODEL`` makes the same codes from the same audio, however its decoder changed: its tables and prior
are ``FROM_MODEL``'s, named by the new hash. This checks that (tensor by tensor, and by coding a test signal
with both models: equal codes) and refuses otherwise, naming the first difference; fitting again on codes
that did not change would only spend the CPU hours of the prior. The provenance of each file records the
carry-over.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.numpy import save_file

from vqcodec.analysis.synthetic import speech_like
from vqcodec.codec import Codec
from vqcodec.entropy import tables as entropy_tables
from vqcodec.errors import UserError, VQCodecError
from vqcodec.io.atomic import atomic_path
from vqcodec.io.weights import load_model, weights_hash
from vqcodec.nn.model import VQCodecModel

# Config fields that only the decoder (or its output gain) reads: they may differ between the two models.
DECODER_FIELDS = frozenset(
    {
        "decoder_dim",
        "decoder_blocks",
        "decoder_upsample",
        "phase_terms",
        "minimum_phase",
        "rate_embedding",
        "output_gain_db",
    }
)
DECODER_PREFIX = "decoder."  # the bottom decoder's tensors: audio from codes, nothing that makes codes
_TEST_SECONDS = 2.0
_TOP_RUNG = 1e6  # kbps: every codebook


def check_same_codes(old: VQCodecModel, new: VQCodecModel) -> None:
    """Raise :class:`UserError` naming the first difference unless ``new`` makes ``old``'s codes."""
    a, b = dataclasses.asdict(old.config), dataclasses.asdict(new.config)
    for field in sorted(set(a) | set(b)):
        if field not in DECODER_FIELDS and a.get(field) != b.get(field):
            raise UserError(f"the models' configs differ in {field} ({a.get(field)!r}, {b.get(field)!r})")
    sa, sb = _coding_state(old), _coding_state(new)
    if sa.keys() != sb.keys():
        raise UserError(f"the models' coding tensors differ: {sorted(sa.keys() ^ sb.keys())[0]}")
    for name in sorted(sa):
        if sa[name].shape != sb[name].shape or not torch.equal(sa[name], sb[name]):
            raise UserError(f"the models' coding tensors differ: {name}")
    wav = torch.from_numpy(speech_like(_TEST_SECONDS, old.config.sample_rate, seed=1)).float()[None]
    ca, cb = (Codec(m).encode(wav, old.config.sample_rate, _TOP_RUNG) for m in (old, new))
    for x, y in zip(_streams(ca), _streams(cb), strict=True):
        if not torch.equal(x, y):
            raise UserError("the models code a test signal differently")


def _coding_state(model: VQCodecModel) -> dict[str, torch.Tensor]:
    """Every tensor but the bottom decoder's (bookkeeping included: it is equal in a frozen copy)."""
    return {k: v.detach().float() for k, v in model.state_dict().items() if not k.startswith(DECODER_PREFIX)}


def _streams(codes) -> list[torch.Tensor]:
    return [codes.top, codes.bottom] + ([codes.pitch] if codes.pitch is not None else [])


def rekey_tables(src: Path, dst: Path, old_hash: bytes, new_hash: bytes) -> entropy_tables.Tables:
    """``src``'s tables (fitted on the model ``old_hash``) written to ``dst`` for the model ``new_hash``."""
    tables = entropy_tables.load(src)
    if tables.model_hash != old_hash:
        raise UserError(f"{src}: fitted on model {tables.model_hash.hex()}, not {old_hash.hex()}")
    provenance = entropy_tables.provenance(src)
    provenance["rekeyed"] = _note(old_hash, new_hash)
    out = dataclasses.replace(tables, model_hash=new_hash)
    entropy_tables.save(out, dst, provenance)
    return out


def rekey_prior(src: Path, dst: Path, old_hash: bytes, new_hash: bytes) -> None:
    """``src``'s prior (trained on the codes of model ``old_hash``) written to ``dst`` for ``new_hash``: the
    same tensors, byte for byte; its facts name the new model and record the carry-over."""
    with safe_open(str(src), "np") as f:
        meta, arrays = dict(f.metadata() or {}), {k: f.get_tensor(k) for k in f.keys()}
    facts = json.loads(meta.get("facts", "{}"))
    if facts.get("model_hash") != old_hash.hex():
        raise UserError(f"{src}: trained on codes of model {facts.get('model_hash')}, not {old_hash.hex()}")
    facts["model_hash"], facts["rekeyed"] = new_hash.hex(), _note(old_hash, new_hash)
    meta["facts"] = json.dumps(facts, sort_keys=True)
    with atomic_path(dst) as tmp:
        save_file(arrays, str(tmp), metadata=meta)


def _note(old_hash: bytes, new_hash: bytes) -> dict:
    return {"from": old_hash.hex(), "to": new_hash.hex(), "why": "the same codes: only the decoder differs"}


def rekey(old_path: Path, new_path: Path, tables: tuple[Path, Path] | None, prior: tuple[Path, Path] | None) -> str:
    """Check the two models and carry the files over; returns a one-line summary."""
    old, new = load_model(old_path), load_model(new_path)
    check_same_codes(old, new)
    old_hash, new_hash = weights_hash(old), weights_hash(new)
    if tables:
        rekey_tables(*tables, old_hash, new_hash)
    if prior:
        rekey_prior(*prior, old_hash, new_hash)
    done = [str(p[1]) for p in (tables, prior) if p]
    return f"{', '.join(done) or 'nothing written'}: model {old_hash.hex()} -> {new_hash.hex()} (same codes)"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m vqcodec.train.rekey", description=__doc__.split("\n")[0])
    p.add_argument("old", type=Path, help="the model the tables and prior were fitted on")
    p.add_argument("new", type=Path, help="the model to carry them over to")
    p.add_argument("--tables", nargs=2, type=Path, metavar=("IN", "OUT"), help="entropy tables file")
    p.add_argument("--prior", nargs=2, type=Path, metavar=("IN", "OUT"), help="prior file")
    args = p.parse_args(argv)
    try:
        print(rekey(args.old, args.new, args.tables, args.prior))
    except VQCodecError as e:
        sys.exit(f"vqcodec: {e}")


if __name__ == "__main__":
    main()
