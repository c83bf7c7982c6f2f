"""Tests for vqcodec.analysis.vqcodec_coder and the backend ``vqcodec eval`` measures: by default the one
``vqcodec compress`` uses for the model (onnxruntime for the shipped model and a .onnx.json, torch for a
.safetensors model), named in the printed table, eval.md and eval.json; both backends give the same codes and
bytes, and scores within a small tolerance."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import TOP_RUNG, run_cli, speech_like

from vqcodec.analysis.vqcodec_coder import backend_line, vqcodec_coder
from vqcodec.pipeline import files


def _weights(manifest) -> str:
    return str(manifest.with_name(manifest.name.removesuffix(".onnx.json") + ".safetensors"))


@pytest.fixture(scope="module")
def both(tiny_onnx):
    """The tiny model on each backend (the export and the weights it was made from)."""
    manifest = tiny_onnx["istft"]
    return {"onnx": files.load(manifest, 1, "onnx"), "torch": files.load(_weights(manifest), 1, "torch")}


def test_both_backends_give_the_same_codes_bytes_and_near_audio(both, tmp_path) -> None:
    ref = speech_like(0.8, 16000, seed=3)
    codes = {name: codec.encode(ref[None], 16000, TOP_RUNG) for name, codec in both.items()}
    for got, want in zip(codes["onnx"].streams, codes["torch"].streams, strict=True):
        assert np.array_equal(np.asarray(got), np.asarray(want))
    rung = both["onnx"].rung(TOP_RUNG)
    coded = {name: vqcodec_coder(codec, rung)(ref, tmp_path / "ref.wav", tmp_path) for name, codec in both.items()}
    assert coded["onnx"].num_bytes == coded["torch"].num_bytes
    assert coded["onnx"].audio.shape == coded["torch"].audio.shape == ref.shape
    assert coded["onnx"].audio.dtype == np.float32 and np.abs(coded["onnx"].audio - coded["torch"].audio).max() < 1e-4


def test_both_backends_score_alike(both, audio_dir) -> None:
    for module in ("pesq", "pystoi"):
        pytest.importorskip(module)
    from vqcodec.analysis.quality import evaluate

    found = [audio_dir / "a.wav"]
    rows = {name: evaluate(c, found, [c.rung(TOP_RUNG)], examples=0).rows[0] for name, c in both.items()}
    onnx, torch = rows["onnx"], rows["torch"]
    assert onnx.real_kbps == torch.real_kbps
    for metric, tolerance in (("stoi", 1e-3), ("log_mel", 1e-3), ("si_sdr", 0.01), ("pesq_wb", 0.01)):
        a, b = getattr(onnx, metric), getattr(torch, metric)
        assert (a is None) == (b is None) and (a is None or math.isclose(a, b, abs_tol=tolerance)), metric


def test_codebook_usage_counts_alike_on_both_backends(both, audio_dir) -> None:
    """benchmarks/quality.py's usage pass takes numpy codes (onnxruntime) as it takes tensors."""
    from vqcodec.analysis.quality import codebook_usage

    usage = {name: codebook_usage(c, sorted(audio_dir.iterdir())) for name, c in both.items()}
    assert usage["onnx"] == usage["torch"] and [u.level for u in usage["onnx"]] == ["top", "bottom"]


def test_backend_line_names_the_runtime(both) -> None:
    assert backend_line(both["onnx"]).startswith("onnxruntime ") and "1 threads" in backend_line(both["onnx"])
    assert backend_line(both["torch"]).startswith("torch ") and backend_line(both["torch"]).endswith(", cpu")


@pytest.mark.parametrize(
    ("model", "asked", "runtime"), [("onnx", None, "onnx"), ("torch", None, "torch"), ("onnx", "onnx", "onnx")]
)
def test_eval_measures_the_model_s_default_backend_and_names_it(
    tmp_path, capsys, tiny_onnx, audio_dir, model, asked, runtime
) -> None:
    for module in ("pesq", "pystoi", "matplotlib"):
        pytest.importorskip(module)
    path = str(tiny_onnx["istft"]) if model == "onnx" else _weights(tiny_onnx["istft"])
    argv = ["eval", audio_dir / "a.wav", "-m", path, "-b", "7", "-o", tmp_path]
    code, out, err = run_cli(capsys, *argv, *(["--runtime", asked] if asked else []))
    assert code == 0, err
    result = json.loads((tmp_path / "eval.json").read_text())
    name = {"onnx": "onnxruntime", "torch": "torch"}[runtime]
    assert result["runtime"] == runtime and result["backend"].startswith(name + " ")
    assert f"on {result['backend']};" in (tmp_path / "eval.md").read_text() and f"on {name} " in out


@pytest.mark.parametrize(("asked", "runtime"), [(None, "onnx"), ("torch", "torch")])
def test_the_shipped_model_is_measured_on_onnxruntime_unless_asked(tmp_path, capsys, audio_dir, asked, runtime) -> None:
    """What a user runs by default: ``vqcodec compress`` codes with the shipped model on onnxruntime."""
    for module in ("pesq", "pystoi", "matplotlib"):
        pytest.importorskip(module)
    pytest.importorskip("onnxruntime")
    argv = ["eval", audio_dir / "a.wav", "-b", "3", "-o", tmp_path, *(["--runtime", asked] if asked else [])]
    code, _, err = run_cli(capsys, *argv)
    assert code == 0, err
    result = json.loads((tmp_path / "eval.json").read_text())
    assert result["runtime"] == runtime and result["model"] == "shipped default"
    assert ("--runtime" in result["command"]) == (asked is not None)
    assert asked is None or f"--runtime {asked}" in result["command"]


def test_a_backend_the_model_is_not_for_is_one_line(tmp_path, capsys, tiny_onnx, audio_dir) -> None:
    pytest.importorskip("pesq")
    pytest.importorskip("matplotlib")
    argv = ["eval", audio_dir, "-m", _weights(tiny_onnx["istft"]), "--runtime", "onnx", "-o", tmp_path]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1 and err.count("\n") == 1 and "takes an exported model" in err
