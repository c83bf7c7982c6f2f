"""The pipeline on both backends (vqcodec.backends.onnxruntime and .torch): onnxruntime gives torch's codes and
audio (one window loop, one resampler, the same checks), exact lengths at any rate and channel count, and
either backend reads the other's files, a model's pitch stream included."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import TINY_PITCH, TOP_RUNG, make_model, speech_like

from vqcodec.backends.exported import manifest_path, read_manifest
from vqcodec.backends.onnxruntime import OnnxBackend
from vqcodec.codec import Codec
from vqcodec.codes import Codes
from vqcodec.compress import compress_file as torch_compress
from vqcodec.compress import decompress_file as torch_decompress
from vqcodec.errors import UserError
from vqcodec.io import container
from vqcodec.io.weights import load_model
from vqcodec.pipeline import files, streams
from vqcodec.pipeline.coder import Coder
from vqcodec.pipeline.sources import BlockSource


def _codecs(manifest_path, chunk_frames: int = 8) -> tuple[Codec, Coder]:
    """The same model on both backends, with small windows (several per signal)."""
    model_file = manifest_path.with_name(manifest_path.name.removesuffix(".onnx.json") + ".safetensors")
    return (
        Codec(load_model(model_file), chunk_frames=chunk_frames),
        Coder(OnnxBackend(read_manifest(manifest_path)), chunk_frames=chunk_frames),
    )


def _encode(light: Coder, x: np.ndarray, rate: int, kbps: float | None = None) -> Codes:
    """[C, T] -> numpy Codes, the signal streamed in blocks as a file is read."""
    return light.encode_sources([BlockSource(_blocks(x), rate, x.shape[1], x.shape[0])], kbps)[0]


def _decode(light: Coder, codes: Codes) -> np.ndarray:
    """Codes -> [T, C]."""
    return np.concatenate(list(light.decode_blocks(codes)))


def _blocks(x: np.ndarray, size: int = 333):
    """[C, T] -> [n, C] blocks, as a file is read."""
    return (x[:, i : i + size].T.copy() for i in range(0, x.shape[1], size))


def _signal(channels: int, length: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((channels, length), dtype=np.float32) - 0.5) * 0.8


@pytest.mark.parametrize(("length", "channels"), [(1, 1), (41, 2), (1234, 1), (5000, 3)])
def test_light_codes_and_audio_equal_torch_at_the_model_rate(tiny_onnx, length: int, channels: int) -> None:
    torch_codec, light = _codecs(tiny_onnx["istft"])
    x = _signal(channels, length, seed=length)
    codes = torch_codec.encode(x, 16000, TOP_RUNG)
    c = _encode(light, x, 16000, TOP_RUNG)
    assert (c.sample_rate, c.num_samples, c.channels) == (16000, length, channels)
    for got, want in zip(c.levels, codes.levels, strict=True):
        assert np.array_equal(got, want.numpy())
    decoded = _decode(light, c)  # [T, C]
    assert decoded.shape == (length, channels)
    assert np.abs(decoded.T - torch_codec.decode(codes).numpy()).max() < 1e-4


@pytest.mark.parametrize(("length", "rate", "channels"), [(7, 11025, 1), (3000, 44100, 2), (999, 22050, 1)])
def test_light_round_trip_keeps_rate_length_and_channels(tiny_onnx, length: int, rate: int, channels: int) -> None:
    """Other rates are resampled by the pipeline's one windowed sinc (:mod:`vqcodec.pipeline.sinc`): the same
    codes as torch's, the exact length back, and torch's audio (a harmonic head over several windows)."""
    torch_codec, light = _codecs(tiny_onnx["harmonic"])
    x = _signal(channels, length, 1)
    c = _encode(light, x, rate)
    model_rate = -(-length * 16000 // rate)
    assert c.top.shape[-1] == -(-model_rate // light.config.top_hop)
    codes = torch_codec.encode(x, rate)
    for got, want in zip(c.levels, codes.levels, strict=True):
        assert np.array_equal(got, want.numpy())
    decoded = _decode(light, c)
    assert decoded.shape == (length, channels) and np.abs(decoded).max() <= 1.0
    assert np.abs(decoded.T - torch_codec.decode(codes).numpy()).max() < 1e-3  # graphs' rounding, resampled


def test_light_refuses_what_torch_refuses(tiny_onnx) -> None:
    _, light = _codecs(tiny_onnx["istft"])
    c = _encode(light, _signal(1, 800, 2), 16000)
    with pytest.raises(UserError, match="made by model 'other'"):
        _decode(light, dataclasses.replace(c, model_name="other"))
    with pytest.raises(UserError, match="code values"):
        _decode(light, dataclasses.replace(c, top=c.top + 100))


@pytest.mark.parametrize("head", ["istft", "harmonic"])
def test_either_runtime_reads_the_others_files(tmp_path, tiny_onnx, head: str) -> None:
    torch_codec, light = _codecs(tiny_onnx[head], chunk_frames=250)
    src = tmp_path / "in.wav"
    sf.write(src, _signal(2, 3000, 4).T, 16000)
    files.compress_file(light, src, tmp_path / "light.vqc", TOP_RUNG)
    torch_compress(torch_codec, src, tmp_path / "torch.vqc", TOP_RUNG)
    assert (tmp_path / "light.vqc").read_bytes() == (tmp_path / "torch.vqc").read_bytes()  # same codes, same bytes
    _assert_cross_decodes(tmp_path, light, torch_codec, (3000, 2))


# ---------------------------------------------------------------- a pitch stream


@pytest.fixture(scope="module")
def pitch_onnx(tmp_path_factory):
    """A tiny model with a pitch stream, exported beside its weights: its ``.onnx.json``."""
    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    out = tmp_path_factory.mktemp("onnx_pitch")
    save_model(make_model(TINY_PITCH, seed=3), out / "tinyp.safetensors")
    export_file(out / "tinyp.safetensors", out)
    return manifest_path(out, "tinyp")


def _speech(channels: int, length: int) -> np.ndarray:
    """[C, T] speech-like rows that turn silent halfway (voiced and unvoiced pitch frames)."""
    x = np.zeros((channels, length), np.float32)
    x[:, : length // 2] = [
        speech_like(length / 2 / 16000, seed=s)[: length // 2] * (1 - 0.3 * s) for s in range(channels)
    ]
    return x


@pytest.mark.parametrize(("length", "channels"), [(700, 1), (9000, 2)])
def test_light_pitch_stream_equals_torch(pitch_onnx, length: int, channels: int) -> None:
    """Tracked per window on the window's samples, kept as the bottom level is: the torch codec's pitch codes."""
    torch_codec, light = _codecs(pitch_onnx)
    x = _speech(channels, length)
    codes = torch_codec.encode(x, 16000, TOP_RUNG)
    c = _encode(light, x, 16000, TOP_RUNG)
    assert [lv.bits for lv in streams.codes_to_container(c, TINY_PITCH.bits, 7).levels] == [TINY_PITCH.bits] * 2 + [7]
    for got, want in zip(c.streams, codes.streams, strict=True):
        assert np.array_equal(got, want.numpy())
    if length > 1000:
        assert (codes.pitch > 0).any() and (codes.pitch == 0).any()
    decoded = _decode(light, c)  # [T, C]
    assert np.abs(decoded.T - torch_codec.decode(codes).numpy()).max() < 1e-4


def test_light_decodes_codes_without_a_pitch_stream_as_torch(pitch_onnx) -> None:
    """A pitch model's codes without the stream (a prior's samples): the predicted F0 drives, on both runtimes."""
    torch_codec, light = _codecs(pitch_onnx)
    codes = torch_codec.encode(_speech(1, 4000), 16000, TOP_RUNG)
    plain = dataclasses.replace(codes, pitch=None)
    decoded = _decode(light, plain)
    expected = torch_codec.decode(plain).numpy()
    assert np.abs(decoded.T - expected).max() < 1e-4
    assert np.abs(expected - torch_codec.decode(codes).numpy()).max() > 1e-2  # the stream matters


def test_either_runtime_reads_the_others_pitch_files(tmp_path, pitch_onnx) -> None:
    torch_codec, light = _codecs(pitch_onnx, chunk_frames=250)
    src = tmp_path / "in.wav"
    sf.write(src, _speech(2, 6000).T, 16000)
    files.compress_file(light, src, tmp_path / "light.vqc", TOP_RUNG)
    torch_compress(torch_codec, src, tmp_path / "torch.vqc", TOP_RUNG)
    assert (tmp_path / "light.vqc").read_bytes() == (tmp_path / "torch.vqc").read_bytes()  # same codes, same bytes
    assert len(streams.read_container(tmp_path / "light.vqc").levels) == 3
    _assert_cross_decodes(tmp_path, light, torch_codec, (6000, 2))


def test_light_refuses_a_fourth_stream_and_pitch_codes_out_of_range(tmp_path, pitch_onnx) -> None:
    _, light = _codecs(pitch_onnx)
    c = streams.codes_to_container(_encode(light, _speech(1, 2000), 16000), TINY_PITCH.bits, 7)
    four = dataclasses.replace(c, levels=(*c.levels, c.levels[-1]))
    (tmp_path / "four.vqc").write_bytes(container.write(four))
    with pytest.raises(UserError, match=r"and a pitch stream or none, found 4"):
        streams.read_container(tmp_path / "four.vqc")
    high = dataclasses.replace(streams.codes_from_container(c), pitch=np.full_like(c.levels[2].codes, 200))
    with pytest.raises(UserError, match="pitch code values"):
        _decode(light, high)


def test_light_decodes_the_golden_file(shipped_onnx) -> None:
    """The golden .vqc (torch-made, 22.05 kHz) decodes on the light runtime to the committed reference within
    the torch runtime's own tolerance: both resample with the same windowed sinc (the light runtime's soxr
    was 33 dB away); what is left is the ONNX decoder's rounding (55 dB measured)."""
    import importlib.util
    import json
    from pathlib import Path

    golden = Path(__file__).parents[1] / "golden"
    spec = importlib.util.spec_from_file_location("golden_make", golden / "make.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    light = files.load(shipped_onnx)
    c = streams.read_codes(golden / "speech.vqc")
    decoded = _decode(light, c).T  # [C, T]
    diff = make.compare(make.to_pcm16(decoded), make.read_reference())
    tol = json.loads((golden / "expected.json").read_text())["decode_tolerance"]
    assert diff["max_abs_steps"] <= tol["max_abs_steps"] and diff["snr_db"] >= tol["min_snr_db"], diff


def test_light_codec_never_imports_torch(tmp_path, shipped_onnx) -> None:
    """The light runtime's whole path (CLI compress, decompress, info) runs with torch made unimportable."""
    import subprocess
    import sys

    sf.write(tmp_path / "a.wav", _signal(1, 8000, 5).T, 16000)
    script = (
        "import sys; sys.modules['torch'] = None; sys.modules['torchaudio'] = None\n"
        "from vqcodec.cli import main\n"
        f"assert main(['compress', '-q', r'{tmp_path / 'a.wav'}']) == 0\n"
        f"assert main(['decompress', '-q', r'{tmp_path / 'a.vqc'}', '-o', r'{tmp_path / 'b.wav'}']) == 0\n"
        f"assert main(['info', r'{tmp_path / 'a.vqc'}']) == 0\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sf.info(tmp_path / "b.wav").frames == 8000


def test_missing_torch_is_one_line(tmp_path) -> None:
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['torch'] = None\n"
        "from vqcodec.cli import main\n"
        "sys.exit(main(['compress', '--runtime', 'torch', 'x.wav']))\n"
    )
    sf.write(tmp_path / "x.wav", np.zeros(100, np.float32), 16000)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert "needs torch" in r.stderr and "pip install 'vqcodec[torch]'" in r.stderr


def test_load_without_torch_says_what_to_install_or_use() -> None:
    """vqcodec.load() on the light install: not a bare ModuleNotFoundError, but the CLI's hint and the
    light runtime's way in."""
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['torch'] = None\n"
        "import vqcodec\n"
        "try:\n"
        "    vqcodec.load()\n"
        "except ModuleNotFoundError as e:\n"
        "    print(e.name, '|', e)\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    name, message = r.stdout.strip().split(" | ")
    assert name == "torch" and "pip install 'vqcodec[torch]'" in message
    assert "vqcodec.pipeline.files.load()" in message


def test_the_array_api_and_the_bytes_api_are_the_same_on_both_backends(tiny_onnx) -> None:
    """``encode``, ``decode`` and ``vqcodec.compress`` take the pipeline on either backend (numpy out on
    onnxruntime, tensors on torch): a 44.1 kHz stereo array gives the same codes and bytes, and PCM integers
    are scaled alike."""
    from vqcodec.compress import compress, decompress

    torch_codec, light = _codecs(tiny_onnx["harmonic"])
    x = _signal(2, 3000, 6)
    assert light.encode(x, 44100, TOP_RUNG) == torch_codec.encode(x, 44100, TOP_RUNG)
    data = compress(light, x, 44100, TOP_RUNG)
    assert data == compress(torch_codec, x, 44100, TOP_RUNG)
    y, sr = decompress(light, data)
    assert isinstance(y, np.ndarray) and y.shape == x.shape and sr == 44100
    assert np.abs(y - decompress(torch_codec, data)[0].numpy()).max() < 1e-3
    pcm16 = np.round(x * 32767).astype(np.int16)
    assert light.encode(pcm16, 16000) == light.encode(pcm16 / 32768.0, 16000) == torch_codec.encode(pcm16, 16000)
    with pytest.raises(UserError, match=r"\[C, T\].*x\.T"):
        light.encode(x.T, 16000)
    with pytest.raises(UserError, match="not supported"):
        light.encode(np.ones(100, bool), 16000)


def _assert_cross_decodes(tmp_path: Path, light, torch_codec, shape: tuple[int, int]) -> None:
    """Each runtime decodes the other's ``light.vqc`` / ``torch.vqc`` in ``tmp_path`` to the same audio of
    ``shape`` [T, C], within the golden tolerance."""
    torch_decompress(torch_codec, tmp_path / "light.vqc", tmp_path / "by_torch.wav")
    files.decompress_file(light, tmp_path / "torch.vqc", tmp_path / "by_light.wav")
    a, _ = sf.read(tmp_path / "by_torch.wav", dtype="int16")
    b, _ = sf.read(tmp_path / "by_light.wav", dtype="int16")
    assert a.shape == b.shape == shape
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 64  # the golden tolerance, in 16-bit steps


def test_a_general_model_at_24_khz_codes_alike_on_both_runtimes(tmp_path) -> None:
    """Issue 26's second model runs on both runtimes: a 24 kHz ``general`` model's export gives torch's codes
    and audio, from 48 kHz stereo input back to it."""
    from conftest import TINY

    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    config = dataclasses.replace(TINY, name="tiny24", sample_rate=24000, content="general")
    save_model(make_model(config, seed=2), tmp_path / "tiny24.safetensors")
    export_file(tmp_path / "tiny24.safetensors", tmp_path)
    torch_codec, light = _codecs(manifest_path(tmp_path, "tiny24"))
    x = _signal(2, 4800, seed=5)
    codes = torch_codec.encode(x, 48000, TOP_RUNG)
    c = _encode(light, x, 48000, TOP_RUNG)
    for got, want in zip(c.levels, codes.levels, strict=True):
        assert np.array_equal(got, want.numpy())
    decoded = _decode(light, c)
    assert decoded.shape == (4800, 2)
    assert np.abs(decoded.T - torch_codec.decode(codes).numpy()).max() < 1e-4
