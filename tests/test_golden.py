"""Golden files freeze the format and the shipped model: the sample compresses to the committed .vqc
bit-exactly, and that .vqc decodes to the committed PCM within a stated tolerance (decoded floats round
differently on each CPU's vector units; see tests/golden/make.py).

.ci/run runs this file again under several ATEN_CPU_CAPABILITY settings (default, avx2).

If one of these fails after an intended change (format version, new shipped weights), regenerate with
``python tests/golden/make.py`` in the same commit; otherwise the change broke compatibility.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import vqcodec
from vqcodec import entropy
from vqcodec.compress import compress, decompress
from vqcodec.io import container
from vqcodec.io.audio import read_audio

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


def test_golden_file_decodes_within_tolerance(shipped):
    assert shipped.hash.hex() == EXPECTED["model_hash"], "shipped weights changed: regenerate the golden files"
    make = _make()
    decoded, sr = decompress(shipped, (GOLDEN / "speech.vqc").read_bytes())
    reference = make.read_reference()
    assert sr == sf.info(str(make.DECODED)).samplerate
    diff = make.compare(make.to_pcm16(decoded.numpy()), reference)
    tol = EXPECTED["decode_tolerance"]
    assert diff["max_abs_steps"] <= tol["max_abs_steps"] and diff["snr_db"] >= tol["min_snr_db"], diff


def test_golden_reference_is_the_recorded_pcm():
    """decoded.flac is the decode that expected.json records (the two were regenerated together)."""
    make = _make()
    assert hashlib.sha256(make.read_reference().astype("<i2").T.tobytes()).hexdigest() == EXPECTED["decoded_pcm_sha256"]


def test_tolerance_catches_a_real_change():
    """The tolerance is far below what a change of model or decoder does: a 1 % gain change fails it."""
    make = _make()
    reference = make.read_reference()
    louder = make.compare(np.round(reference * 1.01).clip(-32768, 32767).astype(np.int16), reference)
    tol = EXPECTED["decode_tolerance"]
    assert louder["max_abs_steps"] > tol["max_abs_steps"] or louder["snr_db"] < tol["min_snr_db"]


def test_sample_still_compresses_to_the_golden_bytes(shipped):
    wav, sr = read_audio(GOLDEN.parent.parent / "samples" / "speech.wav")
    assert compress(shipped, wav, sr, EXPECTED["kbps"], entropy_coding=False) == (GOLDEN / "speech.vqc").read_bytes()
    assert compress(shipped, wav, sr, EXPECTED["kbps"]) == (GOLDEN / "speech.entropy.vqc").read_bytes()


def test_golden_entropy_file_decodes_bit_exactly_to_the_plain_codes():
    """The committed entropy-coded stream (format 2) decodes to exactly the codes of the plain one."""
    data = (GOLDEN / "speech.entropy.vqc").read_bytes()
    facts = EXPECTED["entropy"]
    assert hashlib.sha256(data).hexdigest() == facts["vqc_sha256"]
    assert data[3] == facts["format_version"] == container.ENTROPY_VERSION
    coded = container.read(data, entropy.coders())
    plain = container.read((GOLDEN / "speech.vqc").read_bytes())
    assert coded.tables_hash.hex() == facts["tables_hash"], "shipped tables changed: regenerate the golden files"
    assert coded.levels == plain.levels
    assert len(data) < len((GOLDEN / "speech.vqc").read_bytes())


def test_golden_entropy_file_needs_its_tables():
    """Without the coder its header names, the stream is refused in one line, never misread."""
    with pytest.raises(container.ContainerError, match="entropy-coded with tables"):
        container.read((GOLDEN / "speech.entropy.vqc").read_bytes())
