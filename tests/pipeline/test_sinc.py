"""Tests for vqcodec.pipeline.sinc: the codec's streamed resampler computes torch's
(vqcodec.resample), at rates with a small ratio and at coprime ones, whatever blocks the input comes in."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vqcodec.pipeline.sinc import resampled_blocks
from vqcodec.pipeline.windows import resampled_length
from vqcodec.resample import resample_window, window_of


def _blocks(x: np.ndarray, size: int):
    """[C, T] -> [n, C] blocks of ``size`` samples."""
    return (x[:, i : i + size].T.copy() for i in range(0, x.shape[1], size))


@pytest.mark.parametrize(
    ("sr_in", "sr_out"), [(22050, 16000), (16000, 44100), (8000, 16000), (48000, 16000), (22051, 16000)]
)
def test_stream_equals_the_torch_codecs_resampler(sr_in: int, sr_out: int) -> None:
    """Within float32 rounding (soxr, before, was ~32 dB away near Nyquist)."""
    x = (np.random.default_rng(sr_in).standard_normal((2, 40000)) * 0.3).astype(np.float32)
    n = resampled_length(x.shape[1], sr_in, sr_out)
    want = resample_window(lambda a, b: window_of(torch.from_numpy(x), a, b), sr_in, sr_out, 0, n).numpy()
    got = np.concatenate(list(resampled_blocks(_blocks(x, 4096), sr_in, sr_out, 2, n))).T
    assert got.shape == want.shape == (2, n)
    assert np.abs(got - want).max() < 2e-6


@pytest.mark.parametrize(("sr_in", "sr_out"), [(44100, 16000), (16000, 22051)])
def test_output_does_not_depend_on_the_input_blocks(sr_in: int, sr_out: int) -> None:
    x = (np.random.default_rng(0).standard_normal((1, 30001)) * 0.3).astype(np.float32)
    n = resampled_length(x.shape[1], sr_in, sr_out)
    runs = [np.concatenate(list(resampled_blocks(_blocks(x, size), sr_in, sr_out, 1, n))) for size in (333, 30001)]
    assert runs[0].shape == (n, 1)
    np.testing.assert_array_equal(runs[0], runs[1])
