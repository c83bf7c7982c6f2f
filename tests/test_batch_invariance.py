"""Codes are a function of the audio (issue 23): the shipped model gives a file the same top, bottom and pitch
codes alone or beside files of other lengths, on the torch codec, in ``vqcodec tokens`` at any batch size, and
on the light runtime (where a file's channels share its windows as a batch's files do), in windows of any size.

Before the fix, Praat's frame grid moved with the zeros after each signal (which depend on the longest file
of the batch): 871 of 6932 pitch codes of 12 dev files changed between batches of 8 and files alone. And
pitch was tracked on each coding window, whose split changes with ``chunk_frames`` and with the channels of
a batch (more than WINDOW_CHANNELS shorten the windows): 60 of 1988 codes of a 40 s signal at 100 frames."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr
from conftest import speech_like

from vqcodec.codec import Codec
from vqcodec.codes import Codes
from vqcodec.pipeline import files
from vqcodec.pipeline.coder import Coder
from vqcodec.pipeline.sources import BlockSource
from vqcodec.pipeline.windows import WINDOW_CHANNELS
from vqcodec.tokens import extract, load_shard

SR = 16000


@pytest.fixture(scope="module")
def signals(speech_wav) -> dict[str, np.ndarray]:
    """Speech of different lengths at 16 kHz: espeak-ng's sentence (2.96 s), its first 1.7 s, the sentence then
    the same 20 dB quieter (5.9 s: a window that sees only the quiet half tracks it against a lower peak), and
    two synthetic voiced signals (gliding pitch, syllable envelope) of 2.3 s and 0.6 s. Alone, 0.6 s (8 top
    frames) is the length below 14 s where Praat's floor put its frames on the other grid than in a batch."""
    x, sr = sf.read(speech_wav, dtype="float32")
    espeak = soxr.resample(x, sr, SR).astype(np.float32)
    return {
        "espeak": espeak,
        "espeak_cut": espeak[: int(1.7 * SR)],
        "loud_quiet": np.concatenate([espeak, 0.1 * espeak]),
        "glide": speech_like(2.3, SR, seed=1),
        "short": speech_like(0.6, SR, seed=2),
    }


@pytest.fixture(scope="module")
def alone(shipped_codec, signals) -> dict[str, Codes]:
    return {name: shipped_codec.encode(x, SR) for name, x in signals.items()}


# The light runtime's kernels sum in another order than torch's, so a frame whose two nearest codes are a
# float32 rounding apart can take either. One such tie occurs here (the int8 model of 2026-12-06, espeak's
# loud-then-quiet sentence at 8 kHz, bottom codebook 3, frame 273: cosine 0.94232523 against 0.94232517, one
# ulp). Across runtimes, codes may differ at most that often; in one runtime they never do.
TIES_ACROSS_RUNTIMES = 0.002


def _assert_same(got: tuple[np.ndarray, ...], want: Codes, name: str, ties: float = 0.0) -> None:
    """``got`` equals ``want``'s streams, but for at most a ``ties`` share of the top and bottom codes (pitch:
    always equal)."""
    assert len(got) == len(want.streams) == 3, name
    for level, a, b in zip(("top", "bottom", "pitch"), got, want.streams, strict=True):
        a, b = np.asarray(a), b.numpy()
        if ties and level != "pitch" and a.shape == b.shape:
            assert np.mean(a != b) <= ties, f"{name}: {level} codes differ at {np.sum(a != b)} of {a.size}"
        else:
            np.testing.assert_array_equal(a, b, err_msg=f"{name}: {level} codes")


def test_the_signals_are_voiced_and_unvoiced(alone) -> None:
    """Pitch codes that could differ: voiced frames on several grid steps, and unvoiced ones."""
    for codes in alone.values():
        voiced = codes.pitch[codes.pitch > 0]
        assert len(voiced) > codes.pitch.numel() // 4 and len(voiced.unique()) > 5
        assert (codes.pitch == 0).any()


@pytest.mark.parametrize("order", [(0, 1, 2, 3, 4), (4, 3, 2, 1, 0), (1, 4)])
def test_torch_codes_alone_equal_codes_in_a_batch(shipped_codec, signals, alone, order) -> None:
    names = [list(signals)[i] for i in order]
    batch = shipped_codec.encode_batch([signals[n] for n in names], SR)
    for name, codes in zip(names, batch, strict=True):
        _assert_same(codes.streams, alone[name], name)


def test_tokens_do_not_depend_on_the_batch_size(shipped_codec, signals, alone, tmp_path) -> None:
    """``vqcodec tokens`` codes files sorted by length, batch_size at a time: 1 and 4 give the codes alone."""
    (tmp_path / "in").mkdir()
    for name, x in signals.items():
        sf.write(tmp_path / "in" / f"{name}.wav", x, SR, subtype="FLOAT")
    for size in (1, 4):
        out = tmp_path / f"b{size}"
        extract(shipped_codec, tmp_path / "in", out, batch_size=size, progress=False)
        tokens = {uid: codes for shard in sorted(out.glob("shard-*.npz")) for uid, codes in load_shard(shard).items()}
        assert sorted(tokens) == sorted(signals)
        for name in signals:
            _assert_same(tokens[name], alone[name], f"{name}, batch size {size}")


def test_light_codes_equal_torch_alone_and_as_channels_of_one_file(shipped_onnx, signals, alone) -> None:
    """Each signal alone on the light runtime; then the longest and the shortest as two channels of one file,
    the shorter followed by silence, whose codes over the shorter's frames are its codes alone."""
    light = files.load(shipped_onnx)
    for name, x in signals.items():
        c = light.encode_sources([BlockSource(iter([x[:, None]]), SR, len(x), 1)])[0]
        _assert_same(c.streams, alone[name], f"{name} on the light runtime", ties=TIES_ACROSS_RUNTIMES)
    long, short = signals["espeak"], signals["short"]
    pair = np.stack([long, np.pad(short, (0, len(long) - len(short)))], 1)  # [T, 2]
    c = light.encode_sources([BlockSource(iter([pair]), SR, len(long), 2)])[0]
    _assert_same(tuple(s[:1] for s in c.streams), alone["espeak"], "espeak as channel 0", ties=TIES_ACROSS_RUNTIMES)
    kept = [lv[1:, :, : s.shape[-1]] for lv, s in zip(c.streams, alone["short"].streams, strict=True)]
    _assert_same(tuple(kept), alone["short"], "short as channel 1, silence after it", ties=TIES_ACROSS_RUNTIMES)


@pytest.mark.parametrize("chunk_frames", [3, 16])
def test_codes_do_not_depend_on_the_window_split(shipped_codec, shipped_onnx, signals, alone, chunk_frames) -> None:
    """Windows of 3 and 16 top frames (0.24 and 1.28 s) on both runtimes: the codes of the default 20 s ones."""
    torch_codec = Codec(shipped_codec.model, chunk_frames=chunk_frames)
    light = Coder(files.load(shipped_onnx).backend, chunk_frames=chunk_frames)
    for name, x in signals.items():
        _assert_same(torch_codec.encode(x, SR).streams, alone[name], f"{name}, torch, {chunk_frames}-frame windows")
        c = light.encode_sources([BlockSource(iter([x[:, None]]), SR, len(x), 1)])[0]
        _assert_same(c.streams, alone[name], f"{name}, light, {chunk_frames}-frame windows", ties=TIES_ACROSS_RUNTIMES)


def test_codes_do_not_depend_on_a_batch_wide_enough_to_shorten_the_windows(shipped_codec, signals, alone) -> None:
    """A batch of more channels than WINDOW_CHANNELS codes in shorter windows: 16-frame windows become 8."""
    codec = Codec(shipped_codec.model, chunk_frames=16)
    names = list(signals)
    crowd = [signals["short"]] * (2 * WINDOW_CHANNELS - len(names))
    batch = codec.encode_batch([signals[n] for n in names] + crowd, SR)
    for name, codes in zip(names, batch, strict=False):
        _assert_same(codes.streams, alone[name], f"{name} in a batch of {len(batch)}")


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_other_rates_give_the_same_codes_on_both_runtimes_and_in_a_batch(shipped_codec, shipped_onnx, signals, rate):
    """Input not at 16 kHz is resampled by the same windowed sinc on both runtimes (the light one had soxr:
    41 top and 651 bottom codes of a 6 s dev file at 22.05 kHz differed from torch's)."""
    xs = {n: soxr.resample(signals[n], SR, rate).astype(np.float32) for n in ("espeak", "loud_quiet", "short")}
    alone_here = {n: shipped_codec.encode(x, rate) for n, x in xs.items()}
    for name, codes in zip(xs, shipped_codec.encode_batch(list(xs.values()), rate), strict=True):
        _assert_same(codes.streams, alone_here[name], f"{name} at {rate} Hz in a batch")
    light = files.load(shipped_onnx)
    for name, x in xs.items():
        c = light.encode_sources([BlockSource(iter([x[:, None]]), rate, len(x), 1)])[0]
        _assert_same(c.streams, alone_here[name], f"{name} at {rate} Hz, light", ties=TIES_ACROSS_RUNTIMES)
