"""Tests for vqcodec.pipeline.commands and folders: a tree compressed and decompressed in one call, bad files
reported and skipped, existing outputs kept without --force, --jobs, and pipes, on both backends (the
``models`` fixture)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import speech_like

from vqcodec import cli
from vqcodec.errors import UserError
from vqcodec.pipeline.commands import runtime


@pytest.fixture(params=["onnx", "torch"])
def models(request, tiny_onnx) -> dict[str, str]:
    """Head -> the tiny model on each backend: its export (onnxruntime) or the weights it was exported from
    (torch)."""
    if request.param == "onnx":
        return {head: str(path) for head, path in tiny_onnx.items()}
    return {head: _weights(path) for head, path in tiny_onnx.items()}


def _weights(manifest: Path) -> str:
    """The weights an exported model was exported from, beside its manifest."""
    return str(manifest.with_name(manifest.name.removesuffix(".onnx.json") + ".safetensors"))


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    sf.write(root / "a.wav", speech_like(0.5, 16000, seed=0), 16000)
    sf.write(root / "sub" / "b.flac", np.stack([speech_like(0.3, 22050, seed=1)] * 2, 1), 22050)
    (root / "sub" / "broken.wav").write_bytes(b"RIFF not really")
    (root / "notes.txt").write_text("not audio")
    return root


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_folder_round_trip_mirrors_the_tree_and_skips_bad_files(tmp_path, models, capsys) -> None:
    src, vqc, out = _tree(tmp_path / "in"), tmp_path / "vqc", tmp_path / "out"
    model = models["istft"]
    assert cli.main(["compress", str(src), "-o", str(vqc), "-m", model, "-q"]) == 3  # one bad file
    err = capsys.readouterr().err
    assert "broken.wav" in err and "2 files compressed" in err and "1 failed" in err
    assert _listing(vqc) == ["a.vqc", "sub/b.vqc"]
    assert cli.main(["decompress", str(vqc), "-o", str(out), "-m", model, "-q"]) == 0
    assert _listing(out) == ["a.wav", "sub/b.wav"]
    b = sf.info(out / "sub" / "b.wav")
    assert (b.samplerate, b.channels, b.frames) == (22050, 2, round(0.3 * 22050))


def test_folder_keeps_existing_outputs_without_force(tmp_path, models, capsys) -> None:
    src, vqc = _tree(tmp_path / "in"), tmp_path / "vqc"
    model = models["istft"]
    cli.main(["compress", str(src), "-o", str(vqc), "-m", model, "-q"])
    (vqc / "a.vqc").write_bytes(b"mine")
    assert cli.main(["compress", str(src), "-o", str(vqc), "-m", model, "-q"]) == 3  # broken.wav still fails
    err = capsys.readouterr().err
    assert "0 files compressed" in err and "2 kept" in err and "--force replaces" in err and "1 failed" in err
    assert (vqc / "a.vqc").read_bytes() == b"mine"
    assert cli.main(["compress", str(src), "-o", str(vqc), "-m", model, "-q", "--force", "--jobs", "2"]) == 3
    assert (vqc / "a.vqc").read_bytes()[:3] == b"VQC"


def test_jobs_give_the_same_files(tmp_path, models) -> None:
    src, one, two = _tree(tmp_path / "in"), tmp_path / "one", tmp_path / "two"
    model = models["harmonic"]
    cli.main(["compress", str(src), "-o", str(one), "-m", model, "-q", "-j", "1"])
    cli.main(["compress", str(src), "-o", str(two), "-m", model, "-q", "-j", "2"])
    for name in _listing(one):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_folder_needs_an_output_folder(tmp_path, models, capsys) -> None:
    src = _tree(tmp_path / "in")
    assert cli.main(["compress", str(src), "-m", models["istft"]]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "-o OUT_DIR" in err


def test_pipes(tmp_path, models) -> None:
    """``-`` reads stdin and writes stdout; the bytes equal a file's."""
    sf.write(tmp_path / "a.wav", speech_like(0.4, 16000, seed=2), 16000)
    model = models["istft"]
    assert cli.main(["compress", str(tmp_path / "a.wav"), "-m", model, "-q"]) == 0

    def run(argv: list[str], data: bytes) -> bytes:
        code = f"import sys; from vqcodec.cli import main; sys.exit(main({argv!r}))"
        r = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr.decode()[-1000:]
        return r.stdout

    vqc = run(["compress", "-", "-m", model], (tmp_path / "a.wav").read_bytes())
    assert vqc == (tmp_path / "a.vqc").read_bytes()
    wav = run(["decompress", "-", "-m", model], vqc)
    (tmp_path / "b.wav").write_bytes(wav)
    assert sf.info(tmp_path / "b.wav").frames == sf.info(tmp_path / "a.wav").frames


def test_folder_with_two_inputs_for_one_output_is_refused_before_any_work(tmp_path, models, capsys) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    sf.write(src / "s.wav", speech_like(0.3, 16000, seed=4), 16000)
    sf.write(src / "s.flac", speech_like(0.3, 16000, seed=5), 16000)
    sf.write(src / "t.wav", speech_like(0.3, 16000, seed=6), 16000)
    argv = ["compress", str(src), "-o", str(out), "-m", models["istft"], "--force", "--jobs", "2"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{src / 's.flac'} and {src / 's.wav'} -> {out / 's.vqc'}" in err
    assert not out.exists()


def test_a_finished_folder_run_again_exits_0_and_counts_its_outputs_kept(tmp_path, models, capsys) -> None:
    src, vqc, wav = tmp_path / "in", tmp_path / "vqc", tmp_path / "wav"
    (src / "sub").mkdir(parents=True)
    sf.write(src / "a.wav", speech_like(0.3, 16000, seed=7), 16000)
    sf.write(src / "sub" / "b.wav", speech_like(0.3, 16000, seed=8), 16000)
    model = models["istft"]
    for argv in (["compress", str(src), "-o", str(vqc)], ["decompress", str(vqc), "-o", str(wav)]):
        assert cli.main([*argv, "-m", model, "-q"]) == 0
        before = {p: p.stat().st_mtime_ns for p in Path(argv[3]).rglob("*") if p.is_file()}
        capsys.readouterr()
        assert cli.main([*argv, "-m", model, "-q"]) == 0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "0 files" in err and "2 kept" in err and "failed" not in err, err
        assert {p: p.stat().st_mtime_ns for p in Path(argv[3]).rglob("*") if p.is_file()} == before


def test_threads_are_bounded_by_the_usable_cores(tmp_path, tiny_onnx, monkeypatch) -> None:
    """--threads 1000 once started 832 onnxruntime threads; torch and onnxruntime get the usable cores."""
    from vqcodec.pipeline import files
    from vqcodec.threads import torch_threads, usable_cores

    sf.write(tmp_path / "a.wav", speech_like(0.2, 16000, seed=10), 16000)
    asked, load = [], files.load
    monkeypatch.setattr(
        files, "load", lambda model, threads, runtime: asked.append(threads) or load(model, threads, runtime)
    )
    argv = ["compress", str(tmp_path / "a.wav"), "-m", str(tiny_onnx["istft"]), "-q", "--threads", "1000"]
    assert cli.main(argv) == 0 and asked == [usable_cores()]
    with torch_threads(1000) as n:
        assert n == usable_cores()


@pytest.mark.parametrize(
    ("backend", "threads", "jobs", "workers"),
    [("onnx", "2", [], 2), ("onnx", "1", [], 1), ("torch", "2", [], 1), ("onnx", "2", ["-j", "1"], 1)],
)
def test_a_folder_codes_two_files_at_once_on_onnxruntime_by_default(
    tmp_path, tiny_onnx, monkeypatch, backend, threads, jobs, workers
) -> None:
    """Without --jobs: two files at once on onnxruntime, each on its share of the threads, never more
    workers than threads; one on torch; --jobs still decides."""
    from vqcodec.pipeline import files, folders

    src, seen, run = _tree(tmp_path / "in"), [], folders.run
    monkeypatch.setattr(
        folders, "run", lambda jobs, work, force, n, progress: seen.append(n) or run(jobs, work, force, n)
    )
    model = str(tiny_onnx["istft"]) if backend == "onnx" else _weights(tiny_onnx["istft"])
    monkeypatch.setattr(files, "load", lambda m, t, r, load=files.load: seen.append(t) or load(m, t, r))
    argv = ["compress", str(src), "-o", str(tmp_path / "out"), "-m", model, "-q", "--threads", threads, *jobs]
    assert cli.main(argv) == 3  # broken.wav
    assert seen == [max(1, int(threads) // workers), workers]


def test_jobs_share_the_threads_on_torch_as_on_onnxruntime(tmp_path, tiny_onnx, monkeypatch) -> None:
    """--jobs 2 --threads 2: each file codes on one thread, on either backend (torch has one pool per process)."""
    import torch

    from vqcodec.pipeline import files

    src = _tree(tmp_path / "in")
    seen, load, compress_file = [], files.load, files.compress_file
    monkeypatch.setattr(files, "load", lambda m, threads, runtime: seen.append(threads) or load(m, threads, runtime))
    monkeypatch.setattr(files, "compress_file", lambda *a: seen.append(torch.get_num_threads()) or compress_file(*a))
    weights = _weights(tiny_onnx["istft"])
    argv = ["compress", str(src), "-o", str(tmp_path / "out"), "-m", weights, "-q", "-j", "2", "--threads", "2"]
    before = torch.get_num_threads()
    assert cli.main(argv) == 3  # broken.wav
    assert seen == [1, 1, 1, 1] and torch.get_num_threads() == before


def test_a_fifo_and_a_dangling_link_in_a_folder_fail_by_name(tmp_path, models, capsys) -> None:
    """Once skipped without a word; a FIFO is refused before it is opened (opening it would block)."""
    import os

    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "a.wav", speech_like(0.3, 16000, seed=12), 16000)
    os.mkfifo(src / "fifo.wav")
    (src / "dangling.wav").symlink_to(tmp_path / "gone.wav")
    argv = ["compress", str(src), "-o", str(tmp_path / "out"), "-m", models["istft"], "-q"]
    assert cli.main(argv) == 3
    err = capsys.readouterr().err
    assert "fifo.wav: not a regular file" in err and "dangling.wav: no such file" in err
    assert "1 file compressed" in err and "2 failed" in err


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(
    tmp_path, models, capsys, monkeypatch
) -> None:
    """One line, not one error per file (as root, a read-only folder is writable: os.access says so)."""
    from vqcodec.pipeline import commands

    src, parent = tmp_path / "in", tmp_path / "ro"
    src.mkdir(), parent.mkdir()
    sf.write(src / "a.wav", speech_like(0.3, 16000, seed=13), 16000)
    sf.write(src / "b.wav", speech_like(0.3, 16000, seed=14), 16000)
    monkeypatch.setattr(commands.os, "access", lambda path, mode: Path(path) != parent)
    argv = ["compress", str(src), "-o", str(parent / "out"), "-m", models["istft"]]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err == f"vqcodec: {parent / 'out'}: cannot write in {parent}\n"
    assert list(parent.iterdir()) == []


@pytest.mark.parametrize(
    ("model", "asked", "device", "picked"),
    [
        (None, "auto", None, "onnx"),
        ("m.onnx.json", "auto", None, "onnx"),
        ("m.safetensors", "auto", None, "torch"),
        (None, "auto", "cuda", "torch"),  # onnxruntime runs on the CPU here
        (None, "torch", "cpu", "torch"),
        ("m.safetensors", "onnx", "cpu", "onnx"),  # asked for: backends.load says in one line what it takes
    ],
)
def test_the_one_choice_rule_of_a_backend(model, asked, device, picked) -> None:
    """compress, decompress, tokens and eval all pick their backend by commands.runtime."""
    pytest.importorskip("onnxruntime")
    assert runtime(argparse.Namespace(model=model, runtime=asked, device=device)) == picked


def test_onnxruntime_on_another_device_is_one_line() -> None:
    with pytest.raises(UserError, match="runs on the CPU, not on cuda:1"):
        runtime(argparse.Namespace(model=None, runtime="onnx", device="cuda:1"))
