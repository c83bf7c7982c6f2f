"""How far a model looks: the context, in top frames, a window needs so that coding it equals coding the whole.

Measured, not declared: a gradient probe through a model of the same config, in eval mode, finds which
input positions reach the outputs of one top frame in the middle of a long enough probe signal. The
quantizers pass gradients straight through, so the codes' dependence on the signal is the probe's. A
head's excitation phase is detached (a running integral of F0, seeded by the window's offset, not by its
samples), so it is not counted. The reach is a property of the architecture, not of the weights: it is
measured once per config, on freshly initialised weights, without touching torch's global random state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import torch

from vqcodec.nn.config import ModelConfig
from vqcodec.nn.model import VQCodecModel

# Top frames on each side of the probed frame, doubled until the reach fits inside (12 fits the default
# model's reach of 11 in one probe).
_FIRST_PROBE = 12


def context_frames(config: ModelConfig) -> int:
    """Top frames of context, on each side of a window, that make windowed encoding and decoding exact."""
    return _context_frames(config)


@lru_cache(maxsize=16)
def _context_frames(config: ModelConfig) -> int:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = VQCodecModel.from_config(config).eval().requires_grad_(False)
        return max(encode_reach(model), decode_reach(model))


def encode_reach(model: VQCodecModel) -> int:
    """Top frames on either side of a top frame whose samples can change that frame's codes (both levels)."""
    hop = model.config.top_hop

    def probe(side: int) -> torch.Tensor:
        wav = torch.randn(1, 1, (2 * side + 1) * hop, requires_grad=True)  # [B, 1, T]
        h = model.hierarchy(model.encoder(wav))
        r = h.bottom.shape[-1] // (2 * side + 1)  # bottom frames per top frame
        middle = slice(side * r, (side + 1) * r)
        (h.bottom[..., middle].sum() + h.top[..., middle].sum()).backward()
        return wav.grad[0, 0]  # [T]

    return _reach(probe, hop)


def decode_reach(model: VQCodecModel) -> int:
    """Top frames on either side of a top frame whose codes (either level) can change its samples."""
    c = model.config
    ratio = c.top_hop // c.hop

    def probe(side: int) -> torch.Tensor:
        n = 2 * side + 1
        top = torch.randn(1, c.latent_dim, n, requires_grad=True)  # [B, D, T_t] quantized top
        bottom = torch.randn(1, c.latent_dim, n * ratio, requires_grad=True)  # [B, D, T_b] quantized bottom
        kept = torch.full((1,), c.n_bottom, dtype=torch.long)  # every bottom codebook given
        audio = model.decoder(bottom, model.hierarchy.top_decoder(top), kept=kept).audio  # [B, n * top_hop]
        audio[:, side * c.top_hop : (side + 1) * c.top_hop].sum().backward()
        return top.grad.abs().sum(1)[0] + bottom.grad.abs().sum(1)[0].view(n, ratio).sum(1)  # [T_t]

    return _reach(probe, 1)


def _reach(probe: Callable[[int], torch.Tensor], unit: int) -> int:
    """Frames from the middle frame to the furthest position with a non-zero gradient.

    ``probe(side)`` runs a probe of ``side`` frames either side of the middle one and returns the gradient
    per position (``unit`` positions per top frame); ``side`` doubles until no gradient reaches an end.
    """
    side = _FIRST_PROBE
    with torch.enable_grad():
        while True:
            grad = probe(side)
            hit = grad.abs().nonzero().flatten()
            if not hit.numel():  # nothing reaches the middle frame: it needs no context
                return 0
            lo, hi = int(hit.min()), int(hit.max())
            if lo > 0 and hi < grad.numel() - 1:
                first, last = side * unit, (side + 1) * unit - 1  # the middle frame's positions
                return max(math.ceil((first - lo) / unit), math.ceil((hi - last) / unit), 0)
            side *= 2
