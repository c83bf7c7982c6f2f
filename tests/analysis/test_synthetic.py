"""Tests for vqcodec.analysis.synthetic: the speech-like signal is reproducible and bounded, its blocks join into
the whole signal, and the file writer writes that signal."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from vqcodec.analysis.synthetic import speech_like, speech_like_blocks, write_speech_like


@pytest.mark.parametrize(("seconds", "rate"), [(0.0, 16000), (0.37, 16000), (1.1, 22050)])
def test_speech_like_is_reproducible_and_bounded(seconds: float, rate: int) -> None:
    x = speech_like(seconds, rate, seed=3)
    assert x.dtype == np.float32 and x.shape == (round(seconds * rate),)
    assert np.array_equal(x, speech_like(seconds, rate, seed=3))
    assert np.abs(x).max(initial=0) <= 1
    if len(x):
        assert not np.array_equal(x, speech_like(seconds, rate, seed=4))  # the seed is the noise's


@pytest.mark.parametrize("block", [1, 999, 16000, 50000])
def test_blocks_join_into_the_whole_signal(block: int) -> None:
    whole = speech_like(1.5, 16000, seed=2)
    joined = np.concatenate(list(speech_like_blocks(len(whole), 16000, 2, block)))
    np.testing.assert_allclose(joined, whole, atol=1e-6)  # the phase is summed in another order: last bits only


def test_write_speech_like_writes_the_signal(tmp_path) -> None:
    path = tmp_path / "s.wav"
    write_speech_like(path, 2.5, 16000, seed=1, block_seconds=0.7)
    x, rate = sf.read(path, dtype="float32")
    assert rate == 16000 and sf.info(str(path)).subtype == "PCM_16"
    np.testing.assert_allclose(x, speech_like(2.5, 16000, seed=1), atol=1 / 32768 + 1e-6)
