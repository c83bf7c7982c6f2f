"""Tests for vqcodec.codec (and vqcodec.io.weights): exact lengths, determinism, chunking, batching, model identity."""

from __future__ import annotations

import dataclasses
import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY, TOP_RUNG, make_model, speech_like

from vqcodec.codec import ArraySource, Codec, Rung
from vqcodec.codes import Codes
from vqcodec.compress import to_bytes
from vqcodec.errors import UserError
from vqcodec.io.weights import load_model, save_model, weights_hash
from vqcodec.pipeline.windows import resampled_length, window_frames
from vqcodec.resample import resample

RATES = (8000, 11025, 16000, 22050, 44100, 48000)


def _signal(channels: int, length: int, seed: int) -> torch.Tensor:
    """[C, T] noise in [-0.5, 0.5]."""
    return torch.rand(channels, length, generator=torch.Generator().manual_seed(seed)) - 0.5


# ---------------------------------------------------------------- round trips


def _random_cases(n: int) -> list[tuple[int, int, int]]:
    """(length, sample rate, channels), lengths including 1 and non-multiples of the hop; never fewer samples
    than channels (such an array reads as soundfile's [T, C] and is refused)."""
    rng = np.random.default_rng(1234)
    fixed = [
        (1, 16000, 1),
        (2, 44100, 2),
        (19, 8000, 3),
        (41, 16000, 1),
        (7, 11025, 1),
        (333, 48000, 2),
        (50, 22051, 2),
        (3, 1, 1),
    ]
    rand = [(int(rng.integers(1, 1500)), int(rng.choice(RATES)), int(rng.integers(1, 4))) for _ in range(n)]
    return fixed + [(max(length, c), rate, c) for length, rate, c in rand]


@pytest.mark.parametrize(("length", "rate", "channels"), _random_cases(10))
def test_round_trip_exact_length_rate_channels(tiny_codec: Codec, length: int, rate: int, channels: int) -> None:
    x = _signal(channels, length, seed=length)
    codes = tiny_codec.encode(x, rate, TOP_RUNG)
    assert (codes.sample_rate, codes.num_samples, codes.channels) == (rate, length, channels)
    model_rate_samples = -(-length * TINY.sample_rate // rate)  # ceil
    assert codes.top.shape[-1] == -(-model_rate_samples // TINY.top_hop) >= 1
    assert codes.bottom.shape[-1] == codes.top.shape[-1] * (TINY.top_hop // TINY.hop)
    y = tiny_codec.decode(codes)
    assert y.shape == (channels, length)
    assert y.dtype == torch.float32 and torch.isfinite(y).all() and y.abs().max() <= 1


def test_mono_1d_input_is_one_channel(tiny_codec: Codec) -> None:
    x = _signal(1, 300, 0)
    a = tiny_codec.encode(x[0], 16000, TOP_RUNG)
    b = tiny_codec.encode(x.numpy(), 16000, TOP_RUNG)  # numpy works too
    assert a == b and a.channels == 1
    assert tiny_codec.decode(a).shape == (1, 300)


def test_channels_are_coded_independently(tiny_codec: Codec) -> None:
    x = _signal(3, 500, 1)
    both = tiny_codec.encode(x, 22050, TOP_RUNG)
    for c in range(3):
        alone = tiny_codec.encode(x[c : c + 1], 22050, TOP_RUNG)
        assert torch.equal(both.top[c : c + 1], alone.top) and torch.equal(both.bottom[c : c + 1], alone.bottom)


@pytest.mark.parametrize("bad", [np.zeros(0), np.zeros((2, 0)), np.zeros((1, 2, 3)), np.array([0.0, np.nan])])
def test_bad_audio_raises(tiny_codec: Codec, bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        tiny_codec.encode(bad, 16000, TOP_RUNG)


def test_bad_sample_rate_raises() -> None:
    with pytest.raises(ValueError):
        ArraySource(np.zeros(10), 0)
    with pytest.raises(ValueError, match="outside the supported"):
        ArraySource(np.zeros(10), 10**9)
    with pytest.raises(ValueError, match="whole number"):
        ArraySource(np.zeros(10), 16000.5)


def test_time_major_array_is_refused_with_the_fix(tiny_codec: Codec) -> None:
    """soundfile.read gives [T, C]: taken as T channels it asked for gigabytes; now a message says x.T."""
    stereo = _signal(2, 1600, 0).numpy().T  # [T, C], as soundfile returns it
    with pytest.raises(ValueError, match=r"\[C, T\].*x\.T"):
        tiny_codec.encode(stereo, 16000)
    assert tiny_codec.encode(stereo.T, 16000).channels == 2
    with pytest.raises(ValueError, match="256 channels"):
        tiny_codec.encode(np.zeros((256, 1000), np.float32), 16000)


def test_integer_audio_is_scaled_by_its_range(tiny_codec: Codec) -> None:
    x = _signal(1, 800, 4).numpy()
    pcm16 = np.round(x * 32767).astype(np.int16)
    assert tiny_codec.encode(pcm16, 16000) == tiny_codec.encode(pcm16 / 32768.0, 16000)
    assert tiny_codec.encode(torch.from_numpy(pcm16), 16000) == tiny_codec.encode(pcm16, 16000)
    pcm8 = (np.round(x * 127) + 128).astype(np.uint8)  # WAV's 8-bit PCM: unsigned, centred on 128
    assert tiny_codec.encode(pcm8, 16000) == tiny_codec.encode((pcm8 - 128.0) / 128, 16000)
    pcm32 = (x.astype(np.float64) * 2**31).astype(np.int32)
    assert ArraySource(pcm32, 16000).wav.abs().max() <= 1
    with pytest.raises(ValueError, match="not supported"):
        tiny_codec.encode(np.ones(100, bool), 16000)


def test_many_channels_cost_a_bounded_window(make_codec) -> None:
    """More than 32 channels shorten the window (and the model codes 8 at a time): the codes are those of
    coding each channel alone."""
    codec = make_codec(chunk_frames=64)
    x = _signal(40, 2000, 6)
    assert window_frames(codec.chunk_frames, 40) < 64 == window_frames(codec.chunk_frames, 2)
    many = codec.encode(x, 16000, TOP_RUNG)
    for c in (0, 17, 39):
        alone = codec.encode(x[c : c + 1], 16000, TOP_RUNG)
        assert torch.equal(many.top[c : c + 1], alone.top) and torch.equal(many.bottom[c : c + 1], alone.bottom)
    torch.testing.assert_close(
        codec.decode(many)[17:18], codec.decode(codec.encode(x[17:18], 16000, TOP_RUNG)), rtol=0, atol=1e-5
    )


# ---------------------------------------------------------------- determinism, chunking, batching


def test_deterministic(tiny_codec: Codec) -> None:
    x = _signal(2, 1234, 5)
    a, b = tiny_codec.encode(x, 22050, TOP_RUNG), tiny_codec.encode(x.clone(), 22050, TOP_RUNG)
    assert a == b
    assert to_bytes(a, tiny_codec) == to_bytes(b, tiny_codec)
    assert torch.equal(tiny_codec.decode(a), tiny_codec.decode(b))


@pytest.mark.parametrize(("rate", "length"), [(16000, 777), (22050, 901), (8000, 333)])
def test_chunked_equals_whole(make_codec, rate: int, length: int) -> None:
    chunked, whole = make_codec(chunk_frames=2), make_codec(chunk_frames=1000)
    x = _signal(2, length, rate)
    a, b = chunked.encode(x, rate, TOP_RUNG), whole.encode(x, rate, TOP_RUNG)
    assert a == b
    # Decoding in windows equals decoding at once, up to float rounding.
    torch.testing.assert_close(chunked.decode(b), whole.decode(b), rtol=0, atol=1e-5)


def test_decode_chunks_concatenate_to_decode(make_codec) -> None:
    codec = make_codec(chunk_frames=2)
    codes = codec.encode(_signal(1, 1000, 3), 16000, TOP_RUNG)
    pieces = list(codec.decode_chunks(codes))
    assert len(pieces) > 1
    assert sum(p.shape[-1] for p in pieces) == 1000
    assert torch.equal(torch.cat(pieces, dim=-1), codec.decode(codes))


@pytest.mark.parametrize("rate", [22050, 44100])
def test_decoding_at_another_rate_resamples_the_model_rate_decode(shipped_codec: Codec, rate: int) -> None:
    """The shipped harmonic head over several windows starts its source's phase afresh in each: a resampler's
    margin reads the neighbour window's samples as that window decodes them. (It used to decode a span of
    its own, starting the phase elsewhere: -1.8 dB against the light runtime on a 51 s file at 44.1 kHz.)"""
    codec = Codec(shipped_codec.model, chunk_frames=8)
    x = speech_like(3.0, rate, seed=4)
    codes = codec.encode(x, rate)
    n = resampled_length(len(x), rate, 16000)
    at_model_rate = codec.decode(dataclasses.replace(codes, sample_rate=16000, num_samples=n))
    assert at_model_rate.abs().max() < 0.99  # no clipping before the resampling
    want = resample(at_model_rate, 16000, rate)[..., : len(x)]
    torch.testing.assert_close(codec.decode(codes), want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("rate", [16000, 44100])
def test_encode_batch_equals_each_alone(tiny_codec: Codec, rate: int) -> None:
    wavs = [_signal(1, 1, 0), _signal(2, 517, 1), _signal(1, 1500, 2), _signal(3, 40, 3)]
    batch = tiny_codec.encode_batch(wavs, rate, TOP_RUNG)
    assert len(batch) == len(wavs)
    for wav, codes in zip(wavs, batch, strict=True):
        assert codes.num_samples == wav.shape[-1] and codes.channels == wav.shape[0]
        assert codes == tiny_codec.encode(wav, rate, TOP_RUNG)
        assert tiny_codec.decode(codes).shape == wav.shape


# ---------------------------------------------------------------- rate ladder


def test_ladder(tiny_codec: Codec) -> None:
    ladder = tiny_codec.ladder()
    assert ladder == [Rung(6.4, 2, 1), Rung(9.6, 2, 2), Rung(12.8, 2, 3)]
    for r in ladder:
        assert r.kbps * 1000 == pytest.approx(TINY.bitrate(r.n_top, r.n_bottom))


def test_rung_selection(tiny_codec: Codec) -> None:
    assert tiny_codec.rung(6.4) == Rung(6.4, 2, 1)
    assert tiny_codec.rung(9.0) == Rung(6.4, 2, 1)
    assert tiny_codec.rung(9.6) == Rung(9.6, 2, 2)
    assert tiny_codec.rung(100) == Rung(12.8, 2, 3)
    with pytest.raises(ValueError, match="below"):
        tiny_codec.rung(6.3)
    with pytest.raises(ValueError):
        tiny_codec.encode(_signal(1, 100, 0), 16000, 1.0)


def test_rung_default_shipped(shipped_codec: Codec) -> None:
    ladder = shipped_codec.ladder()
    assert [r.n_bottom for r in ladder] == list(range(1, shipped_codec.config.n_bottom + 1))
    assert all(a.kbps < b.kbps for a, b in zip(ladder, ladder[1:], strict=False))
    default = shipped_codec.rung(None)
    assert default == max((r for r in ladder if r.kbps <= 3.0), key=lambda r: r.kbps)
    with pytest.raises(ValueError):
        shipped_codec.rung(ladder[0].kbps * 0.99)


@pytest.mark.parametrize("n_bottom", [1, 2, 3])
def test_codes_have_the_rung_shape(tiny_codec: Codec, n_bottom: int) -> None:
    rung = tiny_codec.ladder()[n_bottom - 1]
    codes = tiny_codec.encode(_signal(1, 400, 0), 16000, rung.kbps)
    assert codes.top.shape[1] == rung.n_top and codes.bottom.shape[1] == rung.n_bottom
    assert tiny_codec.decode(codes).shape == (1, 400)


# ---------------------------------------------------------------- model identity


def test_other_models_codes_are_refused(tiny_codec: Codec, make_codec) -> None:
    codes = tiny_codec.encode(_signal(1, 200, 0), 16000, TOP_RUNG)
    other = make_codec(seed=1)
    assert other.hash != tiny_codec.hash and other.name == tiny_codec.name
    with pytest.raises(ValueError, match="model"):
        other.decode(codes)
    with pytest.raises(ValueError):
        list(other.decode_chunks(codes))
    with pytest.raises(ValueError):
        tiny_codec.decode(dataclasses.replace(codes, model_hash=bytes(4)))
    with pytest.raises(ValueError):
        tiny_codec.decode(dataclasses.replace(codes, model_name="other"))


def test_codes_that_do_not_fit_the_levels_are_refused(tiny_codec: Codec) -> None:
    codes = tiny_codec.encode(_signal(1, 200, 0), 16000, TOP_RUNG)
    too_deep = dataclasses.replace(codes, bottom=torch.cat([codes.bottom, codes.bottom[:, :1]], dim=1))
    misaligned = dataclasses.replace(codes, bottom=codes.bottom[..., :-1])
    no_top = dataclasses.replace(codes, top=codes.top[:, :0])
    for bad in (too_deep, misaligned, no_top):
        with pytest.raises(ValueError):
            tiny_codec.check(bad)


def test_hash_covers_what_decoding_uses_and_only_that() -> None:
    model = make_model()
    before = weights_hash(model)
    vq = model.hierarchy.top_quantizer.layers[0]
    with torch.no_grad():  # bookkeeping of training: decoding never reads it
        vq.usage += 1.0
        vq.steps += 7
        vq.whiten.num_batches_tracked += 3
    assert weights_hash(model) == before
    with torch.no_grad():  # the whitening statistics do change the codes
        vq.whiten.running_mean[0] += 1e-3
    assert weights_hash(model) != before
    with torch.no_grad():
        vq.whiten.running_mean[0] -= 1e-3
        model.decoder.head.proj.bias[0] += 1e-3
    assert weights_hash(model) != before
    assert len(before) == 4


def test_codes_round_trip_through_model_file(tmp_path: Path) -> None:
    """Codes made with a model loaded from a file decode with the same file loaded again."""
    path = tmp_path / "tiny.safetensors"
    save_model(make_model(), path)
    first = Codec(load_model(path))
    save_model(first.model, tmp_path / "again.safetensors")  # the stored (float16) weights round trip
    second, third = Codec(load_model(path)), Codec(load_model(tmp_path / "again.safetensors"))
    assert first.hash == second.hash == third.hash
    assert first.config == second.config == TINY

    x = _signal(2, 999, 7)
    codes = first.encode(x, 22050, TOP_RUNG)
    assert codes.model_hash == first.hash
    assert codes == second.encode(x, 22050, TOP_RUNG)
    assert torch.equal(first.decode(codes), second.decode(codes))


def test_full_precision_save_keeps_the_hash(tmp_path: Path) -> None:
    model = make_model()
    save_model(model, tmp_path / "m.safetensors", precision="float32")
    loaded = load_model(tmp_path / "m.safetensors")
    assert weights_hash(loaded) == weights_hash(model)
    assert all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True)
    )
    assert not loaded.training


def test_weights_file_is_safetensors(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_model(make_model(), path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    assert header["__metadata__"]["format"] == "vqcodec-model-1"
    assert json.loads(header["__metadata__"]["config"])["name"] == "tiny"
    params = {name for name, _ in make_model().named_parameters()}
    assert all(v["dtype"] == "F16" for k, v in header.items() if k in params)
    assert all(v["dtype"] in ("F32", "I64") for k, v in header.items() if k not in params and k != "__metadata__")
    assert b"\x80\x04" not in raw[:2]  # not a pickle


class _Payload:
    """Unpickling this creates ``marker``: the proof that a loader executed code from a file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("kind", ["pickle", "torch"])
def test_pickle_model_file_is_refused_without_running_it(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    if kind == "pickle":
        path.write_bytes(pickle.dumps(_Payload(marker)))
    else:
        torch.save({"model": _Payload(marker)}, path)
    assert not marker.exists()
    with pytest.raises(UserError):
        load_model(path)
    import vqcodec

    with pytest.raises(UserError):
        vqcodec.load(path)
    assert not marker.exists()
    pickle.loads(pickle.dumps(_Payload(marker)))  # the payload does work when unpickled
    assert marker.exists()


@pytest.mark.parametrize("content", [b"", b"not a model", b"\xff" * 64])
def test_junk_model_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.safetensors"
    path.write_bytes(content)
    with pytest.raises(UserError):
        load_model(path)


def test_missing_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        load_model(tmp_path / "nope.safetensors")
    with pytest.raises(UserError):
        load_model(tmp_path)  # a directory


def test_safetensors_without_our_metadata_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(UserError):
        load_model(path)


def test_codes_dataclass() -> None:
    top, bottom = torch.zeros(2, 1, 3, dtype=torch.long), torch.zeros(2, 2, 6, dtype=torch.long)
    codes = Codes(top, bottom, 8000, 4000, "tiny", b"abcd")
    assert codes.channels == 2 and codes.duration == 0.5
    assert codes == Codes(top.clone(), bottom.clone(), 8000, 4000, "tiny", b"abcd")
    assert codes != dataclasses.replace(codes, num_samples=4001)
    assert codes != dataclasses.replace(codes, bottom=bottom + 1)
    assert codes.__eq__(object()) is NotImplemented


# ---------------------------------------------------------------- bugs found by these tests, now fixed


def test_check_refuses_codes_outside_the_codebooks(tiny_codec: Codec) -> None:
    codes = tiny_codec.encode(_signal(1, 200, 0), 16000, TOP_RUNG)
    with pytest.raises(ValueError):
        tiny_codec.check(dataclasses.replace(codes, top=codes.top + TINY.codebook_size))


def test_check_refuses_frames_that_do_not_cover_num_samples(tiny_codec: Codec) -> None:
    codes = tiny_codec.encode(_signal(1, 200, 0), 16000, TOP_RUNG)  # 5 top frames
    with pytest.raises(ValueError):
        tiny_codec.check(dataclasses.replace(codes, num_samples=10**6))


def test_a_short_signal_costs_the_signal_not_the_window(tiny_codec: Codec) -> None:
    """A window's context reaching past a short signal is zeros at the model rate: the source is read only
    where it has samples (a 50 KB file of 255 channels at 384 kHz allocated a whole window of them)."""
    reads = []

    class Recording(ArraySource):
        def read(self, start: int, stop: int) -> torch.Tensor:
            reads.append(stop - start)
            return super().read(start, stop)

    source = Recording(_signal(8, 100, 7), 384_000)
    [codes] = tiny_codec.encode_sources([source], TOP_RUNG)
    window = (1 + 2 * tiny_codec.context_frames) * TINY.top_hop * 384_000 // TINY.sample_rate
    assert codes == tiny_codec.encode(source.wav, 384_000, TOP_RUNG)
    assert max(reads) < window // 4
