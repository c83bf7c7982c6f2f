"""Levers on the light runtime's graphs, measured against the shipped ones in one run (issue 25).

    python benchmarks/onnx_levers.py ../shared/speech/dev --files 20 --rounds 11

- **int8**: onnxruntime's dynamic quantization of the graphs' MatMuls (int8 weights per output channel,
  reduced range for CPUs without VNNI; activations quantized per call), made from the shipped graphs after
  onnxruntime's basic optimizations fold the float16 weights into float32 ones.
- **daz**: onnxruntime's ``session.set_denormal_as_zero`` (denormal floats flushed to zero).

For each: the encoder's and the decoder's run time on 10 s of the first file, interleaved with the shipped
graphs' runs (1 thread; ratio = shipped / lever, > 1 faster), then PESQ-WB and STOI of the light runtime
on ``--files`` files at each rung of ``--kbps``, decoded from the same codes by the shipped decoder and the
lever's (the encoder stays the shipped one: codes are the format). Needs the export and eval extras.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import soundfile as sf
from _common import list_files

from vqcodec.analysis.metrics import pesq_wb, stoi
from vqcodec.backends.exported import Manifest, read_manifest
from vqcodec.backends.onnxruntime import OnnxBackend
from vqcodec.pipeline.coder import Coder
from vqcodec.pipeline.sources import BlockSource
from vqcodec.pretrained import default_onnx_path


def quantized(manifest: Manifest, which: str, out: Path) -> Path:
    """The shipped graph ``which`` with int8 MatMuls, written into ``out``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out / f"{which}.float.onnx")  # weights folded in, as float32
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


def session(path: Path, daz: bool = False) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if daz:
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def feeds(manifest: Manifest, audio: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Inputs of each graph for ``audio`` [T] (cut to whole top frames): the top rung's codes for the decoder."""
    hop = manifest.config.top_hop
    x = audio[: len(audio) // hop * hop][None, None]  # [1, 1, T]
    top, bottom = session(manifest.encoder).run(None, {"audio": x})
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


def quality(manifest: Manifest, decoders: dict[str, Path], files: list[Path], kbps: float) -> dict[str, tuple]:
    """Mean PESQ-WB and STOI of each decoder on ``files`` at ``kbps``, the same codes for all."""
    codecs = {k: Coder(OnnxBackend(dataclasses.replace(manifest, decoder=p))) for k, p in decoders.items()}
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
    args = p.parse_args(argv)
    ort.set_default_logger_severity(3)
    files = list_files(args.dev, None)[: args.files]
    manifest = read_manifest(default_onnx_path())
    audio, _ = sf.read(str(files[0]), dtype="float32")
    with tempfile.TemporaryDirectory() as tmp:
        int8 = {w: quantized(manifest, w, Path(tmp)) for w in ("encoder", "decoder")}
        inputs = feeds(manifest, audio[: 10 * manifest.config.sample_rate])
        print("| graph | shipped ms | int8 | daz |\n|---|---:|---:|---:|")
        for w in ("encoder", "decoder"):
            path = getattr(manifest, w)
            s = {"shipped": session(path), "int8": session(int8[w]), "daz": session(path, daz=True)}
            t = speed(s, inputs[w], args.rounds)
            print(
                f"| {w} | {t['shipped'] * 1e3:.0f} | {t['shipped'] / t['int8']:.2f}x | {t['shipped'] / t['daz']:.2f}x |"
            )
        print(f"\n| kbps | decoder | PESQ-WB | STOI | worst file's PESQ-WB change |  ({len(files)} files)")
        print("|---:|---|---:|---:|---:|")
        for kbps in args.kbps:
            for k, (pq, st, worst) in quality(
                manifest, {"shipped": manifest.decoder, "int8": int8["decoder"]}, files, kbps
            ).items():
                print(f"| {kbps} | {k} | {pq:.3f} | {st:.4f} | {worst:+.3f} |")


if __name__ == "__main__":
    main()
