"""Tests for vqcodec.pitch.quantize: codes round-trip F0 within half a grid step, 0 is unvoiced, and the
decoder's frames interpolate log F0 between voiced codes."""

from __future__ import annotations

import numpy as np
import pytest

from vqcodec.pitch.quantize import dequantize, frame_f0, quantize, steps
from vqcodec.pitch.tracker import F0_MAX, F0_MIN


@pytest.mark.parametrize("bits", [5, 7, 9])
def test_voiced_f0_round_trips_within_half_a_step(bits: int) -> None:
    f0 = np.geomspace(F0_MIN, F0_MAX, 1000)
    codes = quantize(f0, bits)
    assert codes.min() == 1 and codes.max() == 2**bits - 1
    cents = 1200 * np.abs(np.log2(dequantize(codes, bits) / f0))
    half_step = 1200 * np.log2(F0_MAX / F0_MIN) / steps(bits) / 2
    assert cents.max() <= half_step + 1e-3


def test_unvoiced_is_code_zero_and_out_of_range_f0_is_clipped() -> None:
    codes = quantize(np.array([0.0, 30.0, 100.0, 2000.0]), 7)
    assert codes[0] == 0 and codes[1] == 1 and codes[3] == 127
    assert dequantize(codes, 7)[0] == 0 and dequantize(codes, 7)[1] == pytest.approx(F0_MIN)


def test_decoder_frames_interpolate_log_f0_between_voiced_codes_and_hold_at_a_boundary() -> None:
    codes = quantize(np.array([100.0, 200.0, 0.0, 150.0]), 7)
    hz = dequantize(codes, 7)
    f0 = frame_f0(codes, 7, 2)
    assert f0.shape == (8,)
    assert f0[0] == pytest.approx(hz[0]) and f0[2] == pytest.approx(hz[1])
    assert f0[1] == pytest.approx(np.sqrt(hz[0] * hz[1]), rel=1e-4)  # the geometric mean: halfway in log F0
    assert f0[3] == pytest.approx(hz[1])  # the next code is unvoiced: hold
    assert f0[4] == f0[5] == 0 and f0[6] == f0[7] == pytest.approx(hz[3])


def test_frame_f0_keeps_leading_dimensions() -> None:
    codes = np.array([[[10, 20, 30]], [[0, 0, 40]]])
    assert frame_f0(codes, 7, 4).shape == (2, 1, 12)


def test_track_frames_keeps_every_other_frame_of_the_finer_track_at_8_khz() -> None:
    import soxr

    from vqcodec.pitch.tracker import track_frames, track_rows

    t = np.arange(16000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 150 * t) + 0.1 * np.sin(2 * np.pi * 300 * t))[None]
    coarse = track_frames(x, 16000, 320)
    assert coarse.shape == (1, 50)
    np.testing.assert_array_equal(coarse, track_rows(soxr.resample(x[0], 16000, 8000)[None], 8000, 80)[:, ::2])
    assert track_frames(x[:, :7000], 16000, 320).shape == (1, 21)
    assert np.median(coarse[coarse > 0]) == pytest.approx(150, rel=0.02)
