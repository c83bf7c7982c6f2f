"""Tests for vqcodec.export: the ONNX graphs compute what the torch model computes, for the tiny
configurations (both heads, and a pitch stream) and the shipped model, at any batch, length and rung.

Codes: equal on every frame. A cosine lookup whose two best codes tie to float rounding could pick either
in the two runtimes (a near-tie); none occurs on these inputs, so any difference fails the test.

Decoded audio: within 1e-4 of full scale. The harmonic head integrates its predicted F0 into the phase of
every harmonic, so rounding differences of ~1e-7 in F0 (convolutions summed in another order) grow over a
window: torch itself differs from torch by up to 7e-4 between a batch of one and of two over 4 s, and by
2e-3 between CPU vector units (ATEN_CPU_CAPABILITY default and avx2) -- see docs/benchmarks.md, "Light runtime".
So the harmonic decoders are compared at 1e-4 over short windows (0.16 s), and over whole seconds to
the SNR the golden tolerance asks of torch across CPUs.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY, TINY_PITCH, make_model, speech_like

from vqcodec.backends.exported import file_sha256, manifest_path, read_manifest
from vqcodec.backends.onnxruntime import OnnxBackend
from vqcodec.export.graphs import pitch_drive
from vqcodec.io.weights import load_model, weights_hash
from vqcodec.nn.excitation import Pitch
from vqcodec.nn.heads import HarmonicHead

FULL_SCALE_TOL = 1e-4


def _pair(manifest_path):
    """(torch model, onnx model) of one exported model file."""
    m = read_manifest(manifest_path)
    model_file = manifest_path.with_name(manifest_path.name.removesuffix(".onnx.json") + ".safetensors")
    return load_model(model_file), OnnxBackend(m)


def _audio(batch: int, frames: int, hop: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, 1, frames * hop, generator=g) - 0.5) * 0.8  # [B, 1, T]


@pytest.mark.parametrize("head", ["istft", "harmonic"])
@pytest.mark.parametrize(("batch", "frames"), [(1, 1), (3, 7), (2, 33)])
def test_tiny_codes_match_torch(tiny_onnx, head: str, batch: int, frames: int) -> None:
    model, onnx = _pair(tiny_onnx[head])
    x = _audio(batch, frames, model.config.top_hop, seed=frames)
    with torch.inference_mode():
        expected = model.encode(x, *model.config.codebooks)
    for got, want in zip(onnx.encode(x.numpy(), model.config.codebooks), expected, strict=True):
        assert got.dtype == np.int64 and np.array_equal(got, want.numpy())


def test_tiny_spectral_input_codes_match_torch(tmp_path) -> None:
    """An encoder with a spectral input (a DFT by convolution, mel bands, a log) exports as it is."""
    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    config = dataclasses.replace(TINY_PITCH, name="tinys", encoder_mels=16)
    save_model(make_model(config, seed=4), tmp_path / "tinys.safetensors")
    export_file(tmp_path / "tinys.safetensors", tmp_path)
    model, onnx = _pair(manifest_path(tmp_path, "tinys"))
    x = _audio(2, 9, config.top_hop, seed=9)
    with torch.inference_mode():
        expected = model.encode(x, *config.codebooks)
    for got, want in zip(onnx.encode(x.numpy(), model.config.codebooks), expected, strict=True):
        assert np.array_equal(got, want.numpy())


@pytest.mark.parametrize("readout_from", [(), (1, 2)])
def test_tiny_residual_readout_codes_match_torch(tmp_path, readout_from: tuple[int, ...]) -> None:
    """A stack with a residual readout (``residual_readout``, from each level's second codebook or from those
    ``readout_from`` names) exports: the graph subtracts the readouts from what the codebooks after them search,
    as torch does, and its codes differ from those without it."""
    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    config = dataclasses.replace(TINY_PITCH, name="tinyr", residual_readout=True, readout_from=readout_from)
    model = make_model(config, seed=5)
    with torch.no_grad():
        for layer in [*model.hierarchy.top_quantizer.layers, *model.hierarchy.bottom_quantizer.layers]:
            layer.readout.normal_(std=2.0)
    save_model(model, tmp_path / "tinyr.safetensors")
    export_file(tmp_path / "tinyr.safetensors", tmp_path)
    model, onnx = _pair(manifest_path(tmp_path, "tinyr"))
    x = _audio(2, 9, config.top_hop, seed=9)
    with torch.inference_mode():
        expected = model.encode(x, *config.codebooks)
        model.hierarchy.bottom_quantizer.residual_readout = False
        without = model.encode(x, *config.codebooks)[1]
    for got, want in zip(onnx.encode(x.numpy(), model.config.codebooks), expected, strict=True):
        assert np.array_equal(got, want.numpy())
    first = (readout_from or (1, 1))[1]
    assert torch.equal(without[:, :first], expected[1][:, :first])  # the codebooks before it code as without
    assert not torch.equal(without[:, first:], expected[1][:, first:])  # the readout is in the graph


@pytest.mark.parametrize("n_bottom", [1, 2, 3])
def test_tiny_istft_decode_matches_torch_at_every_rung(tiny_onnx, n_bottom: int) -> None:
    model, onnx = _pair(tiny_onnx["istft"])
    with torch.inference_mode():
        top, bottom = model.encode(_audio(2, 40, model.config.top_hop, seed=n_bottom), 2, n_bottom)
        expected = model.decode(top, bottom, offset=4000).numpy()
    got = onnx.decode([top.numpy(), bottom.numpy()], 4000)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < FULL_SCALE_TOL


def test_tiny_harmonic_decode_matches_torch(tiny_onnx) -> None:
    model, onnx = _pair(tiny_onnx["harmonic"])
    with torch.inference_mode():
        top, bottom = model.encode(_audio(3, 4, model.config.top_hop, seed=5), 2, 2)
        expected = model.decode(top, bottom, offset=123457).numpy()
    got = onnx.decode([top.numpy(), bottom.numpy()], 123457)
    assert np.abs(got - expected).max() < FULL_SCALE_TOL * max(1.0, np.abs(expected).max())  # untrained: loud


def test_decode_refuses_nothing_it_should_take(tiny_onnx) -> None:
    """Fewer top codebooks than the stack decode too (the graph pads the stack with -1 inside)."""
    model, onnx = _pair(tiny_onnx["istft"])
    with torch.inference_mode():
        top, bottom = model.encode(_audio(1, 5, model.config.top_hop, seed=9), 1, 1)
        expected = model.decode(top, bottom).numpy()
    assert np.abs(onnx.decode([top.numpy(), bottom.numpy()], 0) - expected).max() < FULL_SCALE_TOL


def test_manifest_records_the_weights(tiny_onnx, tiny_model_file) -> None:
    m = read_manifest(tiny_onnx["istft"])
    assert m.weights_sha256 == file_sha256(tiny_model_file)
    assert m.model_hash == weights_hash(load_model(tiny_model_file))
    assert m.encoder.is_file() and m.decoder.is_file() and m.context_frames >= 1
    raw = json.loads(tiny_onnx["istft"].read_text())
    assert raw["format"] == "vqcodec-onnx-3" and raw["opset"] == 18
    assert m.weights == tiny_onnx["istft"].with_name("tiny.safetensors")


# ---------------------------------------------------------------- each weight stored once


def _inline_floats(path) -> int:
    """Bytes of float initializers and constants a graph holds inside (not read from its weights file)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    inits = [i for i in graph.initializer if i.data_location != onnx.TensorProto.EXTERNAL]
    consts = [n.attribute[0].t for n in graph.node if n.op_type == "Constant" and n.attribute[0].name == "value"]
    floats = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE)
    return sum(len(t.raw_data) for t in [*inits, *consts] if t.data_type in floats)


def test_graphs_read_their_weights_from_the_weights_file(tiny_onnx) -> None:
    """Every weight's bytes live once, in the safetensors file the manifest names; the graphs keep only small
    derived tensors (a codebook's projections, a window, index ranges)."""
    import onnx

    m = read_manifest(tiny_onnx["harmonic"])
    for path in (m.encoder, m.decoder):
        graph = onnx.load(str(path), load_external_data=False).graph
        external = [i for i in graph.initializer if i.data_location == onnx.TensorProto.EXTERNAL]
        assert external and {e.external_data[0].value for e in external} == {m.weights.name}
        assert _inline_floats(path) < 0.1 * m.weights.stat().st_size


def test_graphs_are_fed_every_weight_and_load_nothing_unfed(tiny_onnx) -> None:
    """Format 3: the manifest names the file tensor behind each fed initializer (all of the graph's external
    ones, transposed matrices among them), and a graph nobody feeds is refused by onnxruntime, not run on the
    stored bytes read as float32."""
    import onnx
    import onnxruntime as ort

    m = read_manifest(tiny_onnx["istft"])
    names = set(load_model(m.weights).state_dict())
    for which in ("encoder", "decoder"):
        path = getattr(m, which)
        graph = onnx.load(str(path), load_external_data=False).graph
        external = {i.name for i in graph.initializer if i.data_location == onnx.TensorProto.EXTERNAL}
        assert set(m.fed[which]) == external
        assert {tensor for tensor, _ in m.fed[which].values()} <= names
        with pytest.raises(Exception):  # noqa: B017 (onnxruntime raises its own exception types)
            ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert any(transposed for inits in m.fed.values() for _, transposed in inits.values())


@pytest.mark.parametrize(
    "fed", [{"other": {}}, {"decoder": {"w": ["x"]}}, {"decoder": {"w": ["x", 1]}}, {"encoder": []}]
)
def test_a_damaged_fed_table_is_one_line(tiny_onnx, tmp_path, fed) -> None:
    from vqcodec.errors import UserError

    raw = json.loads(tiny_onnx["istft"].read_text()) | {"fed": fed}
    (tmp_path / "x.onnx.json").write_text(json.dumps(raw))
    with pytest.raises(UserError, match="not an exported vqcodec model .*fed"):
        read_manifest(tmp_path / "x.onnx.json")


def test_a_fed_tensor_missing_from_the_file_is_one_line(tiny_onnx, tmp_path) -> None:
    """A manifest naming a tensor its (hash-checked) weights file lacks: a damaged export, said in one line."""
    import shutil

    from vqcodec.errors import UserError

    m = read_manifest(tiny_onnx["istft"])
    for f in (m.encoder, m.decoder, m.weights):
        shutil.copy(f, tmp_path / f.name)
    raw = json.loads(tiny_onnx["istft"].read_text())
    init = next(iter(raw["fed"]["encoder"]))
    raw["fed"]["encoder"][init] = ["no.such.tensor", False]
    (tmp_path / "x.onnx.json").write_text(json.dumps(raw))
    with pytest.raises(UserError, match="no tensor 'no.such.tensor'.*export the model again"):
        OnnxBackend(read_manifest(tmp_path / "x.onnx.json")).load()


def test_export_elsewhere_copies_the_weights_beside_the_graphs(tmp_path, tiny_model_file) -> None:
    from vqcodec.export.onnx import export_file

    m = export_file(tiny_model_file, tmp_path / "out")
    assert m.weights == tmp_path / "out" / Path(tiny_model_file).name
    assert m.weights.read_bytes() == Path(tiny_model_file).read_bytes()
    assert OnnxBackend(m).load()


@pytest.mark.parametrize("name", ["../tiny.safetensors", "/etc/passwd", "", ".."])
def test_manifest_names_its_weights_beside_it(tiny_onnx, tmp_path, name) -> None:
    """A manifest whose weights are anywhere but beside it is refused in one line, before anything is read."""
    from vqcodec.errors import UserError

    raw = json.loads(tiny_onnx["istft"].read_text()) | {"weights": name}
    (tmp_path / "x.onnx.json").write_text(json.dumps(raw))
    with pytest.raises(UserError, match="not an exported vqcodec model .*not a file name beside the manifest"):
        read_manifest(tmp_path / "x.onnx.json")


def test_graphs_refuse_weights_they_were_not_exported_from(tmp_path, tiny_model_file) -> None:
    """The graphs read their weights by byte offsets: another file beside them, or none, is one line."""
    from vqcodec.errors import UserError
    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    m = export_file(tiny_model_file, tmp_path)
    save_model(make_model(load_model(tiny_model_file).config, seed=99), m.weights)
    with pytest.raises(UserError, match="not the weights .* was exported from"):
        OnnxBackend(m).load()
    m.weights.unlink()
    with pytest.raises(UserError, match="no such weights file"):
        OnnxBackend(m).load()


def test_int8_weights_are_read_once_and_decode_as_torch_does(tmp_path) -> None:
    """An int8 model file (a shipped model's precision): the graphs read its int8 bytes and scales, and compute
    with the very float32 values the torch runtime multiplies out: codes equal, audio within the tolerance."""
    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    config = dataclasses.replace(TINY, name="tinyq", encoder_mels=16, decoder_dim=64)
    save_model(make_model(config, seed=6), tmp_path / "tinyq.safetensors", precision="int8")
    m = export_file(tmp_path / "tinyq.safetensors", tmp_path)
    model, onnx_model = _pair(manifest_path(tmp_path, "tinyq"))
    assert m.model_hash == weights_hash(model)
    for path in (m.encoder, m.decoder):
        assert _inline_floats(path) < 0.1 * m.weights.stat().st_size
    x = _audio(2, 9, config.top_hop, seed=3)
    with torch.inference_mode():
        top, bottom = model.encode(x, *config.codebooks)
        expected = model.decode(top, bottom, offset=0).numpy()
    for got, want in zip(onnx_model.encode(x.numpy(), config.codebooks), (top, bottom), strict=True):
        assert np.array_equal(got, want.numpy())
    assert np.abs(onnx_model.decode([top.numpy(), bottom.numpy()], 0) - expected).max() < FULL_SCALE_TOL


# ---------------------------------------------------------------- a pitch stream


@pytest.fixture(scope="module")
def pitch_onnx(tmp_path_factory):
    """A tiny model with a pitch stream and a calibrated output gain, exported by ``vqcodec export --model M
    OUTDIR`` beside its weights."""
    from vqcodec.cli import main
    from vqcodec.io.weights import save_model

    out = tmp_path_factory.mktemp("onnx_pitch")
    save_model(make_model(dataclasses.replace(TINY_PITCH, output_gain_db=3.0), seed=2), out / "tinyp.safetensors")
    assert main(["export", "-q", "--model", str(out / "tinyp.safetensors"), str(out)]) == 0
    return manifest_path(out, "tinyp")


def _voiced_then_silent(top_hop: int) -> torch.Tensor:
    """[2, 1, T]: speech-like rows that turn silent (voiced and unvoiced pitch frames), whole top frames."""
    rows = [np.concatenate([speech_like(0.25, seed=s), np.zeros(1600, np.float32)]) for s in (1, 2)]
    x = torch.from_numpy(np.stack(rows))[:, None]
    return x[..., : x.shape[-1] // top_hop * top_hop]


def test_only_a_pitch_model_s_decoder_takes_the_f0(tiny_onnx, pitch_onnx) -> None:
    """The manifest carries ``pitch_bits``; models without a pitch stream export as before."""
    assert read_manifest(pitch_onnx).config.pitch_bits == 7
    assert read_manifest(pitch_onnx).config.output_gain_db == 3.0
    inputs = {
        h: [i.name for i in OnnxBackend(read_manifest(p))._session("decoder").get_inputs()]
        for h, p in tiny_onnx.items()
    }
    assert inputs == {"istft": ["top_codes", "bottom_codes"], "harmonic": ["top_codes", "bottom_codes", "offset"]}
    pitch = OnnxBackend(read_manifest(pitch_onnx))._session("decoder").get_inputs()
    assert [i.name for i in pitch] == ["top_codes", "bottom_codes", "offset", "pitch_f0"]


def test_pitch_drive_is_the_heads_drive() -> None:
    """F0 > 0 given, 0 unvoiced: the head's drive with that pitch; -1: its drive with none."""
    g = torch.Generator().manual_seed(0)
    f0, voicing = 100 + 300 * torch.rand(2, 6, generator=g), torch.randn(2, 6, generator=g)
    given = torch.tensor([[120.0, 0.0, 0.0, 130.5, 140.0, 0.0], [-1.0] * 6])
    with_pitch = HarmonicHead.drive(f0, voicing, Pitch(given.clamp(min=0), given > 0))
    without = HarmonicHead.drive(f0, voicing, None)
    got_f0, got_voiced = pitch_drive(f0, voicing, given)
    assert torch.equal(got_f0[0], with_pitch[0][0]) and torch.equal(got_voiced[0], with_pitch[1][0])
    assert torch.equal(got_f0[1], without[0][1]) and torch.equal(got_voiced[1], without[1][1])


@pytest.mark.parametrize(("start", "frames"), [(0, 8), (12, 4)])
def test_tiny_pitch_decode_matches_torch(pitch_onnx, start: int, frames: int) -> None:
    """With the pitch codes (the backend feeds the graph their frame_f0), and without them (-1 everywhere: the
    predicted F0 drives, as ``decode(top, bottom)``)."""
    model, onnx = _pair(pitch_onnx)
    c = model.config
    x = _voiced_then_silent(c.top_hop)
    r = c.top_hop // c.hop  # bottom and pitch frames per top frame
    with torch.inference_mode():
        top, bottom = model.encode(x, 2, 3)
        pitch = model.track_pitch(x)
        top, bottom, pitch = (
            top[..., start : start + frames],
            *(lv[..., r * start : r * (start + frames)] for lv in (bottom, pitch)),
        )
        expected = model.decode(top, bottom, pitch, offset=4321).numpy()
        predicted = model.decode(top, bottom, offset=4321).numpy()
    if start == 0:
        assert (pitch == 0).any() and (pitch > 0).any()  # unvoiced and voiced frames
    tol = FULL_SCALE_TOL * max(1.0, np.abs(expected).max())  # untrained: loud
    assert np.abs(onnx.decode([top.numpy(), bottom.numpy(), pitch.numpy()], 4321) - expected).max() < tol
    assert np.abs(onnx.decode([top.numpy(), bottom.numpy()], 4321) - predicted).max() < tol
    assert np.abs(predicted - expected).max() > 100 * tol  # the pitch stream drives the decoder


# ---------------------------------------------------------------- the shipped model


@pytest.fixture(scope="module")
def shipped_pair(shipped_codec, shipped_onnx):
    return shipped_codec.model, OnnxBackend(read_manifest(shipped_onnx))


def _speech(seconds: float, top_hop: int) -> torch.Tensor:
    x = torch.from_numpy(speech_like(seconds, 16000, seed=3))
    return x[: len(x) // top_hop * top_hop][None, None]


def test_shipped_codes_match_torch(shipped_pair) -> None:
    model, onnx = shipped_pair
    x = _speech(2.0, model.config.top_hop)
    with torch.inference_mode():
        expected = model.encode(x, *model.config.codebooks)
    for got, want in zip(onnx.encode(x.numpy(), model.config.codebooks), expected, strict=True):
        assert np.array_equal(got, want.numpy())


def test_shipped_decode_matches_torch(shipped_pair) -> None:
    model, onnx = shipped_pair
    x = _speech(2.0, model.config.top_hop)
    with torch.inference_mode():
        top, bottom = model.encode(x, 4, 3)
        short = [top[..., :2], bottom[..., :8]]  # 0.16 s
        expected_short = model.decode(*short, offset=16000).numpy()
        expected = model.decode(top, bottom, offset=0).numpy()
    got_short = onnx.decode([lv.numpy() for lv in short], 16000)
    assert np.abs(got_short - expected_short).max() < FULL_SCALE_TOL
    got = onnx.decode([top.numpy(), bottom.numpy()], 0)
    snr = 10 * np.log10(np.sum(expected**2) / np.sum((got - expected) ** 2))
    assert snr > 50.0  # the golden tolerance's SNR (torch across CPUs)


def test_shipped_graphs_come_from_the_shipped_weights(shipped_onnx, shipped_codec) -> None:
    """The ONNX files in the package were exported from the safetensors beside them: re-export with
    ``vqcodec export --model vqcodec/pretrained/default.safetensors vqcodec/pretrained/`` when the weights change."""
    from vqcodec.pretrained import default_model_path

    m = read_manifest(shipped_onnx)
    assert m.weights == default_model_path()
    assert m.weights_sha256 == file_sha256(default_model_path()), "re-export the ONNX graphs (see docstring)"
    assert m.model_hash == shipped_codec.hash
    assert m.config == shipped_codec.config


def test_shipped_package_holds_each_weight_once(shipped_onnx) -> None:
    """Issue 25's size bar: the shipped folder (weights, graphs, prior, tables) fits in 32 MiB, the graphs
    holding under 1 MB of numbers of their own."""
    from vqcodec.pretrained import default_model_path

    m = read_manifest(shipped_onnx)
    assert _inline_floats(m.encoder) + _inline_floats(m.decoder) < 1e6
    folder = default_model_path().parent
    assert sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) <= 32 * 2**20


def test_tiny_phase_head_decode_matches_torch(tmp_path) -> None:
    """A head that owns its phase (``phase_terms``) exports: its rotation, with non-zero weights, is the same
    real arithmetic in the graph as the complex product in torch (over a short window, as above)."""
    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    config = dataclasses.replace(TINY_PITCH, name="tinyph", phase_terms=3)
    model = make_model(config, seed=5)
    with torch.no_grad():
        torch.nn.init.normal_(model.decoder.head.phase.weight, std=0.5)
        torch.nn.init.normal_(model.decoder.head.phase.bias, std=0.5)
    save_model(model, tmp_path / "tinyph.safetensors")
    export_file(tmp_path / "tinyph.safetensors", tmp_path)
    model, onnx = _pair(manifest_path(tmp_path, "tinyph"))
    x = _voiced_then_silent(config.top_hop)
    r = config.top_hop // config.hop  # bottom and pitch frames per top frame
    with torch.inference_mode():
        top, bottom = model.encode(x, *config.codebooks)
        top, bottom, pitch = top[..., 4:8], bottom[..., 4 * r : 8 * r], model.track_pitch(x)[..., 4 * r : 8 * r]
        assert (pitch > 0).any()  # voiced frames: the harmonics the phase turns
        expected = model.decode(top, bottom, pitch, offset=99).numpy()
        model.decoder.head.phase.bias.zero_()
        model.decoder.head.phase.weight.zero_()
        unrotated = model.decode(top, bottom, pitch, offset=99).numpy()
    tol = FULL_SCALE_TOL * max(1.0, np.abs(expected).max())
    assert np.abs(onnx.decode([top.numpy(), bottom.numpy(), pitch.numpy()], 99) - expected).max() < tol
    assert np.abs(unrotated - expected).max() > 100 * tol  # the phase is in the graph


def test_tiny_minimum_phase_decode_matches_torch(tmp_path) -> None:
    """A head whose harmonics take their filter's minimum phase (``minimum_phase``) exports: the phase is the same
    matrix product in the graph as in torch, and it is in the graph (the plain head decodes otherwise)."""
    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    config = dataclasses.replace(TINY_PITCH, name="tinymp", minimum_phase=8)
    model = make_model(config, seed=5)
    save_model(model, tmp_path / "tinymp.safetensors")
    export_file(tmp_path / "tinymp.safetensors", tmp_path)
    model, onnx = _pair(manifest_path(tmp_path, "tinymp"))
    x = _voiced_then_silent(config.top_hop)
    r = config.top_hop // config.hop  # bottom and pitch frames per top frame
    plain = make_model(dataclasses.replace(config, minimum_phase=0), seed=5).eval()
    plain.load_state_dict(model.state_dict())
    with torch.inference_mode():
        top, bottom = model.encode(x, *config.codebooks)
        top, bottom, pitch = top[..., 4:8], bottom[..., 4 * r : 8 * r], model.track_pitch(x)[..., 4 * r : 8 * r]
        assert (pitch > 0).any()  # voiced frames: the harmonics the phase turns
        expected = model.decode(top, bottom, pitch, offset=99).numpy()
        unturned = plain.decode(top, bottom, pitch, offset=99).numpy()
    tol = FULL_SCALE_TOL * max(1.0, np.abs(expected).max())
    assert np.abs(onnx.decode([top.numpy(), bottom.numpy(), pitch.numpy()], 99) - expected).max() < tol
    assert np.abs(unturned - expected).max() > 100 * tol  # the phase is in the graph


def test_tiny_rate_told_decoder_matches_torch_at_every_rung(tmp_path) -> None:
    """A decoder told its rate (``rate_embedding``) exports: the graph counts the bottom codebooks it is given
    and adds that count's vectors, as torch does, at every rung."""
    from vqcodec.export.onnx import export_file
    from vqcodec.io.weights import save_model

    config = dataclasses.replace(TINY_PITCH, name="tinyrate", rate_embedding=True)
    model = make_model(config, seed=6)
    with torch.no_grad():
        torch.nn.init.normal_(model.decoder.rate_pre.weight, std=0.5)
        torch.nn.init.normal_(model.decoder.rate_post.weight, std=0.5)
    save_model(model, tmp_path / "tinyrate.safetensors")
    export_file(tmp_path / "tinyrate.safetensors", tmp_path)
    model, onnx = _pair(manifest_path(tmp_path, "tinyrate"))
    x = _voiced_then_silent(config.top_hop)
    r = config.top_hop // config.hop
    decoded = []
    with torch.inference_mode():
        top, bottom = model.encode(x, *config.codebooks)
        top, bottom, pitch = top[..., 4:8], bottom[..., 4 * r : 8 * r], model.track_pitch(x)[..., 4 * r : 8 * r]
        for q in range(1, config.n_bottom + 1):
            expected = model.decode(top, bottom[:, :q], pitch, offset=7).numpy()
            tol = FULL_SCALE_TOL * max(1.0, np.abs(expected).max())
            got = onnx.decode([top.numpy(), bottom[:, :q].numpy(), pitch.numpy()], 7)
            assert np.abs(got - expected).max() < tol
            decoded.append(expected)
    assert np.abs(decoded[0] - decoded[-1]).max() > 100 * tol  # the rate is in the graph
