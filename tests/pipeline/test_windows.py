"""Decoding windows: with a pitch stream their boundaries move to unvoiced stretches (where the harmonic
source's phase restart cannot be heard); without one they are the fixed kept windows."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TINY_PITCH, TOP_RUNG, make_model, speech_like

from vqcodec.codec import Codec
from vqcodec.pipeline.windows import QUIET_CODES, QUIET_SEARCH, decode_windows, kept_windows


def _pitch(frames: int, quiet: list[tuple[int, int]], r: int = 4, channels: int = 1) -> np.ndarray:
    """Voiced pitch codes ``[C, 1, r * frames]`` with unvoiced stretches ``[start, stop)`` of bottom frames."""
    p = np.full((channels, 1, r * frames), 50)
    for a, b in quiet:
        p[:, :, a:b] = 0
    return p


def _tiles(spans: list[tuple[int, int]], frames: int) -> bool:
    return (
        spans[0][0] == 0
        and spans[-1][1] == frames
        and all(b == c for (_, b), (c, _) in zip(spans, spans[1:], strict=False))
    )


def test_without_a_pitch_stream_the_windows_are_fixed() -> None:
    assert decode_windows(100, 30) == list(kept_windows(100, 30))


def test_boundaries_move_to_the_nearest_unvoiced_stretch() -> None:
    spans = decode_windows(100, 30, _pitch(100, [(4 * 40 - 3, 4 * 40 + 3), (4 * 74 - 2, 4 * 74 + 2)]))
    assert _tiles(spans, 100) and [a for a, _ in spans[1:]] == [40, 74]


def test_a_boundary_needs_unvoiced_codes_on_both_sides_in_every_channel() -> None:
    short = _pitch(100, [(4 * 40 - QUIET_CODES + 1, 4 * 40 + QUIET_CODES)])  # one code short before frame 40
    assert decode_windows(100, 30, short)[0] == (0, 30)
    one_channel = _pitch(100, [(4 * 40 - 2, 4 * 40 + 2)], channels=2)
    one_channel[1] = 50
    assert decode_windows(100, 30, one_channel)[0] == (0, 30)


def test_with_no_unvoiced_stretch_in_reach_the_boundary_stays() -> None:
    far = 30 + QUIET_SEARCH + 2
    spans = decode_windows(200, 30, _pitch(200, [(4 * far - 2, 4 * far + 2)]))
    assert _tiles(spans, 200) and spans[0] == (0, 30)


@pytest.mark.parametrize("sample_rate", [16000, 22050])
def test_a_pitch_models_decoded_chunks_end_in_unvoiced_stretches(sample_rate: int) -> None:
    """Speech with pauses, decoded in small windows: every window boundary has unvoiced pitch codes around it
    (the boundaries of the windows the codec decodes, which at another rate the resampler then streams)."""
    codec = Codec(make_model(TINY_PITCH, seed=0), chunk_frames=16)  # 16 top frames: 0.16 s windows
    voiced = [speech_like(0.45, seed=s) for s in range(5)]
    gap = np.zeros(int(0.12 * 16000), np.float32)
    wav = np.concatenate([x for v in voiced for x in (v, gap)])
    codes = codec.encode(wav, 16000, TOP_RUNG)
    if sample_rate != 16000:
        import soxr

        codes = codec.encode(soxr.resample(wav, 16000, sample_rate).astype(np.float32), sample_rate, TOP_RUNG)
    decoded = list(codec._decode_windows(codes))  # [n, C] per window, at the model rate
    ends = np.cumsum([len(w) for w in decoded])[:-1]
    bottom = np.rint(ends / TINY_PITCH.hop).astype(int)  # each boundary's bottom frame
    assert len(ends) >= 5 and (codes.pitch > 0).float().mean() > 0.3
    pitch = codes.pitch[0, 0].numpy()
    assert all(not pitch[max(0, f - QUIET_CODES) : f + QUIET_CODES].any() for f in bottom)
