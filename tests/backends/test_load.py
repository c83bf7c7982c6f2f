"""Tests for vqcodec.backends.load and identity: each backend takes its own kind of model, and a model of the
other kind, or an unknown runtime, is one line saying what to pass (in the library and at the CLI)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from vqcodec import backends, cli
from vqcodec.errors import UserError


def _weights(manifest) -> str:
    return str(manifest.with_name(manifest.name.removesuffix(".onnx.json") + ".safetensors"))


def test_each_backend_loads_its_own_kind_of_model(tiny_onnx) -> None:
    onnx = backends.load(tiny_onnx["istft"], "onnx")
    torch = backends.load(_weights(tiny_onnx["istft"]), "torch")
    assert (onnx.runtime, torch.runtime) == ("onnx", "torch")
    assert onnx.model_hash == torch.model_hash and onnx.config == torch.config
    assert onnx.context_frames == torch.context_frames  # measured at export, measured again on torch
    assert backends.identity(tiny_onnx["istft"]) == backends.identity(_weights(tiny_onnx["istft"]))


def test_a_model_of_the_other_kind_is_one_line(tiny_onnx) -> None:
    with pytest.raises(UserError, match="takes an exported model"):
        backends.load(_weights(tiny_onnx["istft"]), "onnx")
    with pytest.raises(UserError, match="takes a .safetensors model"):
        backends.load(tiny_onnx["istft"], "torch")
    with pytest.raises(UserError, match="unknown runtime"):
        backends.load(None, "tflite")


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_the_cli_says_which_model_a_runtime_takes(tmp_path, tiny_onnx, capsys, runtime: str) -> None:
    sf.write(tmp_path / "a.wav", np.zeros(800, np.float32), 16000)
    other = _weights(tiny_onnx["istft"]) if runtime == "onnx" else str(tiny_onnx["istft"])
    assert cli.main(["compress", str(tmp_path / "a.wav"), "--runtime", runtime, "-m", other]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "takes" in err
    assert not (tmp_path / "a.vqc").exists()


def test_files_coded_at_once_load_each_graph_once(tiny_onnx, monkeypatch) -> None:
    """A folder codes two files at once on one backend: the threads that first need a graph together load it
    once (twice cost a session's time and memory), and both get that session."""
    import threading

    import onnxruntime as ort

    from vqcodec.backends import onnxruntime as light

    made, real = [], ort.InferenceSession
    monkeypatch.setattr(light.ort, "InferenceSession", lambda *a, **k: made.append(a[0]) or real(*a, **k))
    backend, got = backends.load(tiny_onnx["istft"], "onnx"), []
    threads = [threading.Thread(target=lambda: got.append(backend._session("encoder"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len(got) == 4 and all(s is got[0] for s in got)
