"""The priors: shapes, causality (a code's probability does not change when later codes do), and a
save/load round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vqcodec.errors import UserError
from vqcodec.prior.config import PriorConfig
from vqcodec.prior.model import Prior
from vqcodec.prior.weights import load_prior, round_to_int8, save_prior

SMALL = PriorConfig(codebook_size=16, n_top=2, n_bottom=3, ratio=4, dim=16, layers=2, dropout=0.0)


def _prior(seed: int = 0) -> Prior:
    torch.manual_seed(seed)
    return Prior(SMALL).eval()


def _codes(seed: int, frames: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    top = torch.randint(0, 16, (2, 2, frames), generator=g)
    return top, torch.randint(0, 16, (2, 3, 4 * frames), generator=g)


def test_shapes() -> None:
    prior = _prior()
    top, bottom = _codes(0)
    assert prior.top(top).shape == (2, 2, 6, 16)
    assert prior.bottom(bottom, prior.condition(top, 24)).shape == (2, 3, 24, 16)
    assert prior.bottom(bottom[:, :1], prior.condition(top, 24)).shape == (2, 1, 24, 16)  # a lower rung
    lt, lb = prior.losses(top, bottom)
    assert lt.shape == lb.shape == () and lt > 0 and lb > 0


@pytest.mark.parametrize("level", ["top", "bottom"])
@pytest.mark.parametrize(("j", "t"), [(0, 0), (1, 2), (0, 5), (1, 5)])
def test_a_code_depends_only_on_what_precedes_it(level: str, j: int, t: int) -> None:
    """Changing code [j, t] leaves the logits of every code before it (earlier frames; same frame, codebooks
    up to j) unchanged, and changes the next codebook's or frame's."""
    prior = _prior()
    top, bottom = _codes(1)

    def logits(top: torch.Tensor, bottom: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return prior.top(top) if level == "top" else prior.bottom(bottom, prior.condition(top, bottom.shape[-1]))

    before = logits(top, bottom)
    changed = (top if level == "top" else bottom).clone()
    changed[:, j, t] = (changed[:, j, t] + 7) % 16
    after = logits(changed, bottom) if level == "top" else logits(top, changed)
    torch.testing.assert_close(after[:, :, :t], before[:, :, :t], rtol=0, atol=0)
    torch.testing.assert_close(after[:, : j + 1, t], before[:, : j + 1, t], rtol=0, atol=0)
    later = after[:, j + 1, t] if j + 1 < after.shape[1] else after[:, :, t + 1 :]
    earlier = before[:, j + 1, t] if j + 1 < before.shape[1] else before[:, :, t + 1 :]
    assert later.numel() == 0 or not torch.equal(later, earlier)


def test_bottom_prior_sees_the_top_codes() -> None:
    prior = _prior()
    top, bottom = _codes(2)
    other = (top + 1) % 16
    with torch.no_grad():
        a = prior.bottom(bottom, prior.condition(top, 24))
        b = prior.bottom(bottom, prior.condition(other, 24))
    assert not torch.equal(a, b)


def test_save_load_round_trip(tmp_path: Path) -> None:
    prior = _prior()
    save_prior(prior, tmp_path / "p.safetensors", {"model_hash": "01020304"})
    back, facts = load_prior(tmp_path / "p.safetensors")
    assert facts == {"model_hash": "01020304"} and back.config == SMALL
    top, bottom = _codes(3)
    with torch.no_grad():
        torch.testing.assert_close(back.top(top), prior.top(top), atol=0.05, rtol=0)  # float16 on disk


def test_int8_file_holds_what_the_rounded_prior_computes_in_half_the_bytes(tmp_path: Path) -> None:
    import dataclasses

    torch.manual_seed(0)
    prior = Prior(dataclasses.replace(SMALL, dim=64)).eval()  # wide enough for most bytes to be int8
    save_prior(prior, tmp_path / "half.safetensors", {"model_hash": "01020304"})
    round_to_int8(prior)
    save_prior(prior, tmp_path / "int8.safetensors", {"model_hash": "01020304"}, precision="int8")
    back, _ = load_prior(tmp_path / "int8.safetensors")
    top, _ = _codes(3)
    with torch.no_grad():
        torch.testing.assert_close(back.top(top), prior.top(top), atol=0.02, rtol=0)  # float16 norms only
    sizes = [(tmp_path / f).stat().st_size for f in ("int8.safetensors", "half.safetensors")]
    assert sizes[0] < 0.7 * sizes[1]


def test_int8_prior_with_damaged_scales_is_one_line_naming_the_file(tmp_path: Path) -> None:
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path = tmp_path / "p.safetensors"
    save_prior(_prior(), path, {"model_hash": "01020304"}, precision="int8")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    state = load_file(str(path))
    name = next(k for k in state if k.endswith(".int8_scale"))
    state[name] = state[name][:1]
    save_file(state, str(path), metadata=meta)
    with pytest.raises(UserError, match=r"p\.safetensors: its weights are damaged"):
        load_prior(path)
