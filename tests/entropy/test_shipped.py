"""The shipped tables belong to the shipped weights, stay small, and the entropy package needs no torch."""

from __future__ import annotations

import subprocess
import sys

from vqcodec import entropy
from vqcodec.entropy import tables as T


def test_shipped_tables_were_fitted_on_the_shipped_model(shipped_codec) -> None:
    """Fails when the weights change without the tables: re-derive them (docs/format.md, "Entropy coding")."""
    tables = T.load(entropy.default_tables_path())
    assert tables.model_hash == shipped_codec.hash, (
        f"tables fitted on model {tables.model_hash.hex()}, shipped weights are {shipped_codec.hash.hex()}: "
        "re-run vqcodec tokens and python -m vqcodec.entropy.fit"
    )
    assert entropy.coder_for(shipped_codec.hash) is not None
    assert tables.codebook_size == shipped_codec.config.codebook_size
    assert [len(level) for level in tables.levels] == [s.codebooks for s in shipped_codec.config.streams]


def test_shipped_tables_are_a_few_megabytes() -> None:
    assert entropy.default_tables_path().stat().st_size < 5e6


def test_entropy_coding_imports_no_torch() -> None:
    code = (
        "import sys, vqcodec.entropy, vqcodec.entropy.fit, vqcodec.io.container\n"
        "from vqcodec import entropy\n"
        "assert entropy.coders()\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_info_shows_bits_per_code_and_the_saving() -> None:
    from pathlib import Path

    from vqcodec.pipeline.info import info

    golden = Path(__file__).resolve().parents[1] / "golden"
    coded, plain = info(str(golden / "speech.entropy.vqc")), info(str(golden / "speech.vqc"))
    assert coded["entropy_coded"] and coded["format_version"] == 2 and not plain["entropy_coded"]
    assert coded["plain_bytes"] == plain["bytes"] == plain["plain_bytes"]
    assert float(coded["saving"].rstrip(" %")) == round(100 * (1 - coded["bytes"] / plain["bytes"]), 1) > 0
    for level in coded["levels"].values():
        assert 0 < level["bits_per_code"] < level["bits"]
    assert all(level["bits_per_code"] == level["bits"] for level in plain["levels"].values())
    assert [level["bits"] for level in plain["levels"].values()] == [10, 10, 7][: len(plain["levels"])]


def test_a_lookup_loads_only_the_tables_it_needs(monkeypatch, shipped_codec) -> None:
    """Each shipped model has its tables: finding the default model's loads that file alone (a speech file's
    decompress never gunzips the general model's tables), and an unknown hash looks through them all."""
    monkeypatch.setattr(entropy, "_LOADED", {})
    coder = entropy.coder_for(shipped_codec.hash)
    assert coder is not None and list(entropy._LOADED) == [entropy.default_tables_path()]
    assert entropy.coders()[coder.hash] is coder and len(entropy._LOADED) == 1
    assert entropy.coders().get(b"\0\0\0\0") is None
    assert len(entropy._LOADED) == len(list(entropy.default_tables_path().parent.glob("*.tables.safetensors.gz")))
