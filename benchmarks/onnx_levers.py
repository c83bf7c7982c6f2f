"""Levers on the light runtime's graphs, measured against the shipped ones in one run (issue 25).

    python benchmarks/onnx_levers.py ../shared/speech/dev --files 20 --rounds 11 [--manifest M.onnx.json]

- **int8**: onnxruntime's dynamic quantization of the graphs' MatMuls (int8 weights per output channel,
  reduced range for CPUs without VNNI; activations quantized per call), made from the graphs with their fed
  weights folded in by onnxruntime's basic optimizations.
- **daz**: onnxruntime's ``session.set_denormal_as_zero`` (denormal floats flushed to zero).
- **planar**: every 1-D convolution run as a 2-D one over ``[B, C, 1, T]`` (Unsqueeze before, Squeeze after),
  which lets onnxruntime's NCHWc layout transformer take the convolutions; the weights are fed as shipped.

For each: the encoder's and the decoder's run time on 10 s of the first file, interleaved with the shipped
graphs' runs (1 thread; ratio = shipped / lever, > 1 faster), each session's load time (median of 3), then
PESQ-WB and STOI of the light runtime on ``--files`` files at each rung of ``--kbps``, decoded from the same
codes by the shipped decoder and the lever's (the encoder stays the shipped one: codes are the format).
``--manifest``: another exported model's graphs (a candidate) instead of the shipped ones. Needs the export
and eval extras.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort
import soundfile as sf
from _common import list_files

from vqcodec.analysis.metrics import pesq_wb, stoi
from vqcodec.backends.exported import Manifest, read_manifest
from vqcodec.backends.onnxruntime import OnnxBackend, feed
from vqcodec.pipeline.coder import Coder
from vqcodec.pipeline.sources import BlockSource
from vqcodec.pretrained import default_onnx_path

_ALIVE: list = []


def fed_options(manifest: Manifest, which: str, daz: bool = False) -> ort.SessionOptions:
    """One thread, no spinning, and the graph ``which``'s weights fed as the light runtime feeds them."""
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if daz:
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
    _ALIVE.append(feed(manifest, which, options))  # onnxruntime reads them in place: they outlive the session
    return options


def quantized(manifest: Manifest, which: str, out: Path) -> Path:
    """The graph ``which`` with int8 MatMuls (its weights inside), written into ``out``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    options = fed_options(manifest, which)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out / f"{which}.float.onnx")  # fed weights folded in, as float32
    ort.InferenceSession(str(getattr(manifest, which)), options, providers=["CPUExecutionProvider"])
    target = out / f"{which}.int8.onnx"
    quantize_dynamic(
        out / f"{which}.float.onnx",
        target,
        op_types_to_quantize=["MatMul"],
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
    )
    return target


def planar(manifest: Manifest, which: str, out: Path) -> Path:
    """The graph ``which`` with every 1-D Conv a 2-D one over ``[B, C, 1, T]``, written into ``out``."""
    import onnx
    from onnx import helper

    model = onnx.load(str(getattr(manifest, which)), load_external_data=False)
    nodes = []
    for i, node in enumerate(model.graph.node):
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type != "Conv" or len(attrs.get("kernel_shape", ())) != 1:
            nodes.append(node)
            continue
        p, (before, after) = f"/planar{i}", attrs.get("pads", [0, 0])
        axis = helper.make_tensor(p + "_axis", onnx.TensorProto.INT64, [1], [2])
        nodes += [
            helper.make_node("Constant", [], [axis.name], value=axis),
            helper.make_node("Unsqueeze", [node.input[0], axis.name], [p + "_x"]),
            helper.make_node("Unsqueeze", [node.input[1], axis.name], [p + "_w"]),
            helper.make_node(
                "Conv",
                [p + "_x", p + "_w", *node.input[2:]],
                [p + "_y"],
                name=node.name,
                kernel_shape=[1, attrs["kernel_shape"][0]],
                strides=[1, attrs.get("strides", [1])[0]],
                dilations=[1, attrs.get("dilations", [1])[0]],
                pads=[0, before, 0, after],
                group=attrs.get("group", 1),
            ),
            helper.make_node("Squeeze", [p + "_y", axis.name], [node.output[0]]),
        ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    target = out / f"{which}.planar.onnx"
    onnx.save(model, str(target))
    return target


def session(manifest: Manifest, which: str, path: Path, fed: bool = True, daz: bool = False) -> ort.InferenceSession:
    options = fed_options(manifest if fed else dataclasses.replace(manifest, fed={}), which, daz)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def session_makers(manifest: Manifest, which: str, levers: dict[str, Path]) -> dict[str, Callable]:
    """A maker of each session to compare for the graph ``which``: the shipped one and each lever's."""
    path = getattr(manifest, which)
    return {
        "shipped": partial(session, manifest, which, path),
        "int8": partial(session, manifest, which, levers["int8"], fed=False),
        "daz": partial(session, manifest, which, path, daz=True),
        "planar": partial(session, manifest, which, levers["planar"]),
    }


def load_seconds(make, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        make()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def feeds(manifest: Manifest, audio: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Inputs of each graph for ``audio`` [T] (cut to whole top frames): the top rung's codes for the decoder."""
    hop = manifest.config.top_hop
    x = audio[: len(audio) // hop * hop][None, None]  # [1, 1, T]
    top, bottom = session(manifest, "encoder", manifest.encoder).run(None, {"audio": x})
    f0 = np.full((1, bottom.shape[-1] * manifest.config.decoder_upsample), -1.0, np.float32)
    decoder = {"top_codes": top, "bottom_codes": bottom, "offset": np.array(0, np.int64), "pitch_f0": f0}
    return {"encoder": {"audio": x}, "decoder": decoder}


def speed(sessions: dict[str, ort.InferenceSession], feed: dict, rounds: int) -> dict[str, float]:
    """Median seconds per run of each session, in rotating order (a loaded machine shifts them alike)."""
    times = {k: [] for k in sessions}
    keys = list(sessions)
    for r in range(rounds):
        for k in keys[r % len(keys) :] + keys[: r % len(keys)]:
            start = time.perf_counter()
            sessions[k].run(None, feed)
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def quality(manifest: Manifest, decoders: dict[str, Manifest], files: list[Path], kbps: float) -> dict[str, tuple]:
    """Mean PESQ-WB and STOI of each decoder (a manifest naming it) on ``files`` at ``kbps``, the same codes."""
    codecs = {k: Coder(OnnxBackend(m)) for k, m in decoders.items()}
    scores = {k: ([], []) for k in codecs}
    for f in files:
        x, sr = sf.read(str(f), dtype="float32", always_2d=True)
        c = codecs["shipped"].encode_sources([BlockSource(iter([x]), sr, len(x), 1)], kbps)[0]
        for k, codec in codecs.items():
            y = np.concatenate(list(codec.decode_blocks(c)))[:, 0]
            scores[k][0].append(pesq_wb(x[:, 0], y))
            scores[k][1].append(stoi(x[:, 0], y))
    return {k: (np.mean(p), np.mean(s), min(np.subtract(p, scores["shipped"][0]))) for k, (p, s) in scores.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dev", help="folder of 16 kHz speech files (.flac or .wav)")
    p.add_argument("--files", type=int, default=20)
    p.add_argument("--rounds", type=int, default=11)
    p.add_argument("--kbps", type=float, nargs="+", default=[3.0, 6.35])
    p.add_argument("--manifest", type=Path, default=None, help="an exported model's .onnx.json (default: shipped)")
    args = p.parse_args(argv)
    ort.set_default_logger_severity(3)
    files = list_files(args.dev, None)[: args.files]
    manifest = read_manifest(args.manifest or default_onnx_path())
    audio, _ = sf.read(str(files[0]), dtype="float32")
    with tempfile.TemporaryDirectory() as tmp:
        levers = {
            w: {"int8": quantized(manifest, w, Path(tmp)), "planar": planar(manifest, w, Path(tmp))}
            for w in ("encoder", "decoder")
        }
        inputs = feeds(manifest, audio[: 10 * manifest.config.sample_rate])
        print("| graph | shipped ms (load s) | int8 (load s) | daz | planar (load s) |\n|---|---:|---:|---:|---:|")
        for w in ("encoder", "decoder"):
            makers = session_makers(manifest, w, levers[w])
            load = {k: load_seconds(make) for k, make in makers.items()}
            t = speed({k: make() for k, make in makers.items()}, inputs[w], args.rounds)
            base = t["shipped"]
            print(
                f"| {w} | {base * 1e3:.0f} ({load['shipped']:.3f}) | {base / t['int8']:.2f}x ({load['int8']:.3f}) "
                f"| {base / t['daz']:.2f}x | {base / t['planar']:.2f}x ({load['planar']:.3f}) |"
            )
        decoders = {
            "shipped": manifest,
            "int8": dataclasses.replace(
                manifest, decoder=levers["decoder"]["int8"], fed={**manifest.fed, "decoder": {}}
            ),
            "planar": dataclasses.replace(manifest, decoder=levers["decoder"]["planar"]),
        }
        print(f"\n| kbps | decoder | PESQ-WB | STOI | worst file's PESQ-WB change |  ({len(files)} files)")
        print("|---:|---|---:|---:|---:|")
        for kbps in args.kbps:
            for k, (pq, st, worst) in quality(manifest, decoders, files, kbps).items():
                print(f"| {kbps} | {k} | {pq:.3f} | {st:.4f} | {worst:+.3f} |")


if __name__ == "__main__":
    main()
