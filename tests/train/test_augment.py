"""Tests for vqcodec.train.augment: rooms, noises and speeds as drawn, and samplers unchanged while they are off."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from vqcodec.train.augment import Augment, coloured_noise, degrade, respeed, room_response, speed_factor
from vqcodec.train.data import SegmentSampler, StreamingSegments

SR = 16000


def _band_db(x: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return 10 * np.log10(spec[(f >= lo) & (f < hi)].mean())


def test_a_room_decays_by_60_db_in_its_rt60_below_its_direct_path() -> None:
    rng = np.random.default_rng(0)
    for rt60 in (0.3, 0.6):
        h = room_response(rng, SR, rt60)
        assert h[0] == 1.0 and len(h) == int(rt60 * SR)
        tail = h[1:]
        assert -12.0 - 1e-6 <= 10 * np.log10(np.sum(tail**2)) <= 3.0 + 1e-6  # direct-to-reverberant -3 .. +12 dB
        early, late = (int(a * rt60 * SR) for a in (0.1, 0.6))
        width = int(0.05 * rt60 * SR)
        drop = 10 * np.log10(np.mean(h[early : early + width] ** 2) / np.mean(h[late : late + width] ** 2))
        assert drop == pytest.approx(30.0, abs=8.0)  # half the RT60 apart: 30 dB


def test_a_room_keeps_the_length_and_level_and_rings_after_a_click() -> None:
    x = np.zeros(SR, np.float32)
    x[SR // 4] = 0.5
    y = degrade(x, np.random.default_rng(1), Augment(room=1.0, rt60=(0.4, 0.4)))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert np.mean(y.astype(np.float64) ** 2) == pytest.approx(np.mean(x.astype(np.float64) ** 2), rel=1e-4)
    assert np.abs(y[: SR // 4]).max() < 1e-9  # causal: nothing before the click (FFT rounding aside)
    assert np.sqrt(np.mean(y[SR // 4 + 1600 : SR // 4 + 3200] ** 2)) > 1e-4  # still ringing 100-200 ms on


def test_a_noise_is_added_at_the_drawn_snr_with_its_slope() -> None:
    rng = np.random.default_rng(2)
    x = (0.1 * np.sin(2 * np.pi * 200 * np.arange(2 * SR) / SR)).astype(np.float32)
    y = degrade(x, rng, Augment(noise=1.0, snr_db=(10.0, 10.0)))
    added = y.astype(np.float64) - x
    assert 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean(added**2)) == pytest.approx(10.0, abs=0.01)
    white, brown = coloured_noise(rng, 4 * SR, 0.0), coloured_noise(rng, 4 * SR, 2.0)
    assert np.sqrt(np.mean(brown**2)) == pytest.approx(1.0)
    assert abs(_band_db(white, 100, 500) - _band_db(white, 4000, 8000)) < 1.0
    assert _band_db(brown, 100, 500) - _band_db(brown, 4000, 8000) > 20.0


def test_off_draws_nothing_and_changes_nothing() -> None:
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    x = np.ones(100, np.float32)
    assert degrade(x, rng, Augment()) is x and rng.bit_generator.state == before


def _clips() -> list[np.ndarray]:
    rng = np.random.default_rng(4)
    return [(3000 * rng.standard_normal(3 * SR)).astype(np.int16) for _ in range(3)]


def test_samplers_draw_the_same_batches_while_augmentation_is_off() -> None:
    """Recipes written before the fields existed keep their batches; on, the batches differ and reproduce."""
    plain = SegmentSampler(_clips(), 4096, seed=5).batch(4)
    assert np.array_equal(plain, SegmentSampler(_clips(), 4096, seed=5, augment=Augment()).batch(4))
    on = Augment(room=1.0, noise=1.0)
    degraded = SegmentSampler(_clips(), 4096, seed=5, augment=on).batch(4)
    assert not np.allclose(degraded, plain) and degraded.dtype == plain.dtype == torch.float32
    assert np.array_equal(degraded, SegmentSampler(_clips(), 4096, seed=5, augment=on).batch(4))


def test_a_stream_puts_its_segments_in_rooms_too(tmp_path) -> None:
    import soundfile as sf

    from vqcodec.train.data import list_entries

    for i, clip in enumerate(_clips()):
        sf.write(tmp_path / f"{i}.wav", clip, SR, subtype="PCM_16")
    entries = list_entries(tmp_path)
    plain = StreamingSegments(entries, 4096, SR, 2, seed=6).batch_at(0)
    assert np.array_equal(plain, StreamingSegments(entries, 4096, SR, 2, seed=6, augment=Augment()).batch_at(0))
    noisy = StreamingSegments(entries, 4096, SR, 2, seed=6, augment=Augment(noise=1.0, snr_db=(0.0, 0.0)))
    assert not np.allclose(noisy.batch_at(0), plain) and noisy.batch_at(0).dtype == torch.float32


def test_a_clean_target_rides_under_its_degraded_input_at_the_same_gain() -> None:
    """``clean_target``: each segment is [input, target]; the input is the degraded batch the same seed draws
    without it, the target the segment before it was degraded, scaled by the same gain."""
    degraded = Augment(noise=1.0, snr_db=(0.0, 0.0))
    both = dataclasses.replace(degraded, clean_target=True)
    batch = SegmentSampler(_clips(), 4096, seed=7, augment=both).batch(3)  # [3, 2, 4096]
    assert batch.shape == (3, 2, 4096) and batch.dtype == torch.float32
    assert torch.equal(batch[:, :1], SegmentSampler(_clips(), 4096, seed=7, augment=degraded).batch(3))
    noise = batch[:, 0] - batch[:, 1]
    snr_db = 10 * torch.log10(batch[:, 1].pow(2).mean(-1) / noise.pow(2).mean(-1))
    assert torch.allclose(snr_db, torch.zeros(3), atol=0.5)  # what was added is the 0 dB noise, nothing else
    clean = SegmentSampler(_clips(), 4096, seed=7, augment=Augment(clean_target=True)).batch(2)
    assert torch.equal(clean[:, 0], clean[:, 1])  # nothing drawn: the target is the input


def test_a_stream_gives_the_clean_target_too(tmp_path) -> None:
    import soundfile as sf

    from vqcodec.train.data import list_entries

    for i, clip in enumerate(_clips()):
        sf.write(tmp_path / f"{i}.wav", clip, SR, subtype="PCM_16")
    entries = list_entries(tmp_path)
    spec = Augment(noise=1.0, snr_db=(10.0, 10.0))
    noisy = StreamingSegments(entries, 4096, SR, 2, seed=6, augment=spec).batch_at(0)
    both = StreamingSegments(entries, 4096, SR, 2, seed=6, augment=dataclasses.replace(spec, clean_target=True))
    batch = both.batch_at(0)
    assert batch.shape == (2, 2, 4096) and torch.equal(batch[:, :1], noisy)
    assert not torch.allclose(batch[:, 0], batch[:, 1])


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SR)[np.argmax(spec)])


def test_a_segment_played_faster_keeps_its_length_and_moves_its_pitch() -> None:
    """``respeed``: N samples into ``segment`` ones, every frequency times N / segment."""
    t = np.arange(2 * SR) / SR
    tone = np.sin(2 * np.pi * 500 * t).astype(np.float32)
    for n, hz in ((4000, 500.0), (4400, 550.0), (3600, 450.0)):
        y = respeed(tone[:n], 4000)
        assert y.shape == (4000,) and y.dtype == np.float32
        assert abs(_peak_hz(y) - hz) <= SR / 4000  # within a bin
        assert abs(np.sqrt(np.mean(y[200:-200] ** 2)) - np.sqrt(0.5)) < 0.02  # as loud
    same = tone[:4000]
    assert respeed(same, 4000) is same  # nothing to do: the same array


def test_a_speed_is_drawn_in_its_range_with_its_probability_and_nothing_drawn_when_off() -> None:
    rng = np.random.default_rng(8)
    before = rng.bit_generator.state
    assert speed_factor(rng, Augment()) == 1.0 and rng.bit_generator.state == before
    drawn = [speed_factor(rng, Augment(speed=0.5, speed_range=(0.9, 1.1))) for _ in range(2000)]
    moved = [f for f in drawn if f != 1.0]
    assert 0.45 < len(moved) / len(drawn) < 0.55 and min(moved) >= 0.9 and max(moved) <= 1.1


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_samplers_play_segments_at_the_drawn_speed(tmp_path, factor: float) -> None:
    """Both samplers: a 500 Hz recording comes out at 500 * factor Hz, the segment's length kept; reproducible."""
    import soundfile as sf

    from vqcodec.train.data import list_entries

    tone = (8000 * np.sin(2 * np.pi * 500 * np.arange(3 * SR) / SR)).astype(np.int16)
    spec = Augment(speed=1.0, speed_range=(factor, factor))
    batch = SegmentSampler([tone], 4096, seed=9, augment=spec).batch(2)
    sf.write(tmp_path / "tone.wav", tone, SR, subtype="PCM_16")
    stream = StreamingSegments(list_entries(tmp_path), 4096, SR, 2, seed=9, augment=spec).batch_at(0)
    for b in (batch, stream):
        assert b.shape == (2, 1, 4096) and b.dtype == torch.float32
        for row in b[:, 0].numpy():
            assert abs(_peak_hz(row) - 500 * factor) <= SR / 4096
    assert torch.equal(batch, SegmentSampler([tone], 4096, seed=9, augment=spec).batch(2))
