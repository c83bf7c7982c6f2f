"""Vector quantizers behind one interface (:class:`Quantizer`): one codebook (:class:`FactorizedVQ`), and a
residual stack of them trained with quantizer dropout (:class:`ResidualVQ`), which is what a level of the
hierarchy holds.

Codebook learning choice (the known failure of VQ-VAEs is collapse):

* Low-dimensional, l2-normalised lookup (Yu et al. 2021, "Vector-quantized Image Modeling with Improved
  VQGAN"; used by DAC): each codebook searches in an 8-dim projection of the latent, with both the
  projection and the code vectors normalised, so the search is by cosine similarity. Low dimension makes
  every code reachable and the search cheap; normalisation stops a few large codes from winning everything.
* Whitened latents: the projection is standardised per dimension (a BatchNorm without affine parameters)
  before the lookup, so codes are matched on how frames *differ*, not on what they share. Without it the
  top level collapsed: its projected latents shared one large constant direction (mean pairwise cosine
  0.9993), every frame chose the same code, and restarts copied that same direction. This is the idea of
  aligning latent and codebook statistics of Huh et al. 2023 ("Straightening Out the Straight-Through
  Estimator"); at inference it is a fixed affine map per dimension, so coding stays frame-local.
* Dead-code restart (Dhariwal et al. 2020, Jukebox; Zeghidour et al. 2021, SoundStream): an EMA of each
  code's usage is kept; codes that fall out of use are moved onto latents from the current batch.
* Codebook and commitment losses (van den Oord et al. 2017) with a straight-through estimator; the
  commitment weight is warmed up by the trainer.

Codebooks are ordinary parameters, so data-parallel training keeps them equal by gradient all-reduce.
The state outside gradients is kept equal explicitly: usage counts are summed over ranks before the
EMA update; after a restart (which draws latents from the local batch) rank 0's codebook is broadcast;
and the trainer averages the whitening statistics over ranks after each step (``sync_whitening``).
Codebooks that differ between ranks are the known way EnCodec-style codebooks break under DDP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from vqcodec.errors import UserError
from vqcodec.nn.layers import full_precision


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


@dataclass
class QuantizerOutput:
    """Result of a quantizer's forward pass.

    Attributes:
        quantized: [B, D, T] quantized latents (straight-through gradient to the input).
        codes: [B, n_q, T] int64 code indices.
        commit_loss: scalar, pulls the encoder towards its codes.
        codebook_loss: scalar, pulls the codes towards the encoder.
        metrics: the quantizer's own health, per codebook (audiocraft's ``QuantizedResult.metrics``):
            ``counts`` [n_q, K] codes chosen in this pass (summed over ranks in training), ``restarts``
            [n_q] dead codes restarted in this pass, ``perplexity`` [n_q] exp(entropy) of this pass's codes.
        kept: [B] int64, how many codebooks each item's ``quantized`` sums (quantizer dropout keeps fewer in
            training); None where every item kept all of ``codes``.
    """

    quantized: torch.Tensor
    codes: torch.Tensor
    commit_loss: torch.Tensor
    codebook_loss: torch.Tensor
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)
    kept: torch.Tensor | None = None


class Quantizer(nn.Module):
    """What a level of the hierarchy needs of its quantizer: a stack of ``n_codebooks`` codebooks of
    ``codebook_size`` codes, any prefix of which is a valid code.

    ``forward`` is the training and evaluation pass; ``encode`` and ``decode`` are the codec's two halves,
    and ``decode(encode(z, n))`` equals ``forward(z, n).quantized`` in eval mode.
    """

    n_codebooks: int
    codebook_size: int

    def forward(self, z: torch.Tensor, n_q: int | None = None) -> QuantizerOutput:
        """[B, D, T] -> QuantizerOutput with codes [B, n_q, T] (all codebooks by default)."""
        raise NotImplementedError

    def encode(self, z: torch.Tensor, n_q: int) -> torch.Tensor:
        """[B, D, T] -> [B, n_q, T] codes of the first ``n_q`` codebooks."""
        raise NotImplementedError

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """[B, n_q, T] codes (any prefix of the codebooks) -> [B, D, T]."""
        raise NotImplementedError


class FactorizedVQ(nn.Module):
    """One codebook of ``size`` codes searched in a normalised ``codebook_dim`` space.

    Args:
        dim: width of the latent it quantizes.
        size: number of codes K.
        codebook_dim: dimension of the lookup space.
        usage_decay: EMA decay of the per-code usage statistic.
        restart_every: training steps between dead-code restarts (0 disables them).
        restart_threshold: a code is dead when its usage EMA is below ``restart_threshold / size``.
        readout: keep a linear readout of the residual from the code vector (see :class:`ResidualVQ`).
    """

    def __init__(
        self,
        dim: int,
        size: int,
        codebook_dim: int,
        usage_decay: float = 0.99,
        restart_every: int = 50,
        restart_threshold: float = 0.05,
        readout: bool = False,
    ):
        super().__init__()
        self.size = size
        self.usage_decay = usage_decay
        self.restart_every = restart_every
        self.restart_threshold = restart_threshold
        self.in_proj = nn.Conv1d(dim, codebook_dim, 1)
        self.whiten = nn.BatchNorm1d(codebook_dim, affine=False)
        self.out_proj = nn.Conv1d(codebook_dim, dim, 1)
        self.codebook = nn.Embedding(size, codebook_dim)
        # Usage starts at zero, so the first restart (after ``restart_every`` steps) moves every code the
        # encoder has not chosen onto real latents: a data-driven initialisation, like k-means init.
        self.register_buffer("usage", torch.zeros(size))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        if readout:  # [code vector; 1] -> latent, and the moments it is solved from (zero: reads nothing yet)
            self.register_buffer("readout", torch.zeros(codebook_dim + 1, dim))
            self.register_buffer("readout_xx", torch.zeros(codebook_dim + 1, codebook_dim + 1))
            self.register_buffer("readout_xy", torch.zeros(codebook_dim + 1, dim))

    def _lookup(self, z_e: torch.Tensor) -> torch.Tensor:
        """[B, d, T] -> [B, T] nearest code by cosine similarity."""
        flat = F.normalize(z_e.transpose(1, 2).reshape(-1, z_e.shape[1]), dim=-1)  # [B*T, d]
        book = F.normalize(self.codebook.weight, dim=-1)  # [K, d]
        idx = (flat @ book.t()).argmax(dim=-1)  # [B*T]
        return idx.view(z_e.shape[0], z_e.shape[2])

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """[B, D, T] -> [B, d, T] whitened latents in the lookup space."""
        # Standardise each lookup dimension (running statistics in eval, so coding stays frame-local):
        # without it a direction shared by every frame dominates the cosine lookup and every frame picks
        # the same code (the top level used ~5 codes of 1024 before this).
        return self.whiten(self.in_proj(z))

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """[B, T] codes -> [B, d, T] code vectors (in the lookup space)."""
        return self.codebook(codes).transpose(1, 2)

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """[B, D, T] -> [B, T] codes."""
        return self._lookup(self.project(z))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """[B, T] codes -> [B, D, T]."""
        return self.out_proj(self.embed(codes))

    def _readout_input(self, codes: torch.Tensor) -> torch.Tensor:
        """[B, T] codes -> [B, d + 1, T]: their code vectors with a constant 1 (the readout's bias)."""
        return F.pad(self.embed(codes).float(), (0, 0, 0, 1), value=1.0)

    def read(self, codes: torch.Tensor) -> torch.Tensor:
        """[B, T] codes -> [B, D, T]: what the readout says the residual was (a codebook built with ``readout``)."""
        return torch.einsum("bdt,dk->bkt", self._readout_input(codes), self.readout)

    @torch.no_grad()
    def fit_readout(self, codes: torch.Tensor, target: torch.Tensor) -> None:
        """Move the readout towards the least-squares map from this batch's code vectors to ``target`` [B, D, T]
        (the residual the codes were chosen for): the moments are EMAs at ``usage_decay`` (summed over ranks),
        and the readout follows their solution at the same rate, so it grows from zero over some hundred steps."""
        x = self._readout_input(codes).transpose(1, 2).reshape(-1, self.readout.shape[0])  # [N, d + 1]
        y = target.float().transpose(1, 2).reshape(-1, target.shape[1])  # [N, D]
        moments = torch.cat([x.t() @ x, x.t() @ y], dim=1) / x.shape[0]  # [d + 1, d + 1 + D]
        if _distributed():
            dist.all_reduce(moments)
            moments /= dist.get_world_size()
        d1 = x.shape[1]
        self.readout_xx.lerp_(moments[:, :d1], 1 - self.usage_decay)
        self.readout_xy.lerp_(moments[:, d1:], 1 - self.usage_decay)
        ridge = 1e-4 * self.readout_xx.diagonal().mean().clamp(min=1e-8) * torch.eye(d1, device=x.device)
        solved = torch.linalg.solve(self.readout_xx + ridge, self.readout_xy)
        self.readout.lerp_(solved, 1 - self.usage_decay)

    def forward(self, z: torch.Tensor, bypass: torch.Tensor | None = None) -> QuantizerOutput:
        """[B, D, T] -> quantized [B, D, T], codes [B, 1, T]. ``bypass`` [B] (training): 1.0 where an item is
        given its lookup vector unquantized, ``out_proj(project(z))``, its code still chosen and its losses
        computed."""
        with full_precision(z) as z:
            return self._forward(z, bypass)

    def _forward(self, z: torch.Tensor, bypass: torch.Tensor | None) -> QuantizerOutput:
        z_e = self.project(z)
        codes = self._lookup(z_e)
        z_q = self.embed(codes)
        commit = F.mse_loss(z_e, z_q.detach())
        codebook = F.mse_loss(z_q, z_e.detach())
        counts = torch.bincount(codes.flatten(), minlength=self.size).to(self.usage.dtype)  # [K]
        restarts = 0
        if self.training:
            counts = self._track_usage(counts)
            restarts = self._maybe_restart(z_e)
        step = z_q - z_e
        if bypass is not None:
            step = step * (1 - bypass.to(step.dtype))[:, None, None]
        z_q = z_e + step.detach()  # straight-through (the lookup vector itself where bypassed)
        return QuantizerOutput(
            self.out_proj(z_q), codes.unsqueeze(1), commit, codebook, self._metrics(counts, restarts)
        )

    @staticmethod
    def _metrics(counts: torch.Tensor, restarts: int) -> dict[str, torch.Tensor]:
        """This pass's health, shaped as a one-codebook stack: counts [1, K], restarts [1], perplexity [1]."""
        p = counts / counts.sum().clamp(min=1)
        entropy = -(p * p.clamp(min=1e-30).log()).sum()  # 0 log 0 = 0
        return {
            "counts": counts[None],
            "restarts": torch.tensor([restarts], device=counts.device),
            "perplexity": entropy.exp()[None],
        }

    @torch.no_grad()
    def _track_usage(self, counts: torch.Tensor) -> torch.Tensor:
        """Fold this step's code counts [K] (summed over ranks) into the usage EMA; returns the summed counts."""
        counts = counts.clone()
        if _distributed():
            dist.all_reduce(counts)
        self.usage.mul_(self.usage_decay).add_(counts / counts.sum(), alpha=1 - self.usage_decay)
        return counts

    @torch.no_grad()
    def _maybe_restart(self, z_e: torch.Tensor) -> int:
        """Count a training step; every ``restart_every`` steps restart dead codes. Returns how many."""
        self.steps += 1
        if self.restart_every and int(self.steps) % self.restart_every == 0:
            return self._restart_dead_codes(z_e)
        return 0

    @torch.no_grad()
    def _restart_dead_codes(self, z_e: torch.Tensor) -> int:
        """Move codes whose usage EMA is below threshold onto random latents of ``z_e`` [B, d, T].

        Draws from torch's global generator. Under data parallelism every rank reaches this at the same
        step (``steps`` advances in lockstep) and rank 0's codebook is broadcast, so all ranks agree.
        Returns the number of codes restarted.
        """
        dead = (self.usage < self.restart_threshold / self.size).nonzero().flatten()
        if dead.numel():
            flat = z_e.transpose(1, 2).reshape(-1, z_e.shape[1])  # [B*T, d]
            pick = torch.randint(0, flat.shape[0], (dead.numel(),), device=flat.device)
            # A dead code is moved onto a latent the encoder produces now, so it will be chosen; its usage is
            # reset to the uniform share so it is not restarted again before it has had a chance to be used.
            self.codebook.weight[dead] = flat[pick]
            self.usage[dead] = 1.0 / self.size
        if _distributed():
            dist.broadcast(self.codebook.weight.data, src=0)
            dist.broadcast(self.usage, src=0)
        return int(dead.numel())


class ResidualVQ(Quantizer):
    """A stack of codebooks, each quantizing what the previous ones left (SoundStream's RVQ).

    Trained with quantizer dropout: each item keeps a random number of codebooks, so any prefix of the
    stack is a usable, lower-rate code.

    Args:
        dim: latent width.
        n_codebooks: depth of the stack.
        size: codes per codebook.
        codebook_dim: lookup dimension of each codebook.
        dropout: probability that a training item keeps fewer than all codebooks.
        usage_decay, restart_every, restart_threshold: each codebook's restart settings (:class:`FactorizedVQ`).
        residual_fit: weight of the residual-fit loss (0: off, as in the models trained before it).
        residual_readout: each codebook after the first codes what a linear readout of the codes before it
            leaves of the latent (False: as in the models trained before it).
        readout_from: with ``residual_readout``, the first codebook (0-based) given what the readouts leave;
            the codebooks before it search the latent as without the readout (their codes unchanged), while
            their readouts are fitted all the same (1: every codebook after the first).
        bypass: probability that a training item is given every codebook's lookup vector unquantized (0: off,
            as in the models trained before it; see "Bypass" below).

    Residual fit. Each codebook's lookup is scale-free (a whitened, normalised projection), so nothing
    ties what a stage adds, ``out_proj(code)``, to the residual it was asked to code: measured on the
    first shipped model, every stage's output had 1 % of the residual's norm and a cosine of 0.07 with it,
    so every stage saw the same latent, the stack was a product quantizer of overlapping projections, and
    6 kbps sounded like 1.5. With ``residual_fit > 0`` the stack codes ``z / s`` (``s`` a running RMS of
    the latent, so that the stages' outputs can reach its scale) and adds
    ``residual_fit * sum_i |r_i - out_i|^2 / |r_0|^2`` to the codebook loss: stage i learns to reproduce
    its residual r_i, so r_{i+1} = r_i - out_i shrinks as a residual stack's should.

    Residual readout. The same defect measured on a trained model (``356b68c2``): its 11 bottom stages each
    output 2 % of the residual's norm at cosine about 0, so every stage searched a projection of the same
    latent, and from stage 4 on a stage's projection was 95-100 % predictable (R^2, linear) from the stages
    before it: eight codebooks re-coded what three had coded, which is why extra bits bought almost nothing.
    With ``residual_readout`` each codebook keeps a second, decoder-independent map from its code vector to
    the latent (``FactorizedVQ.readout``, the least-squares fit of the residual it was given, solved from
    running moments, no gradient) and the next codebook is given ``r_{i+1} = r_i - out_i - readout_i``. The
    decoder still reads ``sum_i out_i``, so a model grown with it decodes as before; the readout starts at
    zero (the stack codes as before) and grows into the fit over some hundred steps, so later codebooks are
    moved onto what earlier ones left out gradually, not at once. With ``readout_from = k`` the first k
    codebooks keep searching the plain residual ``r_i = r_{i-1} - out_{i-1}`` (a trained model's low rungs
    keep their codes) while the readout chain runs beside them, and codebook k is the first given
    ``s_k = z - sum_{i<k} (out_i + readout_i)``.

    Bypass (the Moshi paper reports training its codec, Mimi, with quantization on half of the items). The
    decoder is only ever given codes, so the encoder keeps what its quantizer can code: on ``356b68c2`` the
    decoder given each bottom codebook's searched vector in place of its code scores 1.95 PESQ-WB, from the codes
    1.93 (``benchmarks/stage_redundancy.py``), and the latent holds little more of the spectrum than three codebooks
    pass (model card, "Bypass").
    With ``bypass = p`` a share ``p`` of the training items keeps every codebook and is given each one's
    unquantized lookup vector (codes are still chosen, and commitment still pulls the latent to them), so the
    encoder is rewarded for what the decoder can use before it is codable. Eval mode is unchanged, and so is
    the codec's format.
    """

    def __init__(
        self,
        dim: int,
        n_codebooks: int,
        size: int,
        codebook_dim: int,
        dropout: float = 0.5,
        usage_decay: float = 0.99,
        restart_every: int = 50,
        restart_threshold: float = 0.05,
        residual_fit: float = 0.0,
        residual_readout: bool = False,
        readout_from: int = 1,
        bypass: float = 0.0,
    ):
        super().__init__()
        self.dropout, self.residual_fit, self.residual_readout = dropout, residual_fit, residual_readout
        self.bypass = bypass
        self.readout_from = readout_from
        if residual_fit > 0:
            self.register_buffer("scale", torch.zeros(()))  # 0 until the first training batch sets it
        self.codebook_size = size
        self.layers = nn.ModuleList(
            [
                FactorizedVQ(dim, size, codebook_dim, usage_decay, restart_every, restart_threshold, residual_readout)
                for _ in range(n_codebooks)
            ]
        )

    @property
    def n_codebooks(self) -> int:
        return len(self.layers)

    def _keep_mask(self, batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """During training: [B, n_codebooks] 1.0 where an item keeps a codebook, and [B] 1.0 where it is
        bypassed (None without bypass); a bypassed item keeps every codebook."""
        n = torch.full((batch,), self.n_codebooks, device=device)
        if self.training and self.dropout > 0:
            drop = torch.rand(batch, device=device) < self.dropout
            n = torch.where(drop, torch.randint(1, self.n_codebooks + 1, (batch,), device=device), n)
        bypass = None
        if self.training and self.bypass > 0:
            bypass = (torch.rand(batch, device=device) < self.bypass).float()
            n = torch.where(bypass > 0, self.n_codebooks, n)
        return (torch.arange(self.n_codebooks, device=device)[None] < n[:, None]).float(), bypass

    @torch.no_grad()
    def _track_scale(self, z: torch.Tensor) -> None:
        """Running RMS of the latent (EMA 0.99; the first batch sets it), equal on every rank."""
        rms = z.detach().float().pow(2).mean().sqrt()
        if _distributed():
            dist.all_reduce(rms)
            rms /= dist.get_world_size()
        self.scale.copy_(torch.where(self.scale > 0, 0.99 * self.scale + 0.01 * rms, rms))

    def _normalise(self, z: torch.Tensor) -> torch.Tensor:
        """The latent in the units the stack codes: ``z / s`` with residual fit, else ``z``."""
        if self.residual_fit <= 0:
            return z
        if self.training:
            self._track_scale(z)
        return z / torch.where(self.scale > 0, self.scale, torch.ones_like(self.scale))  # 0: never trained

    def forward(self, z: torch.Tensor, n_q: int | None = None) -> QuantizerOutput:
        """[B, D, T] -> quantized [B, D, T], codes [B, n_q, T]; in training, n_q varies per item."""
        n_q = self.n_codebooks if n_q is None else n_q
        keep, bypass = self._keep_mask(z.shape[0], z.device)
        residual = self._normalise(z)
        shadow = residual  # what the readouts leave (the residual itself without a readout)
        quantized, power = torch.zeros_like(residual), residual.detach().pow(2).mean().clamp(min=1e-8)
        codes, commit, codebook, metrics = [], z.new_zeros(()), z.new_zeros(()), []
        for i, layer in enumerate(self.layers[:n_q]):
            given = shadow if self._reads(i) else residual
            out = layer(given, bypass)
            k = keep[:, i, None, None]  # [B, 1, 1]
            quantized = quantized + out.quantized * k
            if self.residual_fit > 0:  # stage i reproduces its residual (see the class docstring)
                fit = (given.detach() - out.quantized).pow(2).mean() / power
                codebook = codebook + self.residual_fit * fit
            # Each codebook codes what the previous ones left; detached, so that a codebook's loss does not
            # pull the codebooks before it (every codebook still gets the input's gradient through k).
            residual = residual - out.quantized.detach()
            shadow = shadow - out.quantized.detach() if self.residual_readout else residual
            if self.residual_readout and i + 1 < len(self.layers):
                if self.training:
                    layer.fit_readout(out.codes[:, 0], shadow)
                # detached as the outputs are: a later codebook's losses must not move this one's code vectors
                shadow = shadow - layer.read(out.codes[:, 0]).detach().to(shadow.dtype)
            codes.append(out.codes)
            commit = commit + out.commit_loss
            codebook = codebook + out.codebook_loss
            metrics.append(out.metrics)
        stacked = {name: torch.cat([m[name] for m in metrics]) for name in metrics[0]}  # [n_q, ...] each
        kept = keep[:, :n_q].sum(1).long()  # [B]
        return QuantizerOutput(quantized, torch.cat(codes, dim=1), commit, codebook, stacked, kept)

    def walk(self, z: torch.Tensor, n_q: int) -> Iterator[tuple[FactorizedVQ, torch.Tensor, torch.Tensor]]:
        """What coding ``z`` [B, D, T] with the first ``n_q`` codebooks does, codebook by codebook: yields each
        codebook, the residual it is given [B, D, T] and the codes it chooses [B, T] (what :meth:`encode`
        returns, and what a benchmark of the stages reads)."""
        residual = shadow = self._normalise(z)
        for i, layer in enumerate(self.layers[:n_q]):
            given = shadow if self._reads(i) else residual
            codes = layer.encode(given)
            yield layer, given, codes
            if i + 1 < n_q:  # what it leaves, for the next codebook
                out = layer.decode(codes)
                residual = residual - out
                shadow = shadow - out - layer.read(codes).to(shadow.dtype) if self.residual_readout else residual

    def _reads(self, i: int) -> bool:
        """Whether codebook ``i`` is given what the readouts leave (else the plain residual)."""
        return self.residual_readout and i >= self.readout_from

    def encode(self, z: torch.Tensor, n_q: int) -> torch.Tensor:
        """[B, D, T] -> [B, n_q, T] codes."""
        return torch.stack([codes for _, _, codes in self.walk(z, n_q)], dim=1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """[B, n_q, T] codes -> [B, D, T]; n_q is any prefix length >= 1."""
        out = None
        for i in range(codes.shape[1]):
            d = self.layers[i].decode(codes[:, i])
            out = d if out is None else out + d
        if out is None:
            raise UserError("decode needs at least one codebook")
        return out


@torch.no_grad()
def sync_whitening(model: nn.Module) -> None:
    """Average every quantizer's whitening statistics over ranks (each rank updated them from its own
    batch). Call after the backward pass: autograd still holds these tensors during it."""
    if not _distributed():
        return
    for module in model.modules():
        if isinstance(module, FactorizedVQ):
            for stat in (module.whiten.running_mean, module.whiten.running_var):
                dist.all_reduce(stat)
                stat /= dist.get_world_size()
