"""Training recipe: the model config plus the optimisation settings, read from a JSON file."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from vqcodec.errors import ConfigError, UserError
from vqcodec.nn.config import ModelConfig, checked_fields
from vqcodec.train.augment import Augment

STOI_SECONDS = 0.5  # STOI correlates 30 frames of 12.8 ms: a segment must hold more than 384 ms


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. ``segment_frames`` counts top frames (``model.top_hop`` samples each).

        The commitment weight warms up linearly from ``commit_start`` to ``commit_weight`` over
        ``commit_warmup`` steps: early on the encoder moves fast and codebooks are still being placed, and a
        strong pull towards bad codes would freeze it there.

        Source-filter heads (``model.head == "harmonic"``) also learn F0, by an L1 loss in octaves on frames a
        pitch tracker calls voiced in the input (``f0_weight``), and the voicing decision, by a cross-entropy
        against it (``voicing_weight``); see :mod:`vqcodec.analysis.tracked_pitch`. For the first
        ``f0_teacher_steps`` steps the tracked F0 drives the excitation (teacher forcing): the filters learn what a
        right harmonic source needs while the F0 predictor is still poor; after that the predicted F0 does, as at
        decoding. A model with a pitch stream (``model.pitch_bits``) is always driven by the quantized tracked F0,
        as at decoding.

    ``phase_weight`` weighs a loudness-weighted phase distance (:class:`vqcodec.train.losses.PhaseLoss`, on the
        ``spectral_n_ffts``): it rewards a head that owns its phase (``model.phase_terms``) for the voice's own
        phase, without pulling the level down as a complex MSE does. ``phase_lock`` (a model with a pitch stream):
    the source is phase-locked to the input's fundamental (:attr:`vqcodec.nn.excitation.Pitch.phase`,
    measured on the input itself), as a pitch stream carrying the fundamental's phase would drive it. No
    file format carries that phase yet, so a model trained so is an experiment, measured with
    ``benchmarks/phase_lock.py``, not a model to ship.

        ``perceptual_weight`` (0: off) weighs :class:`vqcodec.train.perceptual.PerceptualLoss`, PESQ's model of
        hearing as a loss: loudness per Bark band on 32 ms frames, a dead zone, and added energy weighed more
        than lost energy. Its values are small (about 0.006 on coded speech, its gradient about 1/100 of the mel
        loss's): a weight of 30 gives it a third of the mel loss's pull (``recipes/speech16k/perceptual.json``).
        ``intelligibility_weight`` (0: off) weighs :class:`vqcodec.train.intelligibility.IntelligibilityLoss`,
        ``1 - STOI`` of the decoded segment against its reference (needs the ``train`` extra's ``torch_stoi``).

        ``code_mel_weight`` (0: off) weighs :class:`vqcodec.train.losses.CodeSpectrumLoss`, a linear probe of the
        input's log mels from what the decoder is given, trained with the model (its own AdamW at a fixed 1e-3,
        so that it reads well early): it asks the codes, every rung of them, to carry the spectrum, not only what
        the decoder uses.

        Adversarial training (off while ``adversarial_weight`` is 0): from step ``adversarial_start`` a
        multi-resolution spectrogram discriminator (FFT sizes ``disc_n_ffts``, ``disc_channels`` wide, its own
        AdamW at ``disc_lr``) judges the first ``disc_batch`` items of each batch (0: all), and the generator
        adds ``adversarial_weight`` times its hinge loss and ``feature_weight`` times feature matching; see
        :mod:`vqcodec.train.discriminators`. Measured on the 2-core CPU: a full-batch step of the default
        discriminator costs about five generator steps, hence ``disc_batch``.

        ``freeze_codes``: the encoder and the quantizer hierarchy do not train (no gradients; whitening
        statistics, code usage and codebook restarts stay as loaded; quantizer dropout still applies), so the
        model makes exactly the codes of the model it started from: a decoder fine-tune keeps the entropy
        tables and priors fitted on those codes valid.

        ``frozen_bottom`` > 0: as ``freeze_codes``, but only the encoder, the top level and the first
        ``frozen_bottom`` bottom codebooks are frozen, so those codes stay the starting model's (their readouts,
        which hold no code, are still fitted); the later bottom codebooks and the decoder train.

        ``encoder_only``: the opposite: only the waveform encoder trains, on the decoded audio's losses; the
        quantizer hierarchy (codebooks, whitening statistics) and the decoder stay as loaded. For an encoder
        distilled from another (:mod:`vqcodec.train.distill`): it then learns what the decoder needs, not
        only what the teacher's encoder gave, in the same codebooks.

        Rooms and noises (:mod:`vqcodec.train.augment`; off while both are 0): ``augment_room`` and
        ``augment_noise`` are the shares of segments put in a synthetic room (RT60 uniform in
        ``augment_rt60`` seconds) and given a coloured noise (SNR uniform in ``augment_snr_db``).
        ``augment_target``: ``"degraded"``, the degraded segment is both the input and the target (the codec
        reproduces the room and the noise); ``"clean"``, the target is the segment before it was degraded (the
        codec removes them). Other voices (off while 0): ``augment_speed`` is the share of segments played at a
        speed uniform in ``augment_speed_range`` (pitch and formants times it, see the module).

        Data: ``loader`` is ``"memory"`` (the whole ``split`` decoded into RAM; small corpora) or ``"stream"``
        (segments read from disk in ``num_workers`` DataLoader processes; corpora of any size), see
        :mod:`vqcodec.train.data`.

        Validation (main process only): every ``valid_every`` steps (0: never) the model codes
        ``valid_segments`` fixed segments of up to ``valid_seconds`` from the ``valid_split`` rows of the data
        (or from ``--valid-data``), logs log-mel distance, SI-SDR and codebook usage to ``OUT/valid.jsonl`` and
        writes the first ``valid_wavs`` decoded segments to ``OUT/valid/step-N/``.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    steps: int = 5000
    batch_size: int = 16
    segment_frames: int = 12
    lr: float = 1e-3
    lr_final: float = 1e-4
    warmup: int = 200
    grad_clip: float = 1.0
    adam_betas: tuple[float, float] = (0.8, 0.99)
    mel_n_ffts: tuple[int, ...] = (256, 512, 1024, 2048)
    mel_n_mels: tuple[int, ...] = (20, 40, 80, 128)
    spectral_n_ffts: tuple[int, ...] = (320, 640)
    spectral_power: float = 0.3
    mel_weight: float = 1.0
    spectral_weight: float = 1.0
    complex_weight: float = 0.1
    phase_weight: float = 0.0
    perceptual_weight: float = 0.0
    intelligibility_weight: float = 0.0
    code_mel_weight: float = 0.0
    augment_room: float = 0.0
    augment_noise: float = 0.0
    augment_rt60: tuple[float, float] = (0.2, 0.8)
    augment_snr_db: tuple[float, float] = (5.0, 30.0)
    augment_target: str = "degraded"
    augment_speed: float = 0.0
    augment_speed_range: tuple[float, float] = (0.88, 1.12)
    phase_lock: bool = False
    codebook_weight: float = 1.0
    f0_weight: float = 1.0
    voicing_weight: float = 0.5
    f0_teacher_steps: int = 0
    freeze_codes: bool = False
    frozen_bottom: int = 0
    encoder_only: bool = False
    adversarial_weight: float = 0.0
    feature_weight: float = 2.0
    adversarial_start: int = 0
    disc_lr: float = 2e-4
    disc_n_ffts: tuple[int, ...] = (512, 1024, 2048)
    disc_channels: int = 16
    disc_batch: int = 0
    commit_weight: float = 0.02
    commit_start: float = 0.002
    commit_warmup: int = 1000
    log_every: int = 25
    ckpt_every: int = 250
    seed: int = 0
    split: str = "train"
    loader: str = "memory"
    num_workers: int = 2
    valid_every: int = 0
    valid_split: str = "valid"
    valid_segments: int = 8
    valid_seconds: float = 2.0
    valid_wavs: int = 3

    def check(self) -> None:
        """Raise ConfigError for values no run can use."""
        if self.loader not in ("memory", "stream"):
            raise ConfigError(f"loader must be 'memory' or 'stream', not {self.loader!r}")
        for name in ("num_workers", "valid_every", "valid_segments", "valid_wavs"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        if self.valid_seconds <= 0:
            raise ConfigError("valid_seconds must be positive")
        for name in ("augment_room", "augment_noise", "augment_speed"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"{name} must be between 0 and 1")
        if not 0 < self.augment_rt60[0] <= self.augment_rt60[1]:
            raise ConfigError("augment_rt60 must be [low, high] seconds with 0 < low <= high")
        if not 0 < self.augment_speed_range[0] <= self.augment_speed_range[1]:
            raise ConfigError("augment_speed_range must be [low, high] with 0 < low <= high")
        if not self.augment_snr_db[0] <= self.augment_snr_db[1]:
            raise ConfigError("augment_snr_db must be [low, high] with low <= high")
        if self.augment_target not in ("degraded", "clean"):
            raise ConfigError(f"augment_target must be 'degraded' or 'clean', not {self.augment_target!r}")
        if self.freeze_codes and self.encoder_only:
            raise ConfigError("freeze_codes and encoder_only leave nothing to train: choose one")
        if self.frozen_bottom and (self.freeze_codes or self.encoder_only):
            raise ConfigError("frozen_bottom freezes part of what freeze_codes and encoder_only set: choose one")
        if not 0 <= self.frozen_bottom < self.model.n_bottom:
            raise ConfigError(
                f"frozen_bottom must be from 0 to {self.model.n_bottom - 1} (the bottom codebooks less one)"
            )
        seconds = self.segment_frames * self.model.top_hop / self.model.sample_rate
        if self.intelligibility_weight and seconds < STOI_SECONDS:
            raise ConfigError(
                f"intelligibility_weight needs segments of at least {STOI_SECONDS} s (STOI's 384 ms windows), "
                f"not {seconds:.3f} s: raise segment_frames"
            )

    @property
    def augment(self) -> Augment:
        """The rooms and noises of this recipe's segments (inactive when both shares are 0)."""
        return Augment(
            self.augment_room,
            self.augment_noise,
            self.augment_rt60,
            self.augment_snr_db,
            self.model.sample_rate,
            clean_target=self.augment_target == "clean",
            speed=self.augment_speed,
            speed_range=self.augment_speed_range,
        )

    def commit_at(self, step: int) -> float:
        frac = min(1.0, step / max(1, self.commit_warmup))
        return self.commit_start + frac * (self.commit_weight - self.commit_start)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def load_train_config(path: str | Path, **overrides) -> TrainConfig:
    """Read a recipe JSON: ``{"model": {...ModelConfig}, ...TrainConfig fields}``."""
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: cannot read training config ({e})") from None
    try:
        if not isinstance(raw, dict):
            raise ConfigError("a recipe must be a JSON object")
        model = ModelConfig.from_dict(raw.pop("model", {}))
        fields = checked_fields(TrainConfig, raw, "training config")
        fields.update({k: v for k, v in overrides.items() if v is not None})
        cfg = TrainConfig(model=model, **fields)
        cfg.check()
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    return cfg


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="recipe JSON (see recipes/)")
    p.add_argument(
        "--data",
        required=True,
        help="folder of audio (a manifest.csv there selects the recipe's "
        "split), or a manifest .csv (see vqcodec.train.prepare)",
    )
    p.add_argument("--out", required=True, help="run folder: checkpoint, exported model, logs")
    p.add_argument("--steps", type=int, help="override the recipe's number of steps")
    p.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--init", help="fine-tune from a model file, or a shipped model's name ('default', 'ga24k')")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    p.add_argument("--num-workers", type=int, help="override the recipe's data loader processes (loader 'stream')")
    p.add_argument("--valid-every", type=int, help="override the recipe's validation interval in steps (0: off)")
    p.add_argument(
        "--valid-data", help="validation audio: a folder or manifest (default: the recipe's valid_split rows of --data)"
    )
    p.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA, or CPUs with native bfloat16)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA; ignored on CPU)")
    p.add_argument(
        "--pitch-workers",
        type=int,
        default=0,
        help="processes that track a source-filter head's pitch ahead of the steps (0: before each step)",
    )
    p.add_argument(
        "--progress",
        choices=("auto", "bar", "lines"),
        default="auto",
        help="a progress bar, or plain log lines (auto: a bar when stderr is a terminal)",
    )
