"""Tests for vqcodec.pipeline.folders with a stand-in for the coding work: a file whose work fails, however
it fails, is counted and the rest of the tree is still done; two inputs for one output are refused before
any work; a finished tree run again keeps its outputs and fails nothing; a signal in the main thread stops
the file in flight at its next block, leaving no output."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest

from vqcodec.errors import UserError
from vqcodec.pipeline import folders


def _files(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    return root


def _copy(src: Path, dst: Path, stop: threading.Event) -> float:
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


class _Signalled(BaseException):
    """What the CLI's SIGTERM handler raises (vqcodec.errors.Terminated), here for SIGUSR1."""


def test_a_signal_stops_the_file_in_flight_at_its_next_block_and_leaves_nothing(tmp_path) -> None:
    """The main thread waits on the workers; a signal there sets the stop flag, and the work in flight (a
    long file, block by block) ends at its next block instead of being waited for to the end."""
    from vqcodec.io.atomic import atomic_path
    from vqcodec.pipeline.files import Stopped

    src = _files(tmp_path / "in", ["long.wav", "next.wav"])
    started, blocks = threading.Event(), []

    def work(src: Path, dst: Path, stop: threading.Event) -> float:
        with atomic_path(dst) as tmp:
            for block in range(10_000):
                if stop.is_set():
                    raise Stopped()
                blocks.append(block)
                Path(tmp).write_bytes(b"x" * block)
                if block == 10:  # well in flight: the main thread waits on its result by now
                    started.set()
                stop.wait(0.01)
        return 1.0

    def raise_signalled(signum, frame):
        raise _Signalled()

    previous = signal.signal(signal.SIGUSR1, raise_signalled)
    main = threading.main_thread().ident
    threading.Thread(target=lambda: started.wait() and signal.pthread_kill(main, signal.SIGUSR1)).start()
    try:
        with pytest.raises(_Signalled):
            folders.run(folders.plan(src, tmp_path / "out", (".wav",), ".vqc"), work, force=False, progress="off")
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert 10 < len(blocks) < 10_000
    assert [p.name for p in (tmp_path / "out").rglob("*")] == []  # no output, no .part, next.wav not begun


def test_on_a_file_system_that_ignores_case_names_apart_only_in_case_collide(tmp_path, monkeypatch) -> None:
    src = _files(tmp_path / "in", ["S.wav", "s.flac"])
    assert not folders.case_insensitive(tmp_path)  # Linux: S.vqc and s.vqc are two files
    assert len(folders.plan(src, tmp_path / "out", (".wav", ".flac"), ".vqc")) == 2
    monkeypatch.setattr(folders, "case_insensitive", lambda folder: True)
    with pytest.raises(UserError, match="1 output would be written from several inputs: "):
        folders.plan(src, tmp_path / "out", (".wav", ".flac"), ".vqc")
