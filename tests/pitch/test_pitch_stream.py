"""The pitch stream end to end on a tiny model: encoding tracks and quantizes F0 into its own stream,
files carry it, decoding is driven by it, and codes without it still decode."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import TINY, TINY_PITCH, TOP_RUNG, make_model, speech_like

from vqcodec.codec import Codec
from vqcodec.compress import compress, decompress
from vqcodec.errors import ConfigError, UserError
from vqcodec.nn.config import ModelConfig
from vqcodec.pitch.quantize import dequantize


@pytest.fixture(scope="module")
def pitch_codec() -> Codec:
    return Codec(make_model(TINY_PITCH, seed=0), chunk_frames=40)


def test_the_pitch_stream_is_a_config_field_that_counts_in_the_bitrate() -> None:
    assert [s.name for s in TINY_PITCH.streams] == ["top", "bottom", "pitch"]
    assert [s.name for s in TINY.streams] == ["top", "bottom"]
    extra = TINY_PITCH.bitrate(2, 3) - dataclasses.replace(TINY_PITCH, pitch_bits=0).bitrate(2, 3)
    assert extra == 7 * 16000 / TINY_PITCH.hop
    with pytest.raises(ConfigError, match="pitch_bits"):
        ModelConfig.from_dict({"pitch_bits": 7})  # the iSTFT head has no source to drive


def test_encoding_tracks_the_pitch_of_voiced_speech(pitch_codec: Codec) -> None:
    wav = speech_like(1.0)  # F0 = 120 + 30 sin(pi t) Hz
    codes = pitch_codec.encode(wav, 16000, TOP_RUNG)
    assert codes.pitch is not None and codes.pitch.shape == (1, 1, codes.bottom.shape[-1])
    f0 = dequantize(codes.pitch[0, 0].numpy(), 7)
    t = np.arange(len(f0)) * TINY_PITCH.hop / 16000
    voiced = f0 > 0
    assert voiced.mean() > 0.5
    cents = 1200 * np.abs(np.log2(f0[voiced] / (120 + 30 * np.sin(np.pi * t[voiced]))))
    assert np.median(cents) < 30


def test_files_carry_the_pitch_stream_and_decoding_is_driven_by_it(pitch_codec: Codec) -> None:
    wav = speech_like(0.8)
    codes = pitch_codec.encode(wav, 16000, TOP_RUNG)
    data = compress(pitch_codec, wav, 16000, TOP_RUNG, entropy_coding=False)
    audio, rate = decompress(pitch_codec, data)
    assert rate == 16000 and audio.shape == (1, len(wav))
    assert torch.equal(audio, pitch_codec.decode(codes))
    without = pitch_codec.decode(dataclasses.replace(codes, pitch=None))  # a prior's samples: predicted F0
    assert without.shape == audio.shape and not torch.equal(without, audio)


def test_pitch_codes_out_of_range_or_for_a_model_without_a_stream_are_refused(pitch_codec: Codec) -> None:
    codes = pitch_codec.encode(speech_like(0.5), 16000, TOP_RUNG)
    with pytest.raises(UserError, match="pitch code values"):
        pitch_codec.check(dataclasses.replace(codes, pitch=codes.pitch + 200))
    plain = Codec(make_model(dataclasses.replace(TINY_PITCH, pitch_bits=0), seed=0))
    wrong = dataclasses.replace(codes, model_hash=plain.hash, model_name=plain.name)
    with pytest.raises(UserError, match="streams"):
        plain.check(wrong)


def test_tokens_of_a_pitch_model_carry_its_pitch_codes(pitch_codec: Codec, tmp_path) -> None:
    import soundfile as sf

    from vqcodec.tokens import extract, iter_utterances, load_shard

    wav = speech_like(0.6)
    sf.write(tmp_path / "a.wav", wav, 16000)
    extract(pitch_codec, tmp_path / "a.wav", tmp_path / "out", bitrate=TOP_RUNG, progress=False)
    (u,) = list(iter_utterances(tmp_path / "out"))
    codes = pitch_codec.encode(wav, 16000, TOP_RUNG)
    assert u.info["pitch_bits"] == 7 and np.array_equal(u.pitch, codes.pitch.numpy())
    assert len(next(iter(load_shard(tmp_path / "out" / u.info["shard"]).values()))) == 3
