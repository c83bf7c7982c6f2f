"""Golden files freeze the format and the shipped model: a committed .vqc decodes bit-exactly.

If one of these fails after an intended change (format version, new shipped weights), regenerate with
``python tests/golden/make.py`` in the same commit; otherwise the change broke compatibility.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

import vqcodec
from vqcodec import container
from vqcodec.audio_io import read_audio
from vqcodec.compress import compress, decompress

GOLDEN = Path(__file__).parent / "golden"
EXPECTED = json.loads((GOLDEN / "expected.json").read_text())


def _make():
    spec = importlib.util.spec_from_file_location("golden_make", GOLDEN / "make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def shipped():
    return vqcodec.load()


def test_golden_file_is_current_format():
    data = (GOLDEN / "speech.vqc").read_bytes()
    assert hashlib.sha256(data).hexdigest() == EXPECTED["vqc_sha256"]
    assert container.read(data).model_hash.hex() == EXPECTED["model_hash"]
    assert EXPECTED["format_version"] == container.FORMAT_VERSION


def test_golden_file_decodes_bit_exactly(shipped):
    assert shipped.hash.hex() == EXPECTED["model_hash"], "shipped weights changed: regenerate the golden files"
    decoded, _ = decompress(shipped, (GOLDEN / "speech.vqc").read_bytes())
    assert _make().pcm_sha256(decoded.numpy()) == EXPECTED["decoded_pcm_sha256"]


def test_sample_still_compresses_to_the_golden_bytes(shipped):
    wav, sr = read_audio(GOLDEN.parent.parent / "samples" / "speech.wav")
    assert compress(shipped, wav, sr, EXPECTED["kbps"]) == (GOLDEN / "speech.vqc").read_bytes()
