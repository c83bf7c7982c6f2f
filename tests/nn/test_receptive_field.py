"""Tests for vqcodec.nn.receptive_field: nothing outside the measured reach changes a frame's codes, windows
code as the whole signal with it, and measuring leaves torch's random state alone."""

from __future__ import annotations

import torch
from conftest import TINY, TOP_RUNG, make_model

from vqcodec.codec import Codec
from vqcodec.nn.config import ModelConfig
from vqcodec.nn.receptive_field import context_frames, decode_reach, encode_reach


@torch.no_grad()
def test_nothing_outside_the_encode_reach_changes_a_frames_codes() -> None:
    model = make_model(TINY)
    reach, hop, middle = encode_reach(model), TINY.top_hop, 30
    r = TINY.top_hop // TINY.hop
    gen = torch.Generator().manual_seed(1)
    wav = torch.randn(1, 1, (2 * middle + 1) * hop, generator=gen)

    def codes(x: torch.Tensor) -> torch.Tensor:
        top, bottom = model.encode(x, TINY.n_top, TINY.n_bottom)
        return torch.cat([top[..., middle], bottom[..., middle * r : (middle + 1) * r].flatten(1)], dim=1)

    base, changed_at = codes(wav), set()
    for distance in range(1, reach + 4):
        for frame in (middle - distance, middle + distance):
            for _ in range(4):
                x = wav.clone()
                x[..., frame * hop : (frame + 1) * hop] = torch.randn(hop, generator=gen)  # new sound there
                if not torch.equal(codes(x), base):
                    changed_at.add(distance)
    assert changed_at and max(changed_at) <= reach


def test_windows_code_and_decode_as_the_whole_signal() -> None:
    """Codes of a signal coded whole equal its codes coded one top frame per window, with the measured
    context and nothing more."""
    model = make_model(TINY)
    whole, windows = Codec(model, chunk_frames=1000), Codec(model, chunk_frames=1)
    assert whole.context_frames == windows.context_frames == context_frames(TINY) > 0
    x = torch.randn(2, 30 * TINY.top_hop + 7, generator=torch.Generator().manual_seed(2))
    codes = whole.encode(x, TINY.sample_rate, TOP_RUNG)
    assert windows.encode(x, TINY.sample_rate, TOP_RUNG) == codes
    torch.testing.assert_close(windows.decode(codes), whole.decode(codes), rtol=0, atol=1e-5)


def test_default_model_context_and_no_random_state_touched() -> None:
    default = ModelConfig(name="measured-here")  # not cached yet
    state = torch.get_rng_state()
    assert context_frames(default) == 11
    assert torch.equal(torch.get_rng_state(), state)
    model = make_model(default)  # the reach is the architecture's: trained or fresh weights agree
    assert max(encode_reach(model), decode_reach(model)) == 11
