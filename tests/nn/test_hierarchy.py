"""Tests for vqcodec.nn.hierarchy: a level holds any quantizer of the one interface, and the bottom level is
conditioned on the decoded top codes."""

from __future__ import annotations

import torch
from conftest import TINY, make_model

from vqcodec.nn.hierarchy import Hierarchy
from vqcodec.nn.quantizer import Quantizer, QuantizerOutput


class SignQuantizer(Quantizer):
    """A toy quantizer of the shared interface: one 2-code codebook, the sign of the first channel."""

    n_codebooks, codebook_size = 1, 2

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def encode(self, z: torch.Tensor, n_q: int) -> torch.Tensor:
        return (z[:, :1] > 0).long()  # [B, 1, T]

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return (2.0 * codes[:, 0, None] - 1).expand(-1, self.dim, -1)  # [B, D, T]

    def forward(self, z: torch.Tensor, n_q: int | None = None) -> QuantizerOutput:
        codes = self.encode(z, 1)
        zero = z.new_zeros(())
        counts = torch.stack([(codes == 0).sum(), (codes == 1).sum()]).float()[None]
        metrics = {"counts": counts, "restarts": torch.zeros(1), "perplexity": torch.ones(1)}
        return QuantizerOutput(self.decode(codes), codes, zero, zero, metrics)


@torch.no_grad()
def test_a_level_takes_any_quantizer_of_the_interface() -> None:
    base = make_model(TINY).hierarchy
    h = Hierarchy(
        base.top_encoder, SignQuantizer(TINY.latent_dim), base.top_decoder, base.bottom_quantizer, TINY.latent_dim
    ).eval()
    latents = torch.randn(2, TINY.latent_dim, 8)  # [B, D, T_b]: 4 top frames of 2 bottom frames
    out = h(latents)
    top, bottom = h.encode(latents, 1, TINY.n_bottom)
    assert top.shape == (2, 1, 4) and set(top.unique().tolist()) <= {0, 1} and torch.equal(top, out.top_codes)
    assert torch.equal(bottom, out.bottom_codes)
    q_bottom, decoded_top = h.decode(top, bottom)
    torch.testing.assert_close(q_bottom, out.bottom, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(decoded_top, out.top)
    assert out.metrics["top"]["counts"].sum() == 8 and out.metrics["bottom"]["counts"].shape == (TINY.n_bottom, 16)


@torch.no_grad()
def test_quantizer_inputs_are_what_encode_codes() -> None:
    """The public view of each level's quantizer input: coding it gives encode()'s codes, at any top prefix."""
    model = make_model(TINY)
    h = model.hierarchy
    latents = model.encoder(0.3 * torch.randn(2, 1, 4 * TINY.top_hop, generator=torch.Generator().manual_seed(1)))
    for n_top in range(1, TINY.n_top + 1):
        z_top, z_bottom = h.quantizer_inputs(latents, n_top)
        top_codes, bottom_codes = h.encode(latents, n_top, TINY.n_bottom)
        assert z_top.shape[-1] * TINY.top_strides[0] == z_bottom.shape[-1] == latents.shape[-1]
        assert torch.equal(h.top_quantizer.encode(z_top, n_top), top_codes)
        assert torch.equal(h.bottom_quantizer.encode(z_bottom, TINY.n_bottom), bottom_codes)
