"""What decoding checks before it decodes, on every backend (no torch here):
codes made by another model, or that this model could not have made, are refused (a crafted or damaged
stream must not decide how much audio we write)."""

from __future__ import annotations

from collections.abc import Sequence

from vqcodec.errors import UserError
from vqcodec.io.limits import check_audio
from vqcodec.nn.config import ModelConfig
from vqcodec.pipeline.windows import resampled_length


def check_codes(
    config: ModelConfig,
    model_hash: bytes,
    levels: Sequence,
    made_by: tuple[str, bytes],
    sample_rate: int,
    num_samples: int,
) -> None:
    """Raise :class:`UserError` unless the model (``config``, ``model_hash``) can decode these codes.

    Args:
        levels: ``[C, n_q, T_level]`` integer arrays (numpy or torch), coarse to fine, then the pitch codes
            ``[C, 1, T_bottom]`` if there are any (optional for a model with a pitch stream).
        made_by: (name, hash) of the model the stream says made it.
        sample_rate, num_samples: of the audio the stream describes.
    """
    if made_by != (config.name, model_hash):
        raise UserError(
            f"made by model {made_by[0]!r} ({made_by[1].hex()}), but the loaded "
            f"model is {config.name!r} ({model_hash.hex()}); decode with the encoder's model"
        )
    streams = config.streams
    if len(levels) not in (len(config.LEVELS), len(streams)):
        raise UserError(f"codes hold {len(levels)} streams, this model's files {len(streams)}")
    fits = zip(levels, streams[: len(levels)], strict=True)
    if not all(
        1 <= lv.shape[1] <= s.codebooks and lv.shape[-1] * s.hop == levels[0].shape[-1] * config.top_hop
        for lv, s in fits
    ):
        raise UserError("codes do not fit this model's levels")
    if num_samples < 1:
        raise UserError("codes describe no audio")
    check_audio(sample_rate, levels[0].shape[0], num_samples)  # before any size is computed
    frames = -(-resampled_length(num_samples, sample_rate, config.sample_rate) // config.top_hop)
    if levels[0].shape[-1] != frames:
        raise UserError(f"{levels[0].shape[-1]} top frames cannot describe {num_samples} samples")
    for level, stream in zip(levels, streams[: len(levels)], strict=True):
        if 0 not in level.shape and (int(level.min()) < 0 or int(level.max()) >= stream.size):
            raise UserError(f"{stream.name} code values outside this model's range (0..{stream.size - 1})")
