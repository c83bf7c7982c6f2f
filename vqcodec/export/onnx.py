"""A trained model -> its two ONNX graphs and their manifest (:mod:`vqcodec.backends.exported`).

    vqcodec export --model vqcodec/pretrained/default.safetensors vqcodec/pretrained/

re-derives the shipped graphs from the shipped weights. The graphs hold no copy of the weights: the light
runtime feeds them from the safetensors file beside them (:mod:`vqcodec.export.link`; the file is copied there
when the model comes from another folder), and they compute their DFT bases (:mod:`vqcodec.export.bases`). The
manifest records which file tensor feeds each graph initializer, and the weights' SHA-256, which the light
runtime checks before it loads the graphs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch

from vqcodec.backends.exported import Manifest, file_sha256, manifest_path
from vqcodec.export import bases, link
from vqcodec.export.graphs import DecoderGraph, EncoderGraph
from vqcodec.io.atomic import atomic_path, write_bytes
from vqcodec.io.weights import load_model, weights_hash
from vqcodec.nn.model import VQCodecModel
from vqcodec.nn.receptive_field import context_frames

OPSET = 18  # BitwiseXor (the harmonic head's hashed noise) needs 18


def export_file(model_path: str | os.PathLike, out_dir: str | os.PathLike) -> Manifest:
    """Export the model file ``model_path`` (safetensors) into ``out_dir`` (made if missing), named after the
    file's stem: ``STEM.encoder.onnx``, ``STEM.decoder.onnx``, ``STEM.onnx.json`` and, unless it is there,
    a copy of the model file as ``STEM.safetensors`` (each file atomically)."""
    model_path, out_dir = Path(model_path), Path(out_dir)
    model = load_model(model_path).eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = _beside(model_path, out_dir)
    m = Manifest(
        model.config,
        weights_hash(model),
        file_sha256(weights),
        out_dir / f"{model_path.stem}.encoder.onnx",
        out_dir / f"{model_path.stem}.decoder.onnx",
        OPSET,
        context_frames(model.config),
        weights,
    )
    stored = link.Weights.of(weights)
    with torch.no_grad():
        fed = {
            "encoder": _export_encoder(model, m.encoder, stored),
            "decoder": _export_decoder(model, m.decoder, stored),
        }
    m = dataclasses.replace(m, fed=fed)
    write_bytes(manifest_path(out_dir, model_path.stem), m.to_json().encode())
    return m


def _beside(model_path: Path, out_dir: Path) -> Path:
    """The model file in ``out_dir``, where the graphs will read their weights: copied there if elsewhere."""
    target = out_dir / model_path.name
    if not (target.exists() and target.samefile(model_path)):
        with atomic_path(target) as tmp:
            shutil.copyfile(model_path, tmp)
    return target


def _export_encoder(model: VQCodecModel, path: Path, weights: link.Weights) -> dict[str, tuple[str, bool]]:
    audio = torch.zeros(2, 1, 4 * model.config.top_hop)  # [B, 1, T]; any length of whole top frames
    names = [f"{level}_codes" for level in model.config.LEVELS]
    axes = {"audio": {0: "batch", 2: "samples"}} | {n: {0: "batch", 2: f"{n}_frames"} for n in names}
    return _trace(EncoderGraph(model), (audio,), path, ["audio"], names, axes, weights)


def _export_decoder(model: VQCodecModel, path: Path, weights: link.Weights) -> dict[str, tuple[str, bool]]:
    """Inputs: each level's codes and ``offset``, then ``pitch_f0`` for a model with a pitch stream."""
    c = model.config
    frames = [4 * c.top_hop // hop for hop in c.level_hops]
    codes = tuple(torch.zeros(2, n, f, dtype=torch.int64) for n, f in zip(c.codebooks, frames, strict=True))
    names = [f"{level}_codes" for level in c.LEVELS]
    axes = {n: {0: "batch", 1: f"{n}_books", 2: f"{n}_frames"} for n in names} | {"audio": {0: "batch", 2: "samples"}}
    args, inputs = (*codes, torch.tensor(0, dtype=torch.int64)), [*names, "offset"]
    if c.pitch_bits:
        f0 = torch.zeros(2, frames[-1] * c.decoder_upsample)  # [B, N] on the decoder's frames
        args, inputs = (*args, f0), [*inputs, "pitch_f0"]
        axes["pitch_f0"] = {0: "batch", 1: "pitch_frames"}
    return _trace(DecoderGraph(model), args, path, inputs, ["audio"], axes, weights)


def _trace(
    graph: torch.nn.Module, args: tuple, path: Path, inputs: list, outputs: list, axes: dict, weights: link.Weights
) -> dict[str, tuple[str, bool]]:
    """The legacy (TorchScript) exporter: it handles the codec's loops and int64 hashing without fuss. Returns
    the graph's fed initializers (:func:`vqcodec.export.link.link`)."""
    with atomic_path(path) as tmp, warnings.catch_warnings(), _symbolics():
        warnings.simplefilter("ignore")  # tracer notes on Python-side shape checks; the tests check the graphs
        torch.onnx.export(
            graph.eval(),
            args,
            tmp,
            dynamo=False,
            opset_version=OPSET,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
        )
        return _store_once(tmp, weights)


_XOR_OPS = ("aten::__xor_", "aten::bitwise_xor")


@contextlib.contextmanager
def _symbolics() -> Iterator[None]:
    """XOR of integers (the hashed noise's mixing), which the legacy exporter refuses and ONNX 18 has as
    BitwiseXor: registered for the export only, and removed after."""

    def xor(g, a, b):
        return g.op("BitwiseXor", a, b)

    for name in _XOR_OPS:
        torch.onnx.register_custom_op_symbolic(name, xor, OPSET)
    try:
        yield
    finally:
        for name in _XOR_OPS:
            torch.onnx.unregister_custom_op_symbolic(name, OPSET)


_MIN_HALF = 1024  # smaller tensors are not worth a Cast node


def _store_once(path: str, weights: link.Weights) -> dict[str, tuple[str, bool]]:
    """Rewrite the graph at ``path`` to hold each weight once: DFT bases computed, weights fed from
    ``weights`` at load (returned: what the manifest records), and any other float32 constant that float16
    holds exactly stored as float16 (the whitening statistics, the mel filters and the like stay float32)."""
    import onnx

    model = onnx.load(path)
    bases.derive(model)
    fed = link.link(model, weights)
    _store_half(model)
    onnx.save(model, path)
    return fed


def _store_half(model) -> None:
    """Store every float32 initializer that float16 holds exactly as float16, cast back to float32 in the
    graph; onnxruntime folds the casts when it loads the graph."""
    import onnx
    from onnx import helper, numpy_helper

    graph, casts = model.graph, []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or init.data_location == onnx.TensorProto.EXTERNAL:
            continue
        values = numpy_helper.to_array(init)
        if values.size < _MIN_HALF or not (values.astype("float16").astype("float32") == values).all():
            continue
        half = numpy_helper.from_array(values.astype("float16"), init.name + "_fp16")
        init.CopyFrom(half)
        casts.append(
            helper.make_node("Cast", [half.name], [half.name.removesuffix("_fp16")], to=onnx.TensorProto.FLOAT)
        )
    link.prepend(graph, casts)


def add_arguments(p) -> None:
    """``vqcodec export [--model M] OUT_DIR``."""
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder for STEM.encoder.onnx, STEM.decoder.onnx, STEM.onnx.json")
    p.add_argument("-m", "--model", help="model file, or a shipped model's name (default: the shipped model)")
    p.add_argument("-q", "--quiet", action="store_true")


def main_args(args) -> None:
    from vqcodec.pretrained import default_model_path, model_file

    model = model_file(args.model, "torch")
    m = export_file(default_model_path() if model is None else model, args.out_dir)
    if not args.quiet:
        print(f"{m.encoder}, {m.decoder}: model {m.config.name} ({m.model_hash.hex()}), opset {m.opset}")
