"""Tests for vqcodec.train.warm_start: each change a warm start may make leaves the model coding and decoding as
the trained one did, and every other change is refused in one line."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from conftest import TINY, make_model

from vqcodec.errors import UserError
from vqcodec.nn.config import ModelConfig
from vqcodec.train.warm_start import load_into


def _trained(config: ModelConfig = TINY) -> torch.nn.Module:
    """A model whose every parameter is off its initial value, as a trained one's is."""
    model = make_model(config, seed=1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return model


def _audio(config: ModelConfig, frames: int = 4) -> torch.Tensor:
    return 0.3 * torch.randn(2, 1, frames * config.top_hop, generator=torch.Generator().manual_seed(0))


def _same_codes_and_audio(a, b, config: ModelConfig, codes_only: bool = False) -> None:
    x = _audio(config)
    with torch.no_grad():
        codes = a.eval().encode(x, *config.codebooks)
        assert all(torch.equal(p, q) for p, q in zip(b.eval().encode(x, *config.codebooks), codes, strict=True))
        if not codes_only:
            torch.testing.assert_close(b.decode(*codes), a.decode(*codes))


def test_the_same_config_loads_every_weight() -> None:
    source = _trained()
    model = make_model(dataclasses.replace(TINY, name="renamed"))
    load_into(model, source)
    _same_codes_and_audio(source, model, TINY)


def test_a_bypass_loads_every_weight_and_codes_as_before() -> None:
    source = _trained()
    model = make_model(dataclasses.replace(TINY, bypass=0.4))
    load_into(model, source)
    _same_codes_and_audio(source, model, TINY)
    assert model.hierarchy.bottom_quantizer.bypass == model.hierarchy.top_quantizer.bypass == 0.4


def test_a_grown_decoder_decodes_as_the_trained_one() -> None:
    source = _trained()
    model = make_model(dataclasses.replace(TINY, decoder_blocks=TINY.decoder_blocks + 3))
    load_into(model, source)
    _same_codes_and_audio(source, model, TINY)


def test_a_shrunk_decoder_keeps_the_codes_and_evenly_spaced_blocks() -> None:
    big = dataclasses.replace(TINY, decoder_blocks=6)
    source = _trained(big)
    model = make_model(dataclasses.replace(big, decoder_blocks=3))
    load_into(model, source)
    _same_codes_and_audio(source, model, big, codes_only=True)  # fewer blocks decode otherwise
    for half, kept in (("pre", [2]), ("post", [0, 2])):  # 3 blocks a half shrunk to 1 and 2
        for new, old in enumerate(kept):
            a, b = getattr(model.decoder, half)[new].state_dict(), getattr(source.decoder, half)[old].state_dict()
            assert all(torch.equal(a[k], b[k]) for k in a)
    torch.testing.assert_close(model.decoder.head.proj.weight, source.decoder.head.proj.weight)


def test_a_spectral_input_starts_silent() -> None:
    source = _trained()
    model = make_model(dataclasses.replace(TINY, encoder_mels=8))
    load_into(model, source)
    _same_codes_and_audio(source, model, TINY, codes_only=True)
    both = dataclasses.replace(TINY, encoder_mels=8, decoder_blocks=TINY.decoder_blocks + 1)
    with pytest.raises(UserError, match="in a stage of its own"):
        load_into(make_model(both), source)


def test_a_harmonic_head_given_its_phase_decodes_as_before() -> None:
    harmonic = dataclasses.replace(TINY, strides=(8, 10), head="harmonic")
    source = _trained(harmonic)
    model = make_model(dataclasses.replace(harmonic, phase_terms=2))
    load_into(model, source)
    _same_codes_and_audio(source, model, harmonic)


def test_a_decoder_told_its_rate_decodes_as_before() -> None:
    source = _trained()
    model = make_model(dataclasses.replace(TINY, rate_embedding=True))
    load_into(model, source)
    _same_codes_and_audio(source, model, TINY)
    with pytest.raises(UserError, match="cannot unlearn"):
        load_into(make_model(TINY), _trained(dataclasses.replace(TINY, rate_embedding=True)))


def test_another_head_adopts_what_it_shares() -> None:
    harmonic = dataclasses.replace(TINY, strides=(8, 10))
    source = _trained(harmonic)
    model = make_model(dataclasses.replace(harmonic, head="harmonic"))
    load_into(model, source)
    _same_codes_and_audio(source, model, harmonic, codes_only=True)  # the new head decodes otherwise


def test_any_other_change_is_refused() -> None:
    with pytest.raises(UserError, match="differs from the recipe's"):
        load_into(make_model(dataclasses.replace(TINY, codebook_size=32)), _trained())
