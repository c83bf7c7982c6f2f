"""Shared fixtures: tiny model configs, tiny codecs, the shipped codec (loaded once) and a speech sample
(``speech_like``, the synthetic voice of :mod:`vqcodec.analysis.synthetic`, is imported from here by tests).

Every model built here is tiny (a few thousand parameters) so the whole suite runs in seconds on a
2-core machine that is busy training; the shipped model is loaded at most once per session.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import vqcodec
from vqcodec.analysis.synthetic import speech_like
from vqcodec.codec import Codec
from vqcodec.nn.config import ModelConfig
from vqcodec.nn.model import VQCodecModel

# hop 20, top_hop 40; 4-bit codes. Ladder (16 kHz): 6.4, 9.6, 12.8 kbps.
TINY = ModelConfig(
    name="tiny",
    encoder_channels=(8, 16),
    strides=(4, 5),
    top_strides=(2,),
    latent_dim=16,
    encoder_blocks=1,
    top_blocks=1,
    codebook_size=16,
    codebook_dim=4,
    n_top=2,
    n_bottom=3,
    decoder_dim=16,
    decoder_blocks=2,
    decoder_upsample=2,
)

# A tiny source-filter model with a pitch stream: hop 80 (200 pitch codes per second), 7-bit pitch codes.
TINY_PITCH = dataclasses.replace(TINY, name="tinyp", strides=(8, 10), head="harmonic", pitch_bits=7)

# Bitrate that selects the top rung of any tiny model (rung() picks the highest rung at or below it).
TOP_RUNG = 1e6


def pytest_configure(config: pytest.Config) -> None:
    # The machine has 2 cores and a training job on them: one thread avoids oversubscription.
    torch.set_num_threads(1)


def make_model(config: ModelConfig = TINY, seed: int = 0) -> VQCodecModel:
    """A freshly initialised model, reproducible from ``seed``, in eval mode."""
    torch.manual_seed(seed)
    return VQCodecModel.from_config(config).eval()


@pytest.fixture
def tiny_config() -> ModelConfig:
    return TINY


@pytest.fixture
def tiny_model() -> VQCodecModel:
    """A fresh tiny model (tests may train or modify it)."""
    return make_model(TINY, seed=0)


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tiny model saved as a model file, for commands that take ``--model``."""
    from vqcodec.io.weights import save_model

    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(make_model(TINY, seed=0), path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_codec() -> Codec:
    """A tiny codec with small windows (several windows even for short signals). Do not modify."""
    return Codec(make_model(TINY, seed=0), chunk_frames=8)  # context: the measured receptive field


@pytest.fixture
def make_codec() -> Callable[..., Codec]:
    """Factory: ``make_codec(chunk_frames=..., context_frames=..., seed=..., config=...)``."""

    def build(
        chunk_frames: int = 250, context_frames: int | None = None, seed: int = 0, config: ModelConfig = TINY
    ) -> Codec:
        return Codec(make_model(config, seed), chunk_frames=chunk_frames, context_frames=context_frames)

    return build


@pytest.fixture(scope="session")
def shipped_codec() -> Codec:
    """The default model shipped inside the package, loaded once for the whole session."""
    return vqcodec.load()


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short real-speech-like recording made by espeak-ng (22050 Hz mono WAV), made once per session."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(
        [exe, "-w", str(path), "Hello, this is a short test of the speech codec."],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


# torch alone maps ~3.3 GB of address space; the memory bombs of issue 9 asked for 3 to 59 GB more.
ADDRESS_SPACE = 5 * 2**30

_DRIVER = textwrap.dedent("""
    import io, json, resource, signal, sys, time, contextlib
    resource.setrlimit(resource.RLIMIT_AS, ({address_space}, {address_space}))
    if {file_size}:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, ({file_size}, {file_size}))
    from vqcodec.cli import main
    results = []
    for argv in json.loads(sys.argv[1]):
        err = io.StringIO()
        t = time.perf_counter()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(argv)
        except BaseException as e:  # a crash is a result too: the test reports it
            code, err = -1, io.StringIO(f"CRASH {{type(e).__name__}}: {{e}}")
        results.append({{"code": code, "err": err.getvalue(), "seconds": time.perf_counter() - t}})
    print(json.dumps(results))
""")


def run_cli_capped(cases: list[list[str]], seconds_per_case: float = 20.0, file_size: int = 0) -> list[dict]:
    """Run CLI argument lists in one child process whose address space is capped (and its files, with
    ``file_size``), so a regression that allocates gigabytes fails a test instead of the machine.

    Returns:
        Per case: ``code`` (exit status, -1 for an uncaught exception), ``err`` (stderr), ``seconds``.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    driver = _DRIVER.format(address_space=ADDRESS_SPACE, file_size=file_size)
    r = subprocess.run(
        [sys.executable, "-c", driver, json.dumps([[str(a) for a in c] for c in cases])],
        capture_output=True,
        text=True,
        timeout=60 + seconds_per_case * len(cases),
        env=env,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- analysis commands (eval, inspect, probe)

PNG = b"\x89PNG\r\n\x1a\n"
LADDER = [6.4, 9.6, 12.8]  # the tiny model's rungs at 16 kHz (kbps)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two speech-like files: 16 kHz mono and 22.05 kHz stereo."""
    d = tmp_path_factory.mktemp("audio")
    sf.write(d / "a.wav", speech_like(1.5, 16000, seed=0), 16000)
    b = speech_like(1.2, 22050, seed=1)
    sf.write(d / "b.wav", np.stack([b, 0.5 * b], 1), 22050)
    return d


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG


def run_cli(capsys: pytest.CaptureFixture, *argv) -> tuple[int, str, str]:
    """``vqcodec ARGV`` in process: (exit status, stdout, stderr)."""
    from vqcodec.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- ONNX export and the light runtime

TINY_HARMONIC = dataclasses.replace(TINY, name="tinyh", head="harmonic")


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory, tiny_model_file: str) -> dict[str, Path]:
    """The tiny model (inverse-STFT head, the weights of ``tiny_model_file``) and a tiny harmonic-head model,
    each exported once per session beside its weights (STEM.safetensors): head name -> its ``.onnx.json``."""
    from vqcodec.backends.exported import manifest_path
    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    out = tmp_path_factory.mktemp("onnx")
    shutil.copy(tiny_model_file, out / "tiny.safetensors")
    export_file(out / "tiny.safetensors", out)
    save_model(make_model(TINY_HARMONIC, seed=1), out / "tinyh.safetensors")
    export_file(out / "tinyh.safetensors", out)
    return {"istft": manifest_path(out, "tiny"), "harmonic": manifest_path(out, "tinyh")}


@pytest.fixture(scope="session")
def shipped_onnx() -> Path:
    """The shipped model's ONNX manifest (the graphs inside the package)."""
    from vqcodec.pretrained import default_onnx_path

    return default_onnx_path()


def load_recipe_script(path: Path, name: str):
    """A recipe's script (``recipes/X/prepare.py``, not a package module) imported as module ``name``; yields
    it and unregisters it after (its dataclasses look their module up in ``sys.modules``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]
