"""Tests for vqcodec.runtime.folders with a stand-in for the coding work: a file whose work fails, however
it fails, is counted and the rest of the tree is still done."""

from __future__ import annotations

from pathlib import Path

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
