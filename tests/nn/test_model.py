"""Tests for vqcodec.nn.model: shapes, exact lengths, encode/decode vs the eval forward pass, gradients."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from conftest import TINY, make_model

from vqcodec.nn.config import ModelConfig
from vqcodec.nn.model import ModelOutput, VQCodecModel


def _audio(batch: int, frames: int, config: ModelConfig = TINY, seed: int = 0) -> torch.Tensor:
    """[B, 1, frames * top_hop] random audio."""
    g = torch.Generator().manual_seed(seed)
    return 0.3 * torch.randn(batch, 1, frames * config.top_hop, generator=g)


def test_config_rates() -> None:
    assert (TINY.hop, TINY.top_hop, TINY.bits) == (20, 40, 4)
    # (2 top codebooks * 400 frames/s + 3 bottom * 800 frames/s) * 4 bits
    assert TINY.bitrate(2, 3) == 12800
    assert ModelConfig.from_json(TINY.to_json()) == TINY


@pytest.mark.parametrize("frames", [1, 2, 7])
@pytest.mark.parametrize("training", [False, True])
def test_forward_shapes_and_exact_lengths(frames: int, training: bool) -> None:
    model = make_model().train(training)
    x = _audio(3, frames)
    out = model(x)
    assert isinstance(out, ModelOutput)
    t = x.shape[-1]
    assert out.audio.shape == (3, 1, t)
    assert out.top_codes.shape == (3, TINY.n_top, t // TINY.top_hop)
    assert out.bottom_codes.shape == (3, TINY.n_bottom, t // TINY.hop)
    assert out.latents.shape == (3, TINY.latent_dim, t // TINY.hop)
    assert out.commit_loss.shape == () and out.codebook_loss.shape == ()
    assert torch.isfinite(out.audio).all()
    for codes in (out.top_codes, out.bottom_codes):
        assert codes.dtype == torch.int64 and 0 <= int(codes.min()) and int(codes.max()) < TINY.codebook_size


@pytest.mark.parametrize(("n_top", "n_bottom"), [(1, 1), (2, 1), (1, 3), (2, 3)])
def test_encode_decode_shapes(n_top: int, n_bottom: int) -> None:
    model = make_model()
    x = _audio(2, 5)
    with torch.no_grad():
        top, bottom = model.encode(x, n_top, n_bottom)
        assert top.shape == (2, n_top, 5) and bottom.shape == (2, n_bottom, 10)
        y = model.decode(top, bottom)
    assert y.shape == x.shape


@pytest.mark.parametrize("seed", range(3))
def test_decode_encode_equals_eval_forward(seed: int) -> None:
    model = make_model(seed=seed).eval()
    x = _audio(2, 6, seed=seed)
    with torch.no_grad():
        out = model(x)
        top, bottom = model.encode(x, TINY.n_top, TINY.n_bottom)
        y = model.decode(top, bottom)
    assert torch.equal(top, out.top_codes) and torch.equal(bottom, out.bottom_codes)
    torch.testing.assert_close(y, out.audio, rtol=1e-4, atol=1e-5)


def test_prefix_codes_equal_fewer_codebooks() -> None:
    """Encoding at a lower rung gives a prefix of the full codes (so rungs can be sliced)."""
    model = make_model()
    x = _audio(2, 4)
    with torch.no_grad():
        top, bottom = model.encode(x, TINY.n_top, TINY.n_bottom)
        for n in range(1, TINY.n_bottom + 1):
            t_n, b_n = model.encode(x, TINY.n_top, n)
            assert torch.equal(t_n, top) and torch.equal(b_n, bottom[:, :n])


@pytest.mark.parametrize("length", [1, 20, 39, 41, 79, 121])
def test_length_not_multiple_of_top_hop_raises(length: int) -> None:
    model = make_model()
    x = torch.zeros(1, 1, length)
    with pytest.raises(ValueError):
        model(x)
    with pytest.raises(ValueError):
        model.encode(x, 1, 1)


@pytest.mark.parametrize("shape", [(80,), (1, 80), (1, 2, 80)])
def test_wrong_rank_or_channels_raises(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        make_model()(torch.zeros(shape))


@pytest.mark.parametrize("training", [False, True])
def test_backward_gives_finite_grads(training: bool) -> None:
    model = make_model().train(training)
    x = _audio(2, 4)
    out = model(x)
    (out.audio.pow(2).mean() + out.commit_loss + out.codebook_loss).backward()
    for part in (
        model.encoder,
        model.decoder,
        model.hierarchy.top_encoder,
        model.hierarchy.top_decoder,
        model.hierarchy.condition,
    ):
        for name, p in part.named_parameters():
            assert p.grad is not None, name
            assert torch.isfinite(p.grad).all(), name
    if not training:  # without quantizer dropout every parameter, codebooks included, takes part
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert any(float(p.grad.abs().sum()) > 0 for p in model.encoder.parameters())
    assert any(float(p.grad.abs().sum()) > 0 for p in model.decoder.parameters())


def test_from_config_builds_the_configured_parts() -> None:
    config = dataclasses.replace(TINY, n_top=3, n_bottom=2, codebook_size=8)
    model = VQCodecModel.from_config(config)
    h = model.hierarchy
    assert h.top_quantizer.n_codebooks == 3 and h.bottom_quantizer.n_codebooks == 2
    assert all(layer.size == 8 for layer in h.bottom_quantizer.layers)
    assert model.config is config


def test_quantizer_settings_come_from_the_config() -> None:
    config = dataclasses.replace(
        TINY,
        top_dropout=0.25,
        bottom_dropout=0.75,
        bypass=0.5,
        usage_decay=0.9,
        restart_every=7,
        restart_threshold=0.2,
    )
    h = VQCodecModel.from_config(config).hierarchy
    assert (h.top_quantizer.dropout, h.bottom_quantizer.dropout) == (0.25, 0.75)
    assert h.top_quantizer.bypass == h.bottom_quantizer.bypass == 0.5
    for layer in [*h.top_quantizer.layers, *h.bottom_quantizer.layers]:
        assert (layer.usage_decay, layer.restart_every, layer.restart_threshold) == (0.9, 7, 0.2)
    assert ModelConfig.from_json(config.to_json()) == config


@torch.no_grad()
def test_decode_with_a_given_pitch() -> None:
    """A pitch given to decode drives the source as the pitch codes it comes from do; not both at once."""
    from conftest import TINY_PITCH

    from vqcodec.errors import UserError

    model = make_model(TINY_PITCH)
    x = _audio(1, 3, TINY_PITCH)
    top, bottom = model.encode(x, *TINY_PITCH.codebooks)
    codes = model.track_pitch(x)
    pitch = model.pitch(codes)
    assert torch.equal(model.decode(top, bottom, pitch=pitch), model.decode(top, bottom, codes))
    assert not torch.equal(model.decode(top, bottom, pitch=pitch), model.decode(top, bottom))
    with pytest.raises(UserError, match="not both"):
        model.decode(top, bottom, codes, pitch=pitch)
