"""The onnxruntime backend: an exported model's two graphs (:mod:`vqcodec.backends.exported`), loaded once,
numpy in and out. No torch here (the light install has none)."""

from __future__ import annotations

import os
import threading

import numpy as np
import onnxruntime as ort

from vqcodec.backends.exported import Manifest, file_sha256, read_manifest
from vqcodec.backends.fed import fed_values
from vqcodec.errors import UserError
from vqcodec.pitch.quantize import frame_f0

ort.disable_telemetry_events()  # vqcodec/__init__ keeps the device id unwritten; this, the events unsent


class OnnxBackend:
    """The encoder and decoder graphs of ``manifest``, each run on ``threads`` CPU threads; see
    :mod:`vqcodec.backends` for the interface.

    Graphs load on first use: a command that only checks a file never pays for them.
    """

    runtime = "onnx"

    def __init__(self, manifest: Manifest, threads: int = 1):
        self.manifest, self.config, self.threads = manifest, manifest.config, threads
        self.model_hash, self.context_frames = manifest.model_hash, manifest.context_frames
        self._sessions: dict[str, ort.InferenceSession] = {}
        self._fed: dict[str, list] = {}  # what a session was fed: onnxruntime reads it in place, so it is kept
        # a folder's files coded at once share the sessions: the first to need a graph loads it, once
        self._loading = threading.Lock()

    def load(self) -> OnnxBackend:
        """Load both graphs now (a caller timing the coding alone, or checking the files early)."""
        self._session("encoder"), self._session("decoder")
        return self

    def _session(self, which: str) -> ort.InferenceSession:
        if which not in self._sessions:
            with self._loading:
                self._load(which)
        return self._sessions[which]

    def _load(self, which: str) -> None:
        if which in self._sessions:  # another thread loaded it while this one waited
            return
        if not self._sessions:
            check_weights(self.manifest)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Waiting threads sleep instead of spinning: on a core another process is busy on, a spinning
        # thread steals it (measured: 2 spinning threads 3x slower than 1 beside a training job).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # No memory pattern: onnxruntime would plan one buffer for a whole run's tensors per input shape;
        # without it a 60-minute compress peaks at 263 MB instead of 303 MB (benchmarks/light_speed.py).
        options.enable_mem_pattern = False
        self._feed(which, options)
        path = getattr(self.manifest, which)
        self._sessions[which] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _feed(self, which: str, options: ort.SessionOptions) -> None:
        """Hand ``options`` the graph's fed initializers (format 3; :mod:`vqcodec.backends.fed`)."""
        self._fed[which] = feed(self.manifest, which, options)

    def encode(self, x: np.ndarray, codebooks: tuple[int, ...]) -> list[np.ndarray]:
        """``[B, 1, T]`` float32 (T a multiple of ``top_hop``) -> the first ``codebooks`` codes of each level,
        ``[B, n_q, T / hop_level]`` int64. The graph gives every codebook: a residual stack's first codes do not
        depend on the codebooks after them, so a prefix is what coding with fewer gives."""
        levels = self._session("encoder").run(None, {"audio": np.ascontiguousarray(x, dtype=np.float32)})
        return [lv[:, :n] for lv, n in zip(levels, codebooks, strict=True)]

    def decode(self, streams: list[np.ndarray], offset: int) -> np.ndarray:
        """Codes per stream ``[B, q, T_stream]`` (top, bottom, and the pitch ``[B, 1, T_bottom]`` if any), the
        index of the first sample in the whole signal -> ``[B, 1, T]`` float32 audio at the model rate."""
        session = self._session("decoder")
        levels, pitch = streams[:2], streams[2] if len(streams) > 2 else None
        names = [f"{name}_codes" for name in self.config.LEVELS]
        feed = {n: np.ascontiguousarray(lv, dtype=np.int64) for n, lv in zip(names, levels, strict=True)}
        feed["offset"] = np.array(offset, dtype=np.int64)
        wanted = {i.name for i in session.get_inputs()}  # a head without noise has no offset input
        if "pitch_f0" in wanted:
            feed["pitch_f0"] = self._pitch_f0(levels[-1], pitch)
        return session.run(None, {k: v for k, v in feed.items() if k in wanted})[0]

    def _pitch_f0(self, bottom: np.ndarray, pitch: np.ndarray | None) -> np.ndarray:
        """The graph's ``pitch_f0`` ``[B, T_bottom * decoder_upsample]``: the pitch codes' F0 (Hz, 0 unvoiced;
        :func:`vqcodec.pitch.quantize.frame_f0`, as torch's model computes it), or, for codes without a pitch
        stream, -1 everywhere: the graph's sign for "the predicted F0 drives"
        (:func:`vqcodec.export.graphs.pitch_drive`)."""
        c = self.config
        if pitch is None:
            return np.full((bottom.shape[0], bottom.shape[-1] * c.decoder_upsample), -1.0, np.float32)
        return np.ascontiguousarray(frame_f0(pitch[:, 0], c.pitch_bits, c.decoder_upsample), dtype=np.float32)


def feed(manifest: Manifest, which: str, options: ort.SessionOptions) -> list:
    """Hand ``options`` the fed initializers of ``manifest``'s graph ``which`` (none for formats 1 and 2).
    Returns what onnxruntime will read in place: the caller keeps it as long as the session."""
    fed = manifest.fed.get(which)
    if not fed:
        return []
    try:
        arrays = fed_values(manifest.weights, fed)
    except KeyError as e:
        raise UserError(f"{manifest.weights}: {e.args[0]}: export the model again") from None
    values = [ort.OrtValue.ortvalue_from_numpy(a) for a in arrays.values()]
    options.add_external_initializers(list(arrays), values)
    return [arrays, values]


def load_exported(manifest: str | os.PathLike | None = None, threads: int = 1) -> OnnxBackend:
    """The shipped model's graphs (``manifest=None``) or those of an exported model's ``.onnx.json``."""
    from vqcodec.pretrained import default_onnx_path

    return OnnxBackend(read_manifest(default_onnx_path() if manifest is None else manifest), threads)


def check_weights(manifest: Manifest) -> None:
    """Refuse, in one line, graphs whose weights file is missing or not the one they were exported from: the
    graphs read it by byte offsets, and another file would decode garbage."""
    path = manifest.weights
    if path is None:  # format 1: the graphs hold their weights
        return
    if not path.is_file():
        raise UserError(f"{path}: no such weights file (the exported graphs read their weights from it)")
    if file_sha256(path) != manifest.weights_sha256:
        raise UserError(f"{path}: not the weights {manifest.decoder.name} was exported from: export the model again")
