"""Tests for vqcodec.pretrained: the shipped models found from their files, picked by name (``--model NAME``)
on both runtimes and on every command that takes ``--model``, and by the .vqc that names its writer
(``decompress`` and ``info`` without ``--model``: one file, stdin, a folder). Two tiny exported models stand in
for the shipped ones (:func:`vqcodec.pretrained.folder` pointed at them); the package's own default is
checked as it ships."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from conftest import run_cli, speech_like

import vqcodec
from vqcodec import pretrained
from vqcodec.io import container


@pytest.fixture(scope="module")
def two_models(tmp_path_factory, tiny_onnx) -> Path:
    """A folder of two shipped models, ``tiny`` and ``tinyh`` (copies of the session's tiny exports)."""
    folder = tmp_path_factory.mktemp("shipped")
    for path in tiny_onnx["istft"].parent.iterdir():
        if path.name.startswith(("tiny.", "tinyh.")):
            shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture
def shipped_here(two_models, monkeypatch) -> Path:
    """The two tiny models as the package's shipped models."""
    monkeypatch.setattr(pretrained, "folder", lambda: two_models)
    return two_models


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "a.wav"
    sf.write(path, speech_like(0.4, 16000, seed=3), 16000)
    return path


def _writer(vqc: Path) -> str:
    return container.read(vqc.read_bytes()).model_name


def _assert_one_line(code: int, err: str, *needles: str) -> None:
    assert code != 0 and "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("vqcodec: "), err
    assert all(needle in err for needle in needles), err


# ---------------------------------------------------------------- the package as it ships


def test_the_default_is_shipped_as_sp16k_and_by_its_old_paths() -> None:
    models = pretrained.shipped()
    names = [m.name for m in models]
    assert names[0] == "sp16k" and models[0].is_default and len(set(names)) == len(names)
    assert pretrained.find("default") == pretrained.find("sp16k") == models[0]
    assert models[0].file("torch") == pretrained.default_model_path()
    assert models[0].file("onnx") == pretrained.default_onnx_path()
    assert pretrained.model_file(None, "onnx") is None  # no --model: the default, as before


def test_info_checks_a_file_with_the_model_named_or_the_one_that_wrote_it(capsys) -> None:
    golden = Path(__file__).parents[1] / "golden" / "speech.vqc"
    for extra in ([], ["-m", "sp16k"], ["-m", "default"]):
        code, out, err = run_cli(capsys, "info", golden, "--json", *extra)
        assert (code, err) == (0, "") and json.loads(out)["checks"] == "all that decompress checks"


def test_info_and_help_list_the_shipped_models(capsys) -> None:
    code, out, _ = run_cli(capsys, "info")
    assert code == 0 and "sp16k or default (the default): 16000 Hz" in out and "ga24k or general: 24000 Hz" in out
    code, out, _ = run_cli(capsys, "info", "--json")
    assert code == 0 and [m["name"] for m in json.loads(out)] == ["sp16k", "ga24k"]
    for argv in (["--help"], ["compress", "--help"], ["decompress", "--help"], ["info", "--help"]):
        with pytest.raises(SystemExit):
            run_cli(capsys, *argv)
        listed = "shipped models (--model NAME): sp16k (default, 16000 Hz), ga24k (24000 Hz)"
        assert listed in capsys.readouterr().out


def test_help_lists_the_models_without_torch_onnxruntime_or_numpy() -> None:
    script = (
        "import contextlib, io, sys\nfrom vqcodec.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n    main(['--help'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'onnxruntime', 'numpy'}))"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "[]", r.stderr


def test_a_vqc_no_shipped_model_wrote_is_the_one_line_it_was(tmp_path, wav, tiny_onnx, capsys) -> None:
    vqc = tmp_path / "a.vqc"
    assert run_cli(capsys, "compress", wav, "-o", vqc, "-m", tiny_onnx["istft"], "-q")[0] == 0
    code, _, err = run_cli(capsys, "decompress", vqc, "-o", tmp_path / "a.wav")
    _assert_one_line(code, err, "made by model 'tiny'", "'sp16k'", "decode with the encoder's model")
    assert not (tmp_path / "a.wav").exists()


# ---------------------------------------------------------------- two shipped models


def test_two_models_are_found_by_name_and_stem(shipped_here) -> None:
    assert [m.name for m in pretrained.shipped()] == ["tiny", "tinyh"]
    tinyh = pretrained.find("tinyh")
    assert tinyh.file("onnx") == shipped_here / "tinyh.onnx.json"
    assert tinyh.file("torch") == shipped_here / "tinyh.safetensors"
    assert pretrained.find("default") is None  # no default.* here
    assert vqcodec.load("tinyh").name == "tinyh"  # the torch API takes a name too


def test_a_manifest_without_weights_is_no_model_and_a_broken_one_is_one_line(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(pretrained, "folder", lambda: tmp_path)
    (tmp_path / "lone.onnx.json").write_text('{"config": {"name": "lone"}, "model_hash": "00000000"}')
    assert pretrained.shipped() == () and pretrained.listing() == "none"
    (tmp_path / "lone.onnx.json").write_text("{not json")
    code, _, err = run_cli(capsys, "info")
    _assert_one_line(code, err, "lone.onnx.json: a broken shipped model")


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_model_by_name_and_decompress_by_its_writer(shipped_here, tmp_path, wav, capsys, runtime) -> None:
    for name in ("tiny", "tinyh"):
        vqc, out = tmp_path / f"{name}.vqc", tmp_path / f"{name}.wav"
        assert run_cli(capsys, "compress", wav, "-o", vqc, "-m", name, "--runtime", runtime, "-q")[0] == 0
        assert _writer(vqc) == name
        code, _, err = run_cli(capsys, "decompress", vqc, "-o", out, "--runtime", runtime, "-q")  # no --model
        assert (code, err) == (0, "") and sf.info(out).frames == sf.info(wav).frames
        code, facts, _ = run_cli(capsys, "info", vqc, "--json")
        assert code == 0 and json.loads(facts)["checks"] == "all that decompress checks"
    code, _, err = run_cli(capsys, "decompress", tmp_path / "tiny.vqc", "-o", tmp_path / "x.wav", "-m", "tinyh")
    _assert_one_line(code, err, "made by model 'tiny'")  # a named model is used, not the writer


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_a_folder_is_decoded_file_by_file_by_each_writer(shipped_here, tmp_path, wav, capsys, runtime) -> None:
    vqcs = tmp_path / "vqc"
    vqcs.mkdir()
    for name in ("tiny", "tinyh"):
        assert run_cli(capsys, "compress", wav, "-o", vqcs / f"{name}.vqc", "-m", name, "-q")[0] == 0
    code, _, err = run_cli(capsys, "decompress", vqcs, "-o", tmp_path / "out", "--runtime", runtime, "-q")
    assert code == 0 and "2 files decompressed" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["tiny.wav", "tinyh.wav"]


def test_stdin_is_decoded_by_its_writer(shipped_here, tmp_path, wav, capsys, monkeypatch) -> None:
    vqc = tmp_path / "a.vqc"
    assert run_cli(capsys, "compress", wav, "-o", vqc, "-m", "tinyh", "-q")[0] == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(vqc.read_bytes())))
    code, _, err = run_cli(capsys, "decompress", "-", "-o", tmp_path / "a.wav", "-q")
    assert (code, err) == (0, "") and sf.info(tmp_path / "a.wav").frames == sf.info(wav).frames


@pytest.mark.parametrize(
    "argv",
    [
        ["compress", "{wav}", "-o", "{out}/a.vqc"],
        ["compress", "{wav}", "-o", "{out}/a.vqc", "--runtime", "torch"],
        ["decompress", "{vqc}", "-o", "{out}/a.wav"],
        ["info", "{vqc}"],
        ["tokens", "{wav}", "-o", "{out}/tokens"],
        ["export", "{out}/onnx"],
    ],
    ids=["compress", "compress-torch", "decompress", "info", "tokens", "export"],
)
def test_an_unknown_name_is_one_line_listing_the_shipped(shipped_here, tmp_path, wav, capsys, argv) -> None:
    vqc, out = tmp_path / "a.vqc", tmp_path / "out"
    assert run_cli(capsys, "compress", wav, "-o", vqc, "-m", "tiny", "-q")[0] == 0
    out.mkdir()
    code, _, err = run_cli(capsys, *(a.format(wav=wav, vqc=vqc, out=out) for a in argv), "--model", "nosuch")
    _assert_one_line(code, err, "'nosuch'", "shipped: tiny (16000 Hz), tinyh (16000 Hz)")
    assert list(out.iterdir()) == []


def test_sample_takes_the_prior_shipped_for_the_named_model(shipped_here, tmp_path, capsys, tiny_model_file) -> None:
    """``sample`` draws from the prior of the model it decodes with: none shipped for it, or a model file given
    without ``--prior``, is one line; the default model's prior is the one shipped beside it."""
    from vqcodec.prior.weights import prior_for

    code, _, err = run_cli(capsys, "sample", "-m", "tiny", "-o", str(tmp_path / "x.wav"))
    _assert_one_line(code, err, "no prior is shipped for model tiny", "--prior")
    code, _, err = run_cli(capsys, "sample", "-m", tiny_model_file, "-o", str(tmp_path / "x.wav"))
    _assert_one_line(code, err, "no prior is shipped with a model file", "--prior")
    assert not (tmp_path / "x.wav").exists()
    prior = shipped_here / "tiny.prior.safetensors"
    prior.write_bytes(b"")
    try:
        assert prior_for("tiny") == prior
    finally:
        prior.unlink()  # the folder is the module's


def test_the_default_models_prior_is_found_for_no_name() -> None:
    from vqcodec.prior.weights import default_prior_path, prior_for

    assert prior_for(None) == default_prior_path() and prior_for("sp16k") == default_prior_path()


def test_version_names_every_shipped_model(shipped_here) -> None:
    from vqcodec.cli import version_line

    line = version_line()
    assert line.startswith(f"vqcodec {vqcodec.__version__} (models ") and "tiny " in line and "tinyh " in line
