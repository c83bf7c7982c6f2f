"""``vqcodec info``'s facts: what a .vqc file holds, its real bitrate and entropy coding, and, when the model
that made it is at hand, every check ``decompress`` makes. Loads no graphs (an exported model's identity is
read from its manifest), and no torch unless a ``.safetensors`` model is named."""

from __future__ import annotations

import dataclasses

from vqcodec import backends, entropy, pretrained
from vqcodec.errors import UserError
from vqcodec.io import container
from vqcodec.nn.config import ModelConfig
from vqcodec.pipeline.checks import check_codes
from vqcodec.pipeline.rates import ladder
from vqcodec.pipeline.streams import read_container, read_source


def info(path: str, model: str | None = None) -> dict:
    """Header facts of a .vqc file, with bytes per level and the real bitrate.

    The file gets every check ``decompress`` makes when the loaded model (``model``; by default the shipped
    model that made it, else the shipped default) made it; otherwise the model's checks (frames against
    samples, code values) are skipped, and ``checks`` says so.
    """
    data = read_source(path)  # a file, or stdin for "-"
    c = read_container(path, data)  # checked once (levels, limits), with one-line errors; no torch
    if c.num_samples < 1:
        raise UserError(f"{path}: holds no audio")
    checks = _model_checks(path, c, model)
    size, duration = len(data), c.num_samples / c.sample_rate
    levels = {
        name: {
            "codebooks": int(lv.codes.shape[1]),
            "frames": int(lv.codes.shape[2]),
            "bits": lv.bits,
            "bytes": lv.codes.size * lv.bits / 8,
        }
        for name, lv in zip((*ModelConfig.LEVELS, "pitch"), c.levels, strict=False)
    }
    return {
        "file": str(path),
        "format_version": container.ENTROPY_VERSION if c.tables_hash else container.FORMAT_VERSION,
        "model": c.model_name,
        "model_hash": c.model_hash.hex(),
        "sample_rate": c.sample_rate,
        "channels": c.channels,
        "samples": c.num_samples,
        "duration_s": round(duration, 4),
        "bytes": size,
        "kbps": round(size * 8 / duration / 1000, 4),
        "checks": checks,
        **_entropy_facts(c, size, levels),
        "levels": levels,
    }


def _entropy_facts(c: container.Container, size: int, levels: dict) -> dict:
    """Whether the stream is entropy-coded, the size of its plain (format 1) twin and the saving;
    ``levels`` gains ``bits_per_code``: under the stream's tables, or the plain width for a plain stream."""
    bits = entropy.bits_per_code(c) if c.tables_hash else None
    plain = len(container.write(dataclasses.replace(c, tables_hash=None)))  # its format-1 twin
    for index, lv in enumerate(levels.values()):
        lv["bits_per_code"] = round(bits[index], 3) if bits else lv["bits"]
    return {
        "entropy_coded": c.tables_hash is not None,
        "tables_hash": c.tables_hash.hex() if c.tables_hash else None,
        "plain_bytes": plain,
        "saving": f"{100 * (1 - size / plain):.1f} %",
    }


def _model_checks(path: str, c: container.Container, model: str | None) -> str:
    """Run decompress's model checks on the container ``c`` if the model (``--model``: a .safetensors file,
    loaded by torch, an exported .onnx.json or a shipped model's name, read without loading its graphs; by
    default the shipped model that made it) made it; say what was checked."""
    writer = pretrained.writer(c.model_name, c.model_hash) if model is None else None
    config, model_hash = backends.identity(writer.manifest if writer else model)
    if (c.model_name, c.model_hash) != (config.name, model_hash):
        return (
            f"header and limits only; frames and code values skipped: made by model {c.model_name} "
            f"({c.model_hash.hex()}), not the loaded {config.name} ({model_hash.hex()}) (use --model)"
        )
    try:
        levels = [lv.codes for lv in c.levels]
        check_codes(config, model_hash, levels, (c.model_name, c.model_hash), c.sample_rate, c.num_samples)
    except ValueError as e:
        raise UserError(f"{path}: {e}") from None
    return "all that decompress checks"


def shipped_models() -> list[dict]:
    """``vqcodec info`` without a file: the models shipped in the package, the default first, each with the
    names that pick it (``--model``), its rate, its rungs and the weights hash its .vqc files carry."""
    return [
        {
            "name": m.name,
            "default": m.is_default,
            "stem": m.stem,
            "sample_rate": m.config.sample_rate,
            "kbps": [r.kbps for r in ladder(m.config)],
            "model_hash": m.model_hash.hex(),
            "files": [str(m.weights), str(m.manifest)],
        }
        for m in pretrained.shipped()
    ]
