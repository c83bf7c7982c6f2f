"""Tests for vqcodec.resample: windows equal the whole signal's output, and the cost of any rate pair is
linear in the signal (no kernel sized by the rates' gcd)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torchaudio.functional as AF

from vqcodec import resample
from vqcodec.resample import resample_window, resampled_length, window_of


def _fetcher(x: torch.Tensor):
    return lambda start, stop: window_of(x, start, stop)


def _noise(channels: int, n: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((channels, n)).astype(np.float32))


@pytest.mark.parametrize(
    ("sr_in", "sr_out"),
    [
        (22050, 16000),
        (16000, 44100),
        (22051, 16000),
        (16000, 22051),
        (48271, 16000),
        (383_999, 16000),
        (16000, 7),
        (1, 16000),
    ],
)
def test_windows_equal_the_whole(sr_in: int, sr_out: int) -> None:
    length = 3000 if sr_in >= sr_out / 100 else 30  # 30 samples at 1 Hz are 480000 at 16 kHz
    x = _noise(2, length)
    fetch, n = _fetcher(x), resampled_length(length, sr_in, sr_out)
    whole = resample_window(fetch, sr_in, sr_out, 0, n)
    assert whole.shape == (2, n)
    rng = np.random.default_rng(sr_in)
    for _ in range(5):
        a = int(rng.integers(0, n))
        b = int(rng.integers(a + 1, n + 1))
        assert torch.equal(resample_window(fetch, sr_in, sr_out, a, b), whole[:, a:b])


@pytest.mark.parametrize(("sr_in", "sr_out"), [(22050, 16000), (16000, 22050), (44100, 16000), (16000, 11025)])
def test_any_ratio_path_matches_torchaudio(sr_in: int, sr_out: int) -> None:
    """The path for coprime rates computes torchaudio's kernel (at 16384 phases): -70 dB on white noise."""
    x = _noise(1, 8000)
    ours = resample._interpolate(_fetcher(x), sr_in, sr_out, 0, resampled_length(8000, sr_in, sr_out))
    ref = AF.resample(x, sr_in, sr_out)
    inner = slice(100, -100)  # torchaudio pads the edges differently
    err = (ours - ref)[:, inner].pow(2).mean() / ref[:, inner].pow(2).mean()
    assert 10 * torch.log10(err) < -70


def test_coprime_rates_cost_no_more_than_common_ones() -> None:
    """22051 Hz -> 16 kHz: 3 s took 16 s and 6.5 GB with a gcd-sized kernel; now a small table and ms."""
    x = _noise(1, 3 * 22051)
    t = time.perf_counter()
    y = resample_window(_fetcher(x), 22051, 16000, 0, resampled_length(x.shape[1], 22051, 16000))
    assert time.perf_counter() - t < 2.0 and y.shape == (1, 48000)
    for sr_in, sr_out in [(22051, 16000), (16000, 22051), (383_999, 16000), (16000, 1), (1, 16000)]:
        assert resample._kernel_table(sr_in, sr_out).numel() <= 2 * resample._TABLE


def test_length_is_exact_integer_arithmetic() -> None:
    n = 24 * 3600 * 384_000  # a day at the highest rate: float division would be off by one somewhere
    assert resampled_length(n, 384_000, 16000) == n // 24
    assert resampled_length(10**15 + 1, 3, 1) == (10**15 + 1 + 2) // 3


def test_whole_signal_resample_is_torchaudio_where_cheap_and_linear_elsewhere() -> None:
    """Loaders (training, validation, eval) resample whole files: the same numbers as before for common
    rates, and a coprime rate no longer allocates gigabytes."""
    x = _noise(2, 1234)
    assert torch.equal(resample.resample(x, 44100, 16000), AF.resample(x, 44100, 16000))
    assert torch.equal(resample.resample(x[0], 16000, 22050), AF.resample(x[0], 16000, 22050))
    t = time.perf_counter()
    y = resample.resample(_noise(1, 10 * 22051)[0], 22051, 16000)
    assert y.shape == (160000,) and time.perf_counter() - t < 2.0


def test_window_of_zero_fills_outside_the_signal() -> None:
    x = torch.arange(1.0, 7.0).reshape(2, 3)
    assert window_of(x, -1, 4).tolist() == [[0, 1, 2, 3, 0], [0, 4, 5, 6, 0]]
    assert window_of(x, 5, 7).abs().sum() == 0 and window_of(x, 1, 2).tolist() == [[2], [5]]
