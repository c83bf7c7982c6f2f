"""Tests for vqcodec.runtime.folders with a stand-in for the coding work: a file whose work fails, however
it fails, is counted and the rest of the tree is still done; two inputs for one output are refused before
any work; a finished tree run again keeps its outputs and fails nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from vqcodec.errors import UserError
from vqcodec.runtime import folders


def _files(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    return root


def _copy(src: Path, dst: Path) -> float:
    if src.stem == "bad":
        raise AssertionError("a fault no check foresaw")
    dst.write_bytes(src.read_bytes())
    return 1.0


def test_an_unforeseen_fault_fails_one_file_alone(tmp_path) -> None:
    src = _files(tmp_path / "in", ["a.wav", "bad.wav", "c.wav"])
    jobs = folders.plan(src, tmp_path / "out", (".wav",), ".vqc")
    result = folders.run(jobs, _copy, force=False, progress="off")
    assert result.done == 2 and [(p.name, r) for p, r in result.failed] == [
        ("bad.wav", "AssertionError: a fault no check foresaw")
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.vqc", "c.vqc"]


def test_two_inputs_for_one_output_are_refused_up_front_naming_them(tmp_path) -> None:
    src = _files(tmp_path / "in", ["s.wav", "s.flac", "d/t.wav", "d/t.ogg", "u.wav"])
    with pytest.raises(UserError) as e:
        folders.plan(src, tmp_path / "out", (".wav", ".flac", ".ogg"), ".vqc")
    line = str(e.value)
    assert "\n" not in line and line.startswith("2 outputs would each be written from several inputs")
    assert f"{src / 's.flac'} and {src / 's.wav'} -> {tmp_path / 'out' / 's.vqc'}" in line
    assert f"{src / 'd' / 't.ogg'} and {src / 'd' / 't.wav'} -> {tmp_path / 'out' / 'd' / 't.vqc'}" in line
    assert not (tmp_path / "out").exists()


def test_a_finished_tree_run_again_keeps_every_output_and_fails_none(tmp_path) -> None:
    src = _files(tmp_path / "in", ["a.wav", "b/c.wav"])
    jobs = folders.plan(src, tmp_path / "out", (".wav",), ".vqc")
    first = folders.run(jobs, _copy, force=False, progress="off")
    (tmp_path / "out" / "a.vqc").write_bytes(b"mine")
    again = folders.run(jobs, _copy, force=False, progress="off")
    assert (first.done, first.kept, again.done, again.kept, again.failed) == (2, 0, 0, 2, [])
    assert (tmp_path / "out" / "a.vqc").read_bytes() == b"mine"
    assert folders.summary(again, "compressed").startswith("0 files compressed")
    assert "2 kept" in folders.summary(again, "compressed")
    forced = folders.run(jobs, _copy, force=True, progress="off")
    assert (forced.done, forced.kept) == (2, 0) and (tmp_path / "out" / "a.vqc").read_bytes() == b"x"
