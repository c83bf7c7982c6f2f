"""Tests for vqcodec.pitch.tracker: the F0 of a signal's frames depends on the signal alone, not on how many
zeros follow it (the codec pads every window, by an amount that depends on the batch and the window split)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import speech_like

from vqcodec.pitch.tracker import track_frames, track_rows


@pytest.mark.parametrize("seconds", [1.3, 2.05])
def test_f0_does_not_depend_on_the_zeros_after_the_signal(seconds: float) -> None:
    """Praat centres its frames in the Sound, so before the fix a few more zeros moved every frame by half a
    step on most lengths (the codec pads by whole top frames of 1280 samples, which is what is tried here)."""
    x = speech_like(seconds, 16000, seed=int(seconds * 10)).astype(np.float64)
    frames = len(x) // 320
    tracks = [track_frames(np.pad(x, (0, pad))[None], 16000, 320)[0, :frames] for pad in range(0, 12 * 1280, 1280)]
    assert (tracks[0] > 0).sum() > frames // 2  # mostly voiced: the comparison means something
    for f0 in tracks[1:]:
        np.testing.assert_array_equal(f0, tracks[0])


@pytest.mark.parametrize(("rate", "hop"), [(8000, 80), (16000, 80), (22050, 220)])
def test_frames_are_centred_on_multiples_of_the_hop_at_any_length(rate: int, hop: int) -> None:
    """On a glide of two octaves a second, frame k's F0 is the glide's at ``k * hop`` (a median 0.2 cents
    off) at every length; frames off the grid by a fraction of a step measured 3 to 12 cents."""
    for length in range(rate, rate + 2 * hop, hop // 4):
        t = np.arange(length) / rate
        x = 0.5 * np.sin(2 * np.pi * np.cumsum(100 * 4**t) / rate)
        got = track_rows(x[None], rate, hop)[0]
        want = 100 * 4 ** (np.arange(len(got)) * hop / rate)
        voiced = got > 0
        assert voiced.sum() > len(got) * 0.8
        assert np.median(np.abs(1200 * np.log2(got[voiced] / want[voiced]))) < 1.0, length
