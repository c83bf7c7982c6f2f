"""Model configuration: the one object that travels with the weights."""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from vqcodec.errors import ConfigError

CONTENTS = ("speech", "general")
HEADS = ("istft", "harmonic")


@dataclass(frozen=True)
class Stream:
    """One stream of integer codes a model's files carry: a quantizer level, or the pitch.

    Attributes:
        name: ``top``, ``bottom`` or ``pitch``.
        codebooks: codes per frame.
        hop: samples per frame.
        bits: bits per code in a plain stream; codes are in ``[0, size)``.
        size: number of distinct codes.
    """

    name: str
    codebooks: int
    hop: int
    bits: int
    size: int


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of a :class:`vqcodec.nn.model.VQCodecModel`; field names equal constructor arguments.

    The bottom level runs at ``sample_rate / prod(strides)`` frames per second, the top level
    ``prod(top_strides)`` times slower. The decoder works at ``decoder_upsample`` times the bottom rate and
    ends in an inverse STFT whose hop is one decoder frame. ``head`` names how frames become samples:
    ``"istft"`` (magnitude and phase per frame) or ``"harmonic"`` (F0, voicing and filters shaping a
    harmonic-plus-noise source); model files written before the field existed load as ``"istft"``.

    Quantizers: ``top_dropout`` / ``bottom_dropout`` are each level's quantizer-dropout probability (a
    training item keeps a random prefix of the codebooks, so every prefix is a usable rate);
    ``usage_decay``, ``restart_every`` and ``restart_threshold`` govern dead-code restarts (see
    :class:`vqcodec.nn.quantizer.FactorizedVQ`). ``pitch_bits`` > 0 (a source-filter head only) gives the
    model a pitch stream: the tracked F0, one ``pitch_bits``-bit code per bottom frame, is sent beside the
    codes and drives the head's source (:mod:`vqcodec.pitch`); 0, no stream. ``output_gain_db`` is a gain
    applied to decoded audio (:meth:`VQCodecModel.decode`, not the training pass), measured after training
    so that decoded speech is as loud as its input (:mod:`vqcodec.train.calibrate`). ``phase_terms`` > 0 (a
    source-filter head only) lets the head set its harmonics' phase (:class:`vqcodec.nn.heads.HarmonicHead`);
    0, they keep the source's. ``minimum_phase`` > 0 (a source-filter head only, not with ``phase_terms``) gives
    the harmonic filter the minimum phase of its log magnitude smoothed to that many cepstral bins, as Codec2's
    decoder phases its harmonics; 0, the source's. ``rate_embedding``: the decoder is told how many bottom
    codebooks it was given (:class:`vqcodec.nn.decoder.Decoder`, ``rates``); False, it infers the rate from the codes.
    ``residual_readout``: each codebook after a level's first codes what a linear readout of the ones before
    it leaves of the latent (:class:`vqcodec.nn.quantizer.ResidualVQ`); False, every codebook searches a
    projection of the same latent, as the models trained before the field did. ``readout_from``, per level
    (top, bottom), the first codebook (0-based) given what the readouts leave, the ones before it keeping
    their codes; empty, every level's second. ``bypass``: the share of training items given every codebook's
    lookup vector unquantized at both levels (:class:`vqcodec.nn.quantizer.ResidualVQ`, "Bypass"; it changes
    nothing outside training); 0, every item is given its codes. ``encoder_mels`` > 0 adds
    that many log mel bands of each frame (2 hops of audio) to the encoder's latents
    (:class:`vqcodec.nn.encoder.SpectralInput`); 0, the waveform alone. ``content`` says what the model is
    made for and measured on: ``"speech"`` (PESQ-WB, STOI, F0: :mod:`vqcodec.analysis.quality`) or
    ``"general"``, music and sounds (:mod:`vqcodec.analysis.general`); it changes no weight. Every field has a
    default, so files written before a field existed still load, with the value they were trained with.
    """

    # The hierarchy's levels, coarse to fine: what codes, containers and the codec iterate over.
    LEVELS: ClassVar[tuple[str, ...]] = ("top", "bottom")

    name: str = "sp16k"
    sample_rate: int = 16000
    encoder_channels: tuple[int, ...] = (64, 128, 256)
    strides: tuple[int, ...] = (8, 8, 5)
    top_strides: tuple[int, ...] = (2, 2)
    latent_dim: int = 256
    encoder_blocks: int = 1
    encoder_mels: int = 0
    top_blocks: int = 1
    codebook_size: int = 1024
    codebook_dim: int = 8
    n_top: int = 4
    n_bottom: int = 11
    decoder_dim: int = 256
    decoder_blocks: int = 6
    decoder_upsample: int = 2
    head: str = "istft"
    top_dropout: float = 0.0
    bottom_dropout: float = 0.5
    usage_decay: float = 0.99
    restart_every: int = 50
    restart_threshold: float = 0.05
    residual_fit: float = 0.0
    residual_readout: bool = False
    readout_from: tuple[int, ...] = ()
    bypass: float = 0.0
    pitch_bits: int = 0
    phase_terms: int = 0
    minimum_phase: int = 0
    rate_embedding: bool = False
    output_gain_db: float = 0.0
    content: str = "speech"

    @property
    def hop(self) -> int:
        """Samples per bottom frame."""
        return math.prod(self.strides)

    @property
    def top_hop(self) -> int:
        """Samples per top frame; inputs are padded to a multiple of it."""
        return self.hop * math.prod(self.top_strides)

    @property
    def codebooks(self) -> tuple[int, ...]:
        """Codebooks per level, in the order of ``LEVELS``."""
        return (self.n_top, self.n_bottom)

    @property
    def level_hops(self) -> tuple[int, ...]:
        """Samples per frame of each level, in the order of ``LEVELS``."""
        return (self.top_hop, self.hop)

    @property
    def bits(self) -> int:
        """Bits per code: ceil(log2 K)."""
        return max(1, math.ceil(math.log2(self.codebook_size)))

    @property
    def output_gain(self) -> float:
        """``output_gain_db`` as a factor."""
        return 10 ** (self.output_gain_db / 20)

    @property
    def streams(self) -> tuple[Stream, ...]:
        """The code streams of this model's files: each level of ``LEVELS``, then the pitch if it has one."""
        levels = tuple(
            Stream(name, n, hop, self.bits, self.codebook_size)
            for name, n, hop in zip(self.LEVELS, self.codebooks, self.level_hops, strict=True)
        )
        pitch = (Stream("pitch", 1, self.hop, self.pitch_bits, 2**self.pitch_bits),) if self.pitch_bits else ()
        return levels + pitch

    def bitrate(self, n_top: int, n_bottom: int) -> float:
        """Nominal bits per second of one channel keeping ``n_top`` and ``n_bottom`` codebooks (and the
        pitch stream, if the model has one)."""
        frames = sum(n * self.sample_rate / hop for n, hop in zip((n_top, n_bottom), self.level_hops, strict=True))
        return frames * self.bits + self.pitch_bits * self.sample_rate / self.hop

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        """The config a JSON object describes; fields it lacks take their defaults (files written before a
        field existed). Raises :class:`ConfigError` naming an unknown field or a bad value."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"model config is not JSON ({e})") from None
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: Any) -> "ModelConfig":
        """Like :meth:`from_json`, from a decoded JSON object (a recipe's ``model`` block)."""
        config = cls(**checked_fields(cls, raw, "model config"))
        config.check()
        return config

    def check(self) -> None:
        """Raise :class:`ConfigError`, naming the field, for values no model can be built from."""
        for name in (
            "sample_rate",
            "latent_dim",
            "encoder_blocks",
            "codebook_dim",
            "n_top",
            "n_bottom",
            "decoder_dim",
            "decoder_upsample",
        ):
            _require(getattr(self, name) >= 1, name, "must be at least 1")
        for name in ("top_blocks", "decoder_blocks", "restart_every", "encoder_mels"):
            _require(getattr(self, name) >= 0, name, "must not be negative")
        for name in ("encoder_channels", "strides", "top_strides"):
            _require(
                len(getattr(self, name)) >= 1 and min(getattr(self, name)) >= 1,
                name,
                "must hold at least one value, each at least 1",
            )
        _require(
            len(self.encoder_channels) == len(self.strides),
            "encoder_channels",
            f"must have one width per stride ({len(self.strides)})",
        )
        _require(self.codebook_size >= 2, "codebook_size", "must be at least 2")
        _require(self.head in HEADS, "head", f"must be one of {', '.join(map(repr, HEADS))}")
        _require(self.hop % self.decoder_upsample == 0, "decoder_upsample", "must divide the hop")
        for name in ("top_dropout", "bottom_dropout", "bypass", "usage_decay", "restart_threshold"):
            _require(0 <= getattr(self, name) <= 1, name, "must be between 0 and 1")
        _require(self.residual_fit >= 0, "residual_fit", "must not be negative")
        _require(
            not self.readout_from or (len(self.readout_from) == len(self.LEVELS) and min(self.readout_from) >= 1),
            "readout_from",
            f"must be empty or hold one codebook index per level ({len(self.LEVELS)}), each at least 1",
        )
        _require(0 <= self.pitch_bits <= 16, "pitch_bits", "must be between 0 and 16")
        _require(abs(self.output_gain_db) <= 20, "output_gain_db", "must be between -20 and 20")
        _require(self.pitch_bits == 0 or self.head == "harmonic", "pitch_bits", "needs head 'harmonic'")
        _require(self.content in CONTENTS, "content", f"must be one of {', '.join(map(repr, CONTENTS))}")
        _require(0 <= self.phase_terms <= 64, "phase_terms", "must be between 0 and 64")
        _require(self.phase_terms == 0 or self.head == "harmonic", "phase_terms", "needs head 'harmonic'")
        _require(self.minimum_phase >= 0, "minimum_phase", "must not be negative")
        _require(self.minimum_phase == 0 or self.head == "harmonic", "minimum_phase", "needs head 'harmonic'")
        _require(self.minimum_phase == 0 or self.phase_terms == 0, "minimum_phase", "excludes phase_terms")
        _require(
            self.minimum_phase <= 2 * (self.hop // self.decoder_upsample),
            "minimum_phase",
            f"must be at most half the head's n_fft ({2 * (self.hop // self.decoder_upsample)})",
        )


def _require(ok: bool, name: str, what: str) -> None:
    if not ok:
        raise ConfigError(f"model config field {name!r} {what}")


def checked_fields(cls: type, raw: Any, what: str) -> dict[str, Any]:
    """The fields of the dataclass ``cls`` that the JSON object ``raw`` gives, lists made tuples.

    Raises :class:`ConfigError` naming an unknown field (with the closest known name, for typos) or a value
    whose type differs from its default's; ``what`` names the config in messages.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{what} must be a JSON object, not {type(raw).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    out = {}
    for name, value in raw.items():
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            raise ConfigError(f"unknown {what} field {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        out[name] = _typed(value, _default(known[name]), f"{what} field {name!r}")
    return out


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def _typed(value: Any, default: Any, where: str) -> Any:
    """``value`` (lists as tuples) if it has the type of ``default``, else :class:`ConfigError`."""
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, not {value!r}")
        return tuple(_typed(v, default[0], where) for v in value) if default else tuple(value)
    if dataclasses.is_dataclass(default) or default is None:
        return value  # checked by its own class
    kind = type(default)
    ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
    if kind is float:  # a whole number is a float, as in JSON
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(f"{where} must be {_KIND_NAMES.get(kind, kind.__name__)}, not {value!r}")
    return value


_KIND_NAMES = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}
