"""Tables on disk: saved and loaded without pickle, checked, and named by a hash of their content."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import K, tables

from vqcodec.entropy import tables as T
from vqcodec.errors import UserError


def test_save_load_round_trip_keeps_the_hash(tmp_path: Path) -> None:
    t = tables(2)
    T.save(t, tmp_path / "t.safetensors", {"note": "test"})
    back = T.load(tmp_path / "t.safetensors")
    assert back.hash == t.hash
    assert T.provenance(tmp_path / "t.safetensors") == {"note": "test"}
    for a, b in zip(t.levels, back.levels, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x.sources == y.sources
            np.testing.assert_array_equal(x.freqs, y.freqs)


def test_compressed_file_holds_the_same_tables(tmp_path: Path) -> None:
    """A ``.gz`` name stores the same safetensors file gzip-compressed: smaller, the same tables and provenance,
    and the same bytes each time (no time stamp), so a committed file is reproducible."""
    from vqcodec.entropy.rewrite import main

    t = tables(2)
    T.save(t, tmp_path / "t.safetensors", {"note": "test"})
    main([str(tmp_path / "t.safetensors"), "-o", str(tmp_path / "t.safetensors.gz")])
    back = T.load(tmp_path / "t.safetensors.gz")
    assert back.hash == t.hash and T.provenance(tmp_path / "t.safetensors.gz") == {"note": "test"}
    assert (tmp_path / "t.safetensors.gz").stat().st_size < (tmp_path / "t.safetensors").stat().st_size
    T.save(t, tmp_path / "again.safetensors.gz", {"note": "test"})
    assert (tmp_path / "again.safetensors.gz").read_bytes() == (tmp_path / "t.safetensors.gz").read_bytes()
    main([str(tmp_path / "t.safetensors.gz"), "-o", str(tmp_path / "plain.safetensors")])
    assert (tmp_path / "plain.safetensors").read_bytes() == (tmp_path / "t.safetensors").read_bytes()


def test_hash_changes_with_any_frequency() -> None:
    t = tables(2)
    before = t.hash
    t.levels[1][0].freqs[0, :2] += np.array([1, -1], dtype=np.int64).astype(np.uint16)
    assert t.hash != before


def test_rows_must_sum_to_the_fixed_total() -> None:
    t = tables(0)
    t.levels[0][0].freqs[0, 0] += 1
    with pytest.raises(ValueError, match="sum to"):
        T.check(t)


def test_not_a_tables_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"not safetensors")
    with pytest.raises(UserError, match="not a vqcodec entropy tables file"):
        T.load(bad)
    bad.with_suffix(".gz").write_bytes(b"\x1f\x8b not gzip")
    with pytest.raises(UserError, match="not a vqcodec entropy tables file"):
        T.load(bad.with_suffix(".gz"))


def test_row_sum_scales_to_exactly_two_to_the_24() -> None:
    for k in (256, 512, 1024):
        assert T.SCALE * T.row_sum(k) + k == 2**T.PRECISION
    with pytest.raises(ValueError):
        T.row_sum(1000)
    assert K == 256
