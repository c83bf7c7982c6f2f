"""Tests for vqcodec.nn.quantizer: straight-through gradients, encode/decode vs forward, restarts, dropout."""

from __future__ import annotations

import pytest
import torch

from vqcodec.nn.quantizer import FactorizedVQ, QuantizerOutput, ResidualVQ

DIM, SIZE, CDIM = 12, 16, 4


def _latents(batch: int = 3, frames: int = 25, seed: int = 0) -> torch.Tensor:
    """[B, DIM, T] random latents."""
    return torch.randn(batch, DIM, frames, generator=torch.Generator().manual_seed(seed))


def _fvq(seed: int = 0, **kwargs) -> FactorizedVQ:
    torch.manual_seed(seed)
    return FactorizedVQ(DIM, SIZE, CDIM, **kwargs)


def _rvq(n: int = 4, dropout: float = 0.5, seed: int = 0) -> ResidualVQ:
    torch.manual_seed(seed)
    return ResidualVQ(DIM, n, SIZE, CDIM, dropout=dropout)


# ---------------------------------------------------------------- straight-through gradient


@pytest.mark.parametrize("training", [False, True])
def test_straight_through_gradient_is_exact(training: bool) -> None:
    """d<w, quantized>/dz equals the gradient of out_proj(project(z)): the lookup acts as identity."""
    vq = _fvq().train(training)
    z = _latents().requires_grad_()
    out = vq(z)
    w = torch.randn(out.quantized.shape, generator=torch.Generator().manual_seed(1))
    grad, book_grad = torch.autograd.grad((out.quantized * w).sum(), [z, vq.codebook.weight], allow_unused=True)

    z_ref = z.detach().clone().requires_grad_()
    (grad_ref,) = torch.autograd.grad((vq.out_proj(vq.project(z_ref)) * w).sum(), z_ref)

    assert torch.equal(grad, grad_ref)
    assert grad.abs().sum() > 0
    # The codes enter the forward value but not the gradient: no gradient reaches the codebook this way.
    assert book_grad is None
    # ... and the forward value is the looked-up code, not the identity.
    torch.testing.assert_close(out.quantized.detach(), vq.decode(out.codes[:, 0]), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(out.quantized.detach(), vq.out_proj(vq.project(z)).detach(), atol=1e-3)


def test_residual_straight_through_gradient() -> None:
    """Through a residual stack (eval, all codebooks) the gradient is that of sum_i out_proj_i(project_i(z))."""
    rvq = _rvq(n=3).eval()
    z = _latents().requires_grad_()
    out = rvq(z)
    w = torch.randn(out.quantized.shape, generator=torch.Generator().manual_seed(2))
    (grad,) = torch.autograd.grad((out.quantized * w).sum(), z)

    z_ref = z.detach().clone().requires_grad_()
    ref = sum(layer.out_proj(layer.project(z_ref)) for layer in rvq.layers)
    (grad_ref,) = torch.autograd.grad((ref * w).sum(), z_ref)
    torch.testing.assert_close(grad, grad_ref, rtol=1e-6, atol=1e-7)


def test_readout_passes_no_gradient_to_earlier_codebooks() -> None:
    """With a residual readout, what the decoder is given and the later codebooks' commitment move no earlier
    codebook's vectors (the readout is subtracted detached, as the outputs are)."""
    torch.manual_seed(0)
    rvq = ResidualVQ(DIM, 3, SIZE, CDIM, dropout=0.0, restart_every=0, residual_readout=True).train()
    z = _latents()
    with torch.no_grad():
        for layer in rvq.layers:
            layer.readout.normal_()
    rvq.eval()
    out = rvq(z)
    w = torch.randn(out.quantized.shape, generator=torch.Generator().manual_seed(2))
    books = [layer.codebook.weight for layer in rvq.layers]
    grads = torch.autograd.grad((out.quantized * w).sum() + out.commit_loss, books, allow_unused=True)
    assert all(g is None or (g == 0).all() for g in grads)


def test_codebook_gets_gradient_only_from_codebook_loss_on_used_rows() -> None:
    vq = _fvq().train()
    z = _latents().requires_grad_()
    out = vq(z)
    out.codebook_loss.backward()
    used = torch.zeros(SIZE, dtype=torch.bool)
    used[out.codes.unique()] = True
    row_norm = vq.codebook.weight.grad.abs().sum(dim=1)
    assert (row_norm[used] > 0).all()
    assert (row_norm[~used] == 0).all()
    assert z.grad is None or (z.grad == 0).all()  # the codebook loss does not move the encoder

    vq.zero_grad()
    z.grad = None
    vq(z).commit_loss.backward()
    assert z.grad.abs().sum() > 0  # the commitment loss does
    assert vq.codebook.weight.grad is None or (vq.codebook.weight.grad == 0).all()


# ---------------------------------------------------------------- eval forward vs encode/decode


def test_factorized_forward_equals_decode_encode() -> None:
    vq = _fvq().eval()
    z = _latents()
    with torch.no_grad():
        out = vq(z)
        codes = vq.encode(z)
        torch.testing.assert_close(out.quantized, vq.decode(codes), rtol=1e-5, atol=1e-6)
    assert isinstance(out, QuantizerOutput)
    assert torch.equal(out.codes[:, 0], codes)
    assert out.codes.shape == (3, 1, 25) and out.codes.dtype == torch.int64


@pytest.mark.parametrize("seed", range(3))
def test_residual_forward_equals_decode_encode_for_every_prefix(seed: int) -> None:
    n = 4
    rvq = _rvq(n=n, seed=seed).eval()
    z = _latents(seed=seed)
    with torch.no_grad():
        for n_q in range(1, n + 1):
            out = rvq(z, n_q)
            codes = rvq.encode(z, n_q)
            assert codes.shape == (3, n_q, 25) and codes.dtype == torch.int64
            assert torch.equal(out.codes, codes)
            torch.testing.assert_close(out.quantized, rvq.decode(codes), rtol=1e-5, atol=1e-5)
            # Any prefix of a deeper code decodes like the shallower code.
            torch.testing.assert_close(rvq.decode(rvq.encode(z, n)[:, :n_q]), rvq.decode(codes))


@pytest.mark.parametrize("training", [False, True])
def test_codes_in_range_and_shaped(training: bool) -> None:
    rvq = _rvq(n=3).train(training)
    z = _latents(batch=5, frames=7) * 10
    out = rvq(z)
    assert out.codes.shape == (5, 3, 7) and out.codes.dtype == torch.int64
    assert int(out.codes.min()) >= 0 and int(out.codes.max()) < SIZE
    assert out.quantized.shape == z.shape
    assert out.commit_loss.shape == () and out.codebook_loss.shape == ()
    codes = rvq.encode(z, 2)
    assert codes.shape == (5, 2, 7) and int(codes.min()) >= 0 and int(codes.max()) < SIZE


def test_decode_needs_a_codebook() -> None:
    with pytest.raises(ValueError):
        _rvq().decode(torch.zeros(1, 0, 5, dtype=torch.long))


# ---------------------------------------------------------------- dead-code restart


def test_dead_code_restart_moves_unused_code_onto_a_latent() -> None:
    every = 5
    vq = _fvq(restart_every=every).train()
    z = _latents(batch=2, frames=30)
    dead = 7
    with torch.no_grad():
        vq.codebook.weight[dead] = vq.codebook.weight[3]  # a duplicate: ties go to the lower index, 3
        vq.usage.fill_(1.0 / SIZE)  # every other code counts as live
        vq.usage[dead] = 0.0  # and code 7's usage statistic says it is dead
    assert dead not in vq.encode(z).unique()
    before = vq.codebook.weight.detach().clone()

    for _ in range(every - 1):
        vq(z)
    assert torch.equal(vq.codebook.weight[dead], before[dead])  # no restart before `restart_every` steps
    vq(z)  # the restart step

    new = vq.codebook.weight.detach()[dead]
    latents = vq.project(z).detach().transpose(1, 2).reshape(-1, CDIM)  # [B*T, d]
    assert (latents == new).all(dim=1).any(), "restarted code is not one of the batch's latents"
    assert float(vq.usage[dead]) == pytest.approx(1.0 / SIZE)
    assert dead in vq.encode(z).unique()  # the restarted code is now chosen where it sits
    live = torch.ones(SIZE, dtype=torch.bool)
    live[dead] = False
    assert torch.equal(vq.codebook.weight.detach()[live], before[live])  # live codes untouched


def test_first_restart_initialises_unchosen_codes_from_data() -> None:
    """Usage starts at zero: after ``restart_every`` steps every code the encoder never chose sits on a
    latent of the batch (k-means-like data initialisation), and the chosen ones are left alone."""
    every = 50  # the default: enough steps for the usage EMA to tell chosen codes from the rest
    vq = _fvq(restart_every=every).train()
    z = _latents(batch=2, frames=40)
    chosen = vq.encode(z).unique()
    for _ in range(every):
        vq(z)
    latents = vq.project(z).detach().transpose(1, 2).reshape(-1, CDIM)  # [B*T, d]
    on_latent = (vq.codebook.weight.detach()[:, None] == latents[None]).all(-1).any(-1)  # [K]
    unchosen = torch.ones(SIZE, dtype=torch.bool)
    unchosen[chosen] = False
    assert on_latent[unchosen].all()
    assert not on_latent[chosen].any()


def test_usage_tracks_codes_and_eval_leaves_it_alone() -> None:
    vq = _fvq().eval()
    z = _latents()
    usage = vq.usage.clone()
    vq(z)
    assert torch.equal(vq.usage, usage) and int(vq.steps) == 0
    vq.train()
    codes = vq(z).codes
    counts = torch.bincount(codes.flatten(), minlength=SIZE).float()
    torch.testing.assert_close(vq.usage, 0.99 * usage + 0.01 * counts / counts.sum())
    assert int(vq.steps) == 1


def test_backward_after_restart_step() -> None:
    """A restart rewrites the codebook in place during forward; backward must still work."""
    vq = _fvq(restart_every=1).train()
    with torch.no_grad():
        vq.usage.zero_()
    z = _latents().requires_grad_()
    out = vq(z)
    (out.quantized.sum() + out.codebook_loss + out.commit_loss).backward()
    assert torch.isfinite(z.grad).all() and torch.isfinite(vq.codebook.weight.grad).all()


# ---------------------------------------------------------------- quantizer dropout


def _kept_prefix(rvq: ResidualVQ, z: torch.Tensor, out: QuantizerOutput) -> list[int]:
    """For each item, how many codebooks its training-mode ``quantized`` sums (matched against prefixes)."""
    kept = []
    with torch.no_grad():
        for b in range(z.shape[0]):
            parts = [rvq.layers[i].decode(out.codes[b : b + 1, i]) for i in range(rvq.n_codebooks)]
            sums = torch.cumsum(torch.stack(parts), dim=0)  # [n, 1, D, T]
            match = [
                k + 1
                for k in range(rvq.n_codebooks)
                if torch.allclose(out.quantized[b : b + 1], sums[k], rtol=1e-5, atol=1e-5)
            ]
            assert len(match) == 1, f"item {b} matches prefixes {match}"
            kept.append(match[0])
    return kept


def test_quantizer_dropout_some_items_keep_fewer_codebooks() -> None:
    n = 4
    rvq = _rvq(n=n, dropout=0.5).train()
    z = _latents(batch=16, frames=6)
    torch.manual_seed(123)
    out = rvq(z)
    assert out.codes.shape == (16, n, 6)  # every codebook is still computed
    kept = _kept_prefix(rvq, z, out)
    assert min(kept) < n and max(kept) == n, kept
    assert all(1 <= k <= n for k in kept)
    assert out.kept.tolist() == kept  # what the decoder is told it was given

    twin = _rvq(n=n, dropout=0.5).train()
    torch.manual_seed(123)
    again = twin(z)
    assert torch.equal(again.quantized, out.quantized)  # seeded: reproducible


@pytest.mark.parametrize(("training", "dropout"), [(False, 0.5), (True, 0.0)])
def test_no_dropout_in_eval_or_when_disabled(training: bool, dropout: float) -> None:
    rvq = _rvq(n=4, dropout=dropout).train(training)
    z = _latents(batch=16, frames=6)
    out = rvq(z)
    assert _kept_prefix(rvq, z, out) == [4] * 16 == out.kept.tolist()


def _lookups(rvq: ResidualVQ, z: torch.Tensor, detached: bool = False) -> torch.Tensor:
    """[B, D, T]: the sum of every codebook's lookup vector unquantized, each given what the ones before left
    (``detached``: left as the stack leaves it, without a gradient through the earlier codebooks' outputs)."""
    residual, total = z, torch.zeros_like(z)
    for layer in rvq.layers:
        out = layer.out_proj(layer.project(residual))
        total, residual = total + out, residual - (out.detach() if detached else out)
    return total


def test_bypass_gives_an_item_every_unquantized_lookup() -> None:
    torch.manual_seed(0)
    rvq = ResidualVQ(DIM, 4, SIZE, CDIM, dropout=0.5, bypass=1.0).train()
    z = _latents(batch=8, frames=6)
    out = rvq(z)
    with torch.no_grad():
        continuous = _lookups(rvq, z)  # training mode: the same batch statistics as the pass above
    assert torch.allclose(out.quantized, continuous, atol=1e-5)
    assert out.kept.tolist() == [4] * 8  # a bypassed item keeps every codebook, whatever the dropout
    assert out.commit_loss > 0 and out.codebook_loss > 0  # codes are still chosen, and their losses computed


def test_bypass_leaves_the_other_items_their_codes() -> None:
    torch.manual_seed(0)
    rvq = ResidualVQ(DIM, 4, SIZE, CDIM, dropout=0.0, bypass=0.5).train()
    z = _latents(batch=16, frames=6)
    out = rvq(z)
    coded = [
        b for b in range(16) if torch.allclose(out.quantized[b : b + 1], rvq.decode(out.codes[b : b + 1]), atol=1e-5)
    ]
    assert 0 < len(coded) < 16, coded


def test_bypass_changes_nothing_in_eval() -> None:
    torch.manual_seed(0)
    plain = ResidualVQ(DIM, 4, SIZE, CDIM, dropout=0.5).eval()
    torch.manual_seed(0)
    bypassed = ResidualVQ(DIM, 4, SIZE, CDIM, dropout=0.5, bypass=1.0).eval()
    z = _latents()
    a, b = plain(z), bypassed(z)
    assert torch.equal(a.quantized, b.quantized) and torch.equal(a.codes, b.codes)
    assert torch.allclose(b.quantized, bypassed.decode(b.codes), atol=1e-6)


def test_bypassed_gradient_is_the_lookups() -> None:
    """With every item bypassed, the stack is the continuous map: its gradient is that map's."""
    torch.manual_seed(0)
    rvq = ResidualVQ(DIM, 3, SIZE, CDIM, dropout=0.0, bypass=1.0).train()
    z = _latents().requires_grad_()
    w = torch.randn_like(z)
    (rvq(z).quantized * w).sum().backward()
    got = z.grad.clone()
    z.grad = None
    (_lookups(rvq, z, detached=True) * w).sum().backward()
    assert torch.allclose(got, z.grad, atol=1e-5)


# ---------------------------------------------------------------- gradients in the model


def test_gradients_reach_encoder_and_codebooks(tiny_model) -> None:
    model = tiny_model.train()
    x = torch.randn(2, 1, 160, generator=torch.Generator().manual_seed(0)) * 0.3
    out = model(x)
    (out.audio.pow(2).mean() + out.codebook_loss + 0.1 * out.commit_loss).backward()
    for name, p in model.encoder.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert any(float(p.grad.abs().sum()) > 0 for p in model.encoder.parameters())
    h = model.hierarchy
    for rvq, codes in ((h.top_quantizer, out.top_codes), (h.bottom_quantizer, out.bottom_codes)):
        for i, layer in enumerate(rvq.layers):
            grad = layer.codebook.weight.grad
            assert grad is not None and torch.isfinite(grad).all()
            used = codes[:, i].unique()
            assert (grad[used].abs().sum(dim=1) > 0).all()


# ---------------------------------------------------------------- the quantizer reports its own health


def test_quantizer_reports_counts_restarts_and_perplexity() -> None:
    """A pass reports per codebook the codes it chose, the codes it restarted and their perplexity, so that
    callers log them instead of recounting."""
    every = 3
    torch.manual_seed(0)
    rvq = ResidualVQ(DIM, 2, SIZE, CDIM, dropout=0.0, restart_every=every).train()
    z = _latents(batch=2, frames=30)
    for step in range(1, every + 1):
        out = rvq(z)
        m = out.metrics
        assert m["counts"].shape == (2, SIZE) and m["restarts"].shape == (2,) and m["perplexity"].shape == (2,)
        for j in range(2):
            assert torch.equal(m["counts"][j], torch.bincount(out.codes[:, j].flatten(), minlength=SIZE).float())
            p = m["counts"][j] / m["counts"][j].sum()
            assert float(m["perplexity"][j]) == pytest.approx(float(torch.exp(-(p[p > 0] * p[p > 0].log()).sum())))
        if step < every:
            assert m["restarts"].sum() == 0
    # the restart step reports the codes it moved: those whose usage it reset to 1 / K (usage starts at zero,
    # so after 3 steps no live code is there)
    for j, layer in enumerate(rvq.layers):
        assert int(m["restarts"][j]) == int((layer.usage == 1.0 / SIZE).sum()) > 0
    rvq.eval()
    assert rvq(z).metrics["restarts"].sum() == 0  # eval passes report counts but never restart


def test_residual_fit_makes_each_stage_code_what_is_left() -> None:
    torch.manual_seed(0)
    q = ResidualVQ(16, 4, 32, 4, dropout=0.0, restart_every=0, residual_fit=1.0).train()
    opt = torch.optim.Adam(q.parameters(), 1e-2)
    z = 300 * torch.randn(8, 16, 50)  # the latent's scale must not matter
    for _ in range(300):
        out = q(z)
        opt.zero_grad()
        (out.codebook_loss + out.commit_loss).backward()
        opt.step()
    q.eval()
    with torch.no_grad():
        errors = [float((q.decode(q.encode(z, n)) * q.scale - z).norm() / z.norm()) for n in range(1, 5)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False)) and errors[-1] < 0.7
    assert "scale" not in ResidualVQ(16, 4, 32, 4).state_dict()  # models trained before it still load


def _readout_error(q: ResidualVQ, z: torch.Tensor, n: int) -> float:
    """What the first ``n`` codebooks' outputs and readouts leave of ``z``, relative to ``z``."""
    codes, left = q.encode(z, n), z
    for i, layer in enumerate(q.layers[:n]):
        left = left - layer.decode(codes[:, i]) - layer.read(codes[:, i])
    return float(left.norm() / z.norm())


def test_residual_readout_makes_each_stage_code_what_is_left() -> None:
    torch.manual_seed(0)
    q = ResidualVQ(16, 4, 32, 4, dropout=0.0, restart_every=0, residual_readout=True)
    z = 50 * torch.randn(8, 16, 60, generator=torch.Generator().manual_seed(3))
    plain = ResidualVQ(16, 4, 32, 4, dropout=0.0, restart_every=0)
    plain.load_state_dict(q.state_dict(), strict=False)
    with torch.no_grad():
        assert torch.equal(q.eval().encode(z, 4), plain.eval().encode(z, 4))  # a zero readout codes as before
        q.train()
        for _ in range(400):  # the readout is solved from running moments: no optimiser
            q(z)
        q.eval()
        errors = [_readout_error(q, z, n) for n in range(1, 5)]
        assert all(a > b for a, b in zip(errors, errors[1:], strict=False)) and errors[-1] < 0.8
        assert not torch.equal(q.encode(z, 4)[:, 1:], plain.encode(z, 4)[:, 1:])  # later stages moved
        for n in (1, 3, 4):  # the codec's two halves still agree with the training pass
            out = q(z, n)
            assert torch.equal(out.codes, q.encode(z, n))
            torch.testing.assert_close(q.decode(out.codes), out.quantized, rtol=1e-5, atol=1e-5)
    assert not any("readout" in k for k in plain.state_dict())  # models trained before it still load


def test_readout_from_keeps_the_first_codes_and_reads_after_them() -> None:
    """With ``readout_from = 2`` the first two codebooks code as without a readout, whatever the readouts hold,
    and the third is given what the first two's outputs and readouts leave."""
    torch.manual_seed(0)
    z = 50 * torch.randn(8, 16, 60, generator=torch.Generator().manual_seed(3))
    q = ResidualVQ(16, 4, 32, 4, dropout=0.0, restart_every=0, residual_readout=True, readout_from=2)
    with torch.no_grad():
        q.train()
        for _ in range(400):
            q(z)
        q.eval()
    plain = ResidualVQ(16, 4, 32, 4, dropout=0.0, restart_every=0)
    plain.load_state_dict(q.state_dict(), strict=False)  # the same codebooks and whitening, no readout
    with torch.no_grad():
        codes = q.encode(z, 4)
        assert torch.equal(codes[:, :2], plain.eval().encode(z, 2))
        assert not torch.equal(codes[:, 2:], plain.encode(z, 4)[:, 2:])
        walked = list(q.walk(z, 3))
        left = z
        for i in range(2):
            left = left - q.layers[i].decode(codes[:, i]) - q.layers[i].read(codes[:, i])
        torch.testing.assert_close(walked[2][1], left, rtol=1e-4, atol=1e-4)
        assert _readout_error(q, z, 3) < _readout_error(q, z, 2)
        for n in (1, 2, 4):  # the codec's two halves still agree with the training pass
            out = q(z, n)
            assert torch.equal(out.codes, q.encode(z, n))
