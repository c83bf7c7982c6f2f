"""Training loop: ``vqcodec train CONFIG --data DIR --out DIR`` or ``python -m vqcodec.train`` (see ``__main__``).

Writes ``OUT/checkpoint.pt`` (resumable, tensors and plain values only, loaded with
``weights_only=True``), ``OUT/model.safetensors`` (the shipped-model format) and ``OUT/log.jsonl``; with
validation on (``valid_every``), ``OUT/valid.jsonl`` and ``OUT/valid/step-N/*.wav`` (see
:mod:`vqcodec.train.validate`). Progress: a tqdm bar when stderr is a terminal, else one line per log row; a
codebook that starts to collapse is reported once, on stderr, when it does. A run from a trained model
(``--init``) starts from it through :mod:`vqcodec.train.warm_start`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from vqcodec.analysis.stats import collapse_warnings, usage_fields
from vqcodec.analysis.tracked_pitch import pitch_of
from vqcodec.distributed import Context, barrier, setup
from vqcodec.errors import UserError
from vqcodec.io.atomic import atomic_path
from vqcodec.io.corpus import read_manifest
from vqcodec.io.weights import save_model
from vqcodec.nn.excitation import Pitch, fundamental_phase
from vqcodec.nn.model import VQCodecModel
from vqcodec.nn.quantizer import FactorizedVQ, sync_whitening
from vqcodec.pitch.target import PitchSpec
from vqcodec.progress import ProgressBar
from vqcodec.threads import bounded_threads
from vqcodec.train.config import TrainConfig, load_train_config
from vqcodec.train.data import SegmentSampler, StreamingSegments, StreamSampler, list_audio, list_entries, load_corpus
from vqcodec.train.discriminators import MultiResolutionDiscriminator, discriminator_loss, generator_losses
from vqcodec.train.feed import PitchFeed
from vqcodec.train.intelligibility import IntelligibilityLoss
from vqcodec.train.losses import CodeSpectrumLoss, CompressedSpectralLoss, MultiScaleMelLoss, PhaseLoss, pitch_losses
from vqcodec.train.perceptual import PerceptualLoss
from vqcodec.train.schedule import warmup_cosine
from vqcodec.train.validate import Validator, load_segments
from vqcodec.train.warm_start import init_from

WARNING = "vqcodec train: warning: "

PROBE_LR = 1e-3  # the code-spectrum probe's (a linear map: it must read well long before the model has moved)


def _warn(message: str) -> None:
    print(WARNING + message, file=sys.stderr, flush=True)


class Trainer:
    """Owns the model, optimiser, sampler and losses of one run.

    ``amp``: bfloat16 autocast of the model's forward pass (quantizers and the decoder head stay float32,
    losses are computed in float32), on CUDA or on a CPU with native bfloat16 (AVX-512 BF16, AMX): measured
    1.37x faster per step on the idle 2-core development CPU (36 -> 49 audio-s/s); ignored, with a
    warning, on other CPUs.
    ``compile``: ``torch.compile`` of the model on CUDA (ignored, with a warning, on CPU).
    ``pitch_workers``: processes that track a source-filter head's pitch ahead of the steps (see
    :mod:`vqcodec.train.feed`); 0 tracks it in this process, before each step.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        sampler: SegmentSampler | StreamSampler,
        out: Path,
        ctx: Context | None = None,
        *,
        amp: bool = False,
        compile: bool = False,
        pitch_workers: int = 0,
    ):
        torch.manual_seed(cfg.seed)  # the same initial weights on every rank
        self.cfg, self.sampler, self.out, self.ctx = cfg, sampler, out, ctx or Context()
        self.model = VQCodecModel.from_config(cfg.model).to(self.ctx.device).train()
        cuda = self.ctx.device.type == "cuda"
        bf16 = cuda or torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        for flag, wanted, ok, needs in (
            ("--amp", amp, bf16, "CUDA or a CPU with bfloat16"),
            ("--compile", compile, cuda, "CUDA"),
        ):
            if wanted and not ok and self.ctx.is_main:
                _warn(f"{flag} needs {needs}: ignored on {self.ctx.device}")
        self.amp, self.compiled = amp and bf16, compile and cuda
        self.parallel = DistributedDataParallel(self.model) if self.ctx.world_size > 1 else self.model
        if self.compiled:
            self.parallel = torch.compile(self.parallel)
        if cfg.freeze_codes:
            for part in (self.model.encoder, self.model.hierarchy):
                part.requires_grad_(False)
        if cfg.encoder_only:
            for part in (self.model.hierarchy, self.model.decoder):
                part.requires_grad_(False)
        frozen = self._frozen_parts()
        for part in frozen:
            part.requires_grad_(False)
        # the codebooks whose codes must not move: evaluated, not trained, at every step (see _train_mode)
        held = [self.model.hierarchy] if cfg.freeze_codes or cfg.encoder_only else frozen
        self.held_codebooks = [m for part in held for m in part.modules() if isinstance(m, FactorizedVQ)]
        trained = [p for p in self.model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(trained, lr=cfg.lr, betas=cfg.adam_betas, weight_decay=0.0)
        self.mel = MultiScaleMelLoss(cfg.model.sample_rate, cfg.mel_n_ffts, cfg.mel_n_mels).to(self.ctx.device)
        self.spectral = CompressedSpectralLoss(cfg.spectral_n_ffts, cfg.spectral_power, cfg.complex_weight)
        self.phase_loss = PhaseLoss(cfg.spectral_n_ffts, cfg.spectral_power) if cfg.phase_weight else None
        self.perceptual = PerceptualLoss(cfg.model.sample_rate).to(self.ctx.device) if cfg.perceptual_weight else None
        self.intelligibility = IntelligibilityLoss(cfg.model.sample_rate) if cfg.intelligibility_weight else None
        self.disc, self.disc_opt = self._discriminator()
        self.probe, self.probe_opt = self._code_probe()
        m = cfg.model  # the pitch a source-filter head is driven and supervised with, else None
        self.pitch = PitchSpec(m.sample_rate, m.hop, m.pitch_bits, m.decoder_upsample) if m.head == "harmonic" else None
        self.feed = self._feed(pitch_workers)
        self.step = 0
        self.counts, self.restarts = self._zero_counts(), {}

    def _zero_counts(self) -> dict[str, torch.Tensor]:
        """Per level, [n_codebooks, K] counts of the codes chosen since the last log line."""
        c = self.cfg.model
        return {"top": torch.zeros(c.n_top, c.codebook_size), "bottom": torch.zeros(c.n_bottom, c.codebook_size)}

    def _note_health(self, metrics: dict[str, dict[str, torch.Tensor]]) -> None:
        """Add what each level's quantizer reported of this step (its code counts and restarts)."""
        for level, m in metrics.items():
            self.counts[level] += m["counts"].detach().cpu()
            self.restarts[level] = self.restarts.get(level, 0) + int(m["restarts"].sum())

    def take_counts(self) -> dict[str, torch.Tensor]:
        """The code counts since the last call, per level (and the restarts, kept for :meth:`take_restarts`)."""
        counts, self.counts = self.counts, self._zero_counts()
        return counts

    def take_restarts(self) -> dict[str, int]:
        """Dead codes restarted per level since the last call."""
        restarts, self.restarts = self.restarts, {}
        return restarts

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then cosine from ``lr`` to ``lr_final``."""
        c = self.cfg
        return warmup_cosine(step, c.lr, c.lr_final, c.warmup, c.steps)

    def _discriminator(self):
        """The discriminator and its optimiser when the recipe trains adversarially, else (None, None)."""
        c = self.cfg
        if c.adversarial_weight <= 0:
            return None, None
        disc = MultiResolutionDiscriminator(c.disc_n_ffts, c.disc_channels).to(self.ctx.device).train()
        opt = torch.optim.AdamW(disc.parameters(), lr=c.disc_lr, betas=c.adam_betas, weight_decay=0.0)
        return (DistributedDataParallel(disc) if self.ctx.world_size > 1 else disc), opt

    def _code_probe(self) -> tuple[torch.nn.Module | None, torch.optim.Optimizer | None]:
        """The code-spectrum probe and its optimiser, when ``code_mel_weight`` asks for one."""
        c = self.cfg
        if not c.code_mel_weight:
            return None, None
        m = c.model
        probe = CodeSpectrumLoss(m.latent_dim, m.sample_rate, m.hop).to(self.ctx.device)
        opt = torch.optim.AdamW(probe.parameters(), lr=PROBE_LR, betas=c.adam_betas, weight_decay=0.0)
        return (DistributedDataParallel(probe) if self.ctx.world_size > 1 else probe), opt

    def _feed(self, workers: int) -> PitchFeed | None:
        """A feed that tracks the batches' pitch in ``workers`` processes, when asked and the head wants one."""
        if workers < 0:
            raise UserError(f"--pitch-workers must be 0 or more, not {workers}")
        if not workers or self.pitch is None:
            return None
        return PitchFeed(self.sampler, self.cfg.batch_size, self.pitch, workers)

    def close(self) -> None:
        """Stop the pitch workers, if any."""
        if self.feed is not None:
            self.feed.close()

    def _batch(self) -> tuple[torch.Tensor, Pitch | None]:
        """The next batch [B, R, T] on the device (R = 2: the input, then its clean target, see
        :mod:`vqcodec.train.augment`) and, for a source-filter head, the input's tracked pitch."""
        if self.feed is None:
            x = self.sampler.batch(self.cfg.batch_size).to(self.ctx.device)
            return x, None if self.pitch is None else pitch_of(x[:, :1], self.pitch)
        x, f0 = self.feed.next()
        f0 = f0.to(self.ctx.device)
        return x.to(self.ctx.device), Pitch(f0, f0 > 0)

    def _frozen_parts(self) -> list[torch.nn.Module]:
        """What ``frozen_bottom`` keeps as loaded: the encoder, the top level, the bottom's conditioning and
        its first ``frozen_bottom`` codebooks (empty without it)."""
        n = self.cfg.frozen_bottom
        if not n:
            return []
        h = self.model.hierarchy
        return [
            self.model.encoder,
            h.top_encoder,
            h.top_quantizer,
            h.top_decoder,
            h.condition,
            *h.bottom_quantizer.layers[:n],
        ]

    def _train_mode(self) -> None:
        """Training mode, except the codebooks whose codes are frozen (their statistics, usage and restarts
        would move the codes); the residual stacks stay in training mode for quantizer dropout."""
        self.model.train()
        for codebook in self.held_codebooks:
            codebook.eval()

    def train_step(self) -> dict[str, float]:
        c = self.cfg
        self._train_mode()
        rows, target = self._batch()  # [B, R, T]
        x, ref = rows[:, :1], rows[:, -1:]  # what the model codes, what it should give back: [B, 1, T] each
        forced = target if target is not None and (c.model.pitch_bits or self.step < c.f0_teacher_steps) else None
        if forced is not None and c.phase_lock:
            head = _unwrap(self.model).decoder.head
            forced = Pitch(forced.f0, forced.voiced, fundamental_phase(x[:, 0], forced.f0, head.hop, head.sample_rate))
        with self._autocast():
            out = self.parallel(x, forced)
        audio = out.audio.float()
        mel, spec = self.mel(audio, ref), self.spectral(audio, ref)
        loss = (
            c.mel_weight * mel
            + c.spectral_weight * spec
            + c.codebook_weight * out.codebook_loss
            + c.commit_at(self.step) * out.commit_loss
        )
        extra = {}
        if self.phase_loss is not None:
            phase = self.phase_loss(audio, ref)
            loss = loss + c.phase_weight * phase
            extra["phase"] = phase.item()
        if self.perceptual is not None:
            perceptual = self.perceptual(audio, ref)
            loss = loss + c.perceptual_weight * perceptual
            extra["perceptual"] = perceptual.item()
        if self.intelligibility is not None:
            intelligibility = self.intelligibility(audio, ref)
            loss = loss + c.intelligibility_weight * intelligibility
            extra["intelligibility"] = intelligibility.item()
        if target is not None:
            f0_loss, voicing_loss = pitch_losses(out.f0, out.voicing, target.f0, target.voiced)
            loss = loss + c.f0_weight * f0_loss + c.voicing_weight * voicing_loss
            extra.update(f0=f0_loss.item(), voicing=voicing_loss.item())
        if self.probe is not None:
            code_mel = self.probe(out.bottom, out.top, ref)
            loss = loss + c.code_mel_weight * code_mel
            extra["code_mel"] = code_mel.item()
        if self.disc is not None and self.step >= c.adversarial_start:
            adv, feat, extra["disc"] = self._adversarial(x, audio)
            loss = loss + c.adversarial_weight * adv + c.feature_weight * feat
            extra.update(adversarial=adv.item(), features=feat.item())
        optimisers = [self.opt] + ([self.probe_opt] if self.probe_opt is not None else [])
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(self.step)
        for opt in optimisers:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        grad = torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip)
        for opt in optimisers:
            opt.step()
        sync_whitening(self.model)
        self.step += 1
        self._note_health(out.metrics)
        return {
            "loss": loss.item(),
            "mel": mel.item(),
            "spectral": spec.item(),
            "commit": out.commit_loss.item(),
            "codebook": out.codebook_loss.item(),
            "grad": grad.item(),
            **extra,
        }

    def _adversarial(self, x: torch.Tensor, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        """One discriminator step on real ``x`` and decoded ``audio`` [B, 1, T] (the first ``disc_batch``
        items: judging is the costly part on a CPU), then the generator's adversarial and feature-matching
        losses against the updated discriminator. Returns them and the discriminator's loss."""
        n = self.cfg.disc_batch or x.shape[0]
        real, fake = x[:n], audio[:n]
        d_loss = discriminator_loss(self.disc(real), self.disc(fake.detach()))
        self.disc_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.disc_opt.step()
        adv, feat = generator_losses(self.disc(real), self.disc(fake))
        return adv, feat, d_loss.item()

    def _autocast(self):
        if self.amp:
            return torch.autocast(device_type=self.ctx.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def state(self) -> dict:
        """Checkpoint contents: ``model``, ``opt``, ``step``, ``config``, ``torch_rng``, ``sampler_rng`` (the
        JSON of the sampler's state), and on CUDA ``cuda_rng``."""
        state = {
            "model": self.model.state_dict(),
            "opt": self.opt.state_dict(),
            "step": self.step,
            "config": self.cfg.to_json(),
            "torch_rng": torch.get_rng_state(),
            "sampler_rng": json.dumps(self.sampler.state()),
        }
        if self.ctx.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.ctx.device)
        if self.disc is not None:
            state["disc"], state["disc_opt"] = _unwrap(self.disc).state_dict(), self.disc_opt.state_dict()
        if self.probe is not None:
            state["probe"], state["probe_opt"] = _unwrap(self.probe).state_dict(), self.probe_opt.state_dict()
        return state

    def load_state(self, state: dict) -> None:
        """Continue from :meth:`state`'s contents. ``model`` and ``step`` are required; a checkpoint
        without the optimiser or random states (or with the sampler state of the other loader) still
        loads, with a warning: the run continues, but not exactly as it would have."""
        self.model.load_state_dict(state["model"])
        self.step = int(state["step"])
        if self.disc is not None and "disc" in state:  # else the discriminator starts afresh
            _unwrap(self.disc).load_state_dict(state["disc"])
            self.disc_opt.load_state_dict(state["disc_opt"])
        if self.probe is not None and "probe" in state:  # else the probe starts afresh
            _unwrap(self.probe).load_state_dict(state["probe"])
            self.probe_opt.load_state_dict(state["probe_opt"])
        if "opt" in state:
            self.opt.load_state_dict(state["opt"])
        elif self.ctx.is_main:
            _warn("the checkpoint holds no optimiser state: the optimiser starts afresh")
        if "torch_rng" in state:
            torch.set_rng_state(state["torch_rng"].cpu())
        if "cuda_rng" in state and self.ctx.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), self.ctx.device)
        try:
            self.sampler.set_state(json.loads(state["sampler_rng"]))
        except (KeyError, TypeError, ValueError):
            if self.ctx.is_main:
                _warn(
                    f"the checkpoint's data sampler state does not fit loader {self.cfg.loader!r}: "
                    "batches are drawn afresh"
                )

    def save(self) -> None:
        """Checkpoint atomically (a crash never leaves a corrupt checkpoint), then export weights."""
        with atomic_path(self.out / "checkpoint.pt") as tmp:
            torch.save(self.state(), tmp)
        save_model(self.model, self.out / "model.safetensors")


def _unwrap(module: torch.nn.Module) -> torch.nn.Module:
    return module.module if isinstance(module, DistributedDataParallel) else module


def _log_line(
    step: int, metrics: dict[str, float], counts: dict[str, torch.Tensor], restarts: dict[str, int] | None = None
) -> dict:
    """One log row: loss terms, speed, and per level the mean usage and perplexity of the codes actually
    chosen since the previous row (not the restart-reset usage EMA, which would flatter them) and the dead
    codes the quantizers restarted since then."""
    row = {"step": step, **{k: round(v, 5) for k, v in metrics.items()}, **usage_fields(counts)}
    row.update({f"{level}_restarts": n for level, n in (restarts or {}).items()})
    return row


def make_sampler(cfg: TrainConfig, data: Path, rank: int = 0) -> SegmentSampler | StreamSampler:
    """The recipe's loader over the ``split`` rows of ``data`` (a folder or a manifest)."""
    segment = cfg.segment_frames * cfg.model.top_hop
    if cfg.loader == "memory":
        clips = load_corpus(list_audio(data, cfg.split), cfg.model.sample_rate)
        if not clips:
            raise UserError(f"{data}: no audio files found")
        try:
            return SegmentSampler(clips, segment, seed=cfg.seed + rank, augment=cfg.augment)
        except ValueError as e:
            raise UserError(f"{data}: {e}") from None
    entries = list_entries(data, cfg.split)
    if not entries:
        raise UserError(f"{data}: no audio files found")
    try:
        stream = StreamingSegments(
            entries, segment, cfg.model.sample_rate, cfg.batch_size, seed=cfg.seed, rank=rank, augment=cfg.augment
        )
    except ValueError as e:
        raise UserError(f"{data}: {e}") from None
    return StreamSampler(stream, cfg.num_workers)


def make_validator(cfg: TrainConfig, data: Path, out: Path, valid_data: str | Path | None = None) -> Validator | None:
    """The validation set: ``valid_data`` (a folder, or a manifest whose ``valid_split`` rows are used), else
    the ``valid_split`` rows of ``data``; None (with a warning) when validation is off or finds no audio."""
    if not cfg.valid_every:
        return None
    source = Path(valid_data) if valid_data else data
    if not source.exists():
        raise UserError(f"{source}: no such folder or manifest")
    if valid_data:
        paths = list_audio(source, cfg.valid_split)
    else:  # only rows marked valid_split: a bare folder, or a manifest without splits, is training data
        manifest = source if source.is_file() else source / "manifest.csv"
        paths = [e.path for e in read_manifest(manifest) if e.split == cfg.valid_split] if manifest.exists() else []
    segments = load_segments(paths, cfg.model.sample_rate, cfg.model.top_hop, cfg.valid_segments, cfg.valid_seconds)
    if not segments:
        _warn(
            f"no validation audio ({cfg.valid_split!r} rows of {source}; --valid-data DIR names another source): "
            "validation is off"
        )
        return None
    return Validator(segments, cfg.model.sample_rate, out, cfg.valid_wavs)


def run(
    cfg: TrainConfig,
    data: Path,
    out: Path,
    resume: bool,
    init: str | None,
    ctx: Context | None = None,
    *,
    valid_data: str | Path | None = None,
    amp: bool = False,
    compile: bool = False,
    progress: str = "auto",
    pitch_workers: int = 0,
) -> Trainer:
    """Train until ``cfg.steps``; returns the trainer. Under torchrun each rank draws its own batches
    (seed + rank) and rank 0 alone writes logs and checkpoints and validates."""
    ctx = ctx or Context()
    cfg.check()
    longest = max(cfg.mel_n_ffts + cfg.spectral_n_ffts)
    if cfg.segment_frames * cfg.model.top_hop <= longest // 2:  # a centred STFT pads by n_fft / 2 (reflect)
        raise UserError(
            f"segments of {cfg.segment_frames * cfg.model.top_hop} samples are too short for the "
            f"{longest}-point spectral losses: raise segment_frames"
        )
    if resume and not (out / "checkpoint.pt").is_file():
        raise UserError(f"{out / 'checkpoint.pt'}: no checkpoint to resume (leave out --resume to start afresh)")
    data = Path(data)
    out.mkdir(parents=True, exist_ok=True)
    sampler = make_sampler(cfg, data, ctx.rank)
    validator = make_validator(cfg, data, out, valid_data) if ctx.is_main else None
    trainer = Trainer(cfg, sampler, out, ctx, amp=amp, compile=compile, pitch_workers=pitch_workers)
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.exists():
        trainer.load_state(torch.load(ckpt, weights_only=True, map_location=ctx.device))
        if ctx.rank and isinstance(sampler, SegmentSampler):
            # the checkpoint holds rank 0's sampler state; the others draw their own (a stream's state is
            # a batch number, and each rank's stream is already seeded with its rank)
            fresh = SegmentSampler(
                sampler.clips, sampler.segment, seed=cfg.seed + ctx.rank + trainer.step, augment=cfg.augment
            )
            sampler.set_state(fresh.state())
    elif init:
        init_from(trainer.model, init)
    if ctx.is_main:
        (out / "config.json").write_text(cfg.to_json())
    try:
        _loop(trainer, out / "log.jsonl", validator, progress)
    finally:
        trainer.close()
        if isinstance(sampler, StreamSampler):
            sampler.close()
    barrier()
    return trainer


def progress_bar(mode: str, total: int, initial: int) -> ProgressBar:
    """The run's bar of steps (``mode`` "bar", or "auto" when stderr is a terminal and tqdm is installed), or
    none: then log rows are plain lines on stdout."""
    bar = ProgressBar(total, unit="step", desc="train", initial=initial, mode=mode, dynamic_ncols=True)
    if bar.missing:
        _warn("no progress bar: tqdm is not installed (pip install tqdm)")
    return bar


def show_row(bar: ProgressBar, row: dict) -> None:
    """A log row: the main numbers after the bar, or the whole row as a plain line on stdout."""
    if bar.bar is None:
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        return
    bar.update(
        0,
        postfix=(
            f"loss={row['loss']:.3f} mel={row['mel']:.3f} spec={row['spectral']:.3f} commit={row['commit']:.3f} "
            f"usage t/b={row['top_usage']:.2f}/{row['bottom_usage']:.2f} "
            f"ppl t/b={row['top_perplexity']:.0f}/{row['bottom_perplexity']:.0f} "
            f"{row['audio_s_per_s']:.1f} audio-s/s"
        ),
    )


def show_line(bar: ProgressBar, line: str) -> None:
    """A line above the bar, or a plain line on stdout."""
    if bar.bar is None:
        print(line, flush=True)
    else:
        bar.write(line)


class CollapseWatch:
    """Reports a codebook when it starts to look collapsed (:func:`vqcodec.analysis.stats.collapse_warnings` on the
    codes chosen since the previous log row), once: again only after it has recovered."""

    def __init__(self) -> None:
        self.flagged: set[str] = set()

    def check(self, counts: dict[str, torch.Tensor]) -> list[str]:
        """New warnings for these counts ``{level: [n_codebooks, K]}``."""
        lines = {line.split(" may be collapsing")[0]: line for line in collapse_warnings(counts)}
        new = [line for key, line in lines.items() if key not in self.flagged]
        self.flagged = set(lines)
        return new


def _loop(trainer: Trainer, log_path: Path, validator: Validator | None = None, progress: str = "auto") -> None:
    cfg = trainer.cfg
    seconds = cfg.batch_size * cfg.segment_frames * cfg.model.top_hop / cfg.model.sample_rate
    t0, done0, paused = time.time(), trainer.step, 0.0
    main = trainer.ctx.is_main
    bar = progress_bar(progress, cfg.steps, trainer.step) if main else None
    watch = CollapseWatch()
    try:
        with open(log_path if main else os.devnull, "a") as log:
            while trainer.step < cfg.steps:
                metrics = trainer.train_step()
                if not main:
                    continue
                bar.update(1)
                last = trainer.step == cfg.steps
                if trainer.step % cfg.log_every == 0 or last:
                    metrics["audio_s_per_s"] = seconds * (trainer.step - done0) / (time.time() - t0 - paused)
                    counts = trainer.take_counts()
                    row = _log_line(trainer.step, metrics, counts, trainer.take_restarts())
                    log.write(json.dumps(row) + "\n")
                    log.flush()
                    show_row(bar, row)
                    for line in watch.check(counts):
                        bar.write(WARNING + line)
                if validator is not None and (trainer.step % cfg.valid_every == 0 or last):
                    t = time.time()
                    row = validator.run(trainer.model, trainer.step)
                    paused += time.time() - t
                    show_line(bar, "valid " + " ".join(f"{k}={v}" for k, v in row.items()))
                if trainer.step % cfg.ckpt_every == 0 or last:
                    trainer.save()
    finally:
        if bar is not None:
            bar.close()


def main_args(args: argparse.Namespace) -> None:
    if args.threads is not None:
        torch.set_num_threads(bounded_threads(args.threads))  # 1000 asked once started 832 threads
    cfg = load_train_config(
        args.config,
        steps=args.steps,
        batch_size=args.batch_size,
        num_workers=getattr(args, "num_workers", None),
        valid_every=getattr(args, "valid_every", None),
    )
    if getattr(args, "name", None):  # the model is named after its run (cli: --name, else the --out folder)
        cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, name=args.name))
    run(
        cfg,
        Path(args.data),
        Path(args.out),
        args.resume,
        args.init,
        setup(args.device),
        valid_data=getattr(args, "valid_data", None),
        amp=getattr(args, "amp", False),
        compile=getattr(args, "compile", False),
        progress=getattr(args, "progress", "auto"),
        pitch_workers=getattr(args, "pitch_workers", None) or 0,
    )
