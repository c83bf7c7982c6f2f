"""What an input may ask of us: documented limits, checked before anything is allocated.

A header (of a .vqc stream or of an audio file) and an array passed to the API state a sample rate, a
channel count and a length; all three decide how much memory and disk we spend. They are checked here
first, so a few crafted bytes are refused in one line instead of allocating gigabytes:

- sample rate: ``MIN_SAMPLE_RATE`` .. ``MAX_SAMPLE_RATE`` Hz (1 Hz .. 384 kHz);
- channels: 1 .. ``MAX_CHANNELS`` (255, what a .vqc header holds);
- length: 1 sample .. ``MAX_SECONDS`` (24 hours) per channel.

Decoding restores the original rate from codes at the model's rate (16 kHz for the shipped model), so
it writes at most ``MAX_SAMPLE_RATE / model rate`` (24) output samples per sample the codes describe;
the codec checks that a stream's top frames are exactly those its claimed length needs.

No torch here: ``vqcodec info`` checks headers without it.
"""

from __future__ import annotations

from vqcodec.errors import UserError

MIN_SAMPLE_RATE = 1
MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 255
MAX_SECONDS = 24 * 3600


def check_audio(sample_rate: int, channels: int, num_samples: int) -> None:
    """Raise UserError (a ValueError; one line, no file name) unless the three fit the documented limits."""
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise UserError(
            f"sample rate {sample_rate} Hz is outside the supported "
            f"{MIN_SAMPLE_RATE} Hz .. {MAX_SAMPLE_RATE // 1000} kHz"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise UserError(f"{channels} channels: at most {MAX_CHANNELS} are supported")
    if num_samples < 1:
        raise UserError("holds no samples")
    if num_samples > MAX_SECONDS * sample_rate:
        raise UserError(
            f"{num_samples} samples at {sample_rate} Hz is longer than the supported {MAX_SECONDS // 3600} hours"
        )
