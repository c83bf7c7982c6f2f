"""Regenerate the golden files: only when the format version or the shipped model changes on purpose.

    python tests/golden/make.py

Writes ``speech.vqc`` (samples/speech.wav compressed by the shipped model at 1.5 kbps) and
``expected.json`` (its model hash, size, and the SHA-256 of its decode as 16-bit PCM).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

import vqcodec
from vqcodec import container
from vqcodec.audio_io import read_audio
from vqcodec.compress import compress, decompress

HERE = Path(__file__).parent
SAMPLE = HERE.parent.parent / "samples" / "speech.wav"
KBPS = 1.5


def pcm_sha256(wav) -> str:
    """SHA-256 of audio [C, T] as interleaved little-endian int16, as a WAV writer would round it."""
    pcm = np.round(np.clip(np.asarray(wav, dtype=np.float64), -1, 1) * 32767).astype("<i2")
    return hashlib.sha256(pcm.T.tobytes()).hexdigest()


def main() -> None:
    codec = vqcodec.load()
    wav, sr = read_audio(SAMPLE)
    data = compress(codec, wav, sr, KBPS)
    (HERE / "speech.vqc").write_bytes(data)
    decoded, _ = decompress(codec, data)
    expected = {"format_version": container.FORMAT_VERSION, "model_hash": codec.hash.hex(), "kbps": KBPS,
                "bytes": len(data), "vqc_sha256": hashlib.sha256(data).hexdigest(),
                "decoded_pcm_sha256": pcm_sha256(decoded.numpy())}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(json.dumps(expected, indent=2))


if __name__ == "__main__":
    main()
