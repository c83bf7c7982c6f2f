"""Tests for recipes/gpu_subset.py: the parts a corpus travels to a GPU machine in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import load_recipe_script

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.fixture(scope="module")
def subset():
    yield from load_recipe_script(RECIPES / "gpu_subset.py", "recipes_gpu_subset")


def _corpus(root: Path) -> None:
    """A tiny corpus as prepare.py writes it: two long music sources, one of short effects, and dev."""
    rng = np.random.default_rng(0)
    rows = []
    for split, source, n, seconds in [
        ("train", "big", 3, 40.0),
        ("train", "small", 2, 12.0),
        ("train", "sfx", 6, 0.5),
        ("dev", "stk", 2, 20.0),
    ]:
        for i in range(n):
            path = Path(split) / source / f"{source}{i}.flac"
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            x = (0.1 * rng.standard_normal(int(seconds * 8000))).astype(np.float32)
            sf.write(root / path, x, 8000, subtype="PCM_16")
            rows.append(f"{path},{split},{source},{source},,,8000,8000,{seconds},CC0,{len(x)}")
    (root / "manifest.csv").write_text(
        "path,split,source,speaker,sex,lang,orig_sr,sr,duration_s,license,frames\n" + "\n".join(rows) + "\n"
    )


def test_a_gpu_subset_fills_balanced_parts_under_their_cap(subset, tmp_path) -> None:
    _corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    out.mkdir()
    cap = 0.3  # MiB per part: the corpus does not fit in two
    rows = subset.write_subset(tmp_path / "corpus", out, 2, cap, 4.0, 2)
    for part in ("part1", "part2"):
        assert 0 < sum(f.stat().st_size for f in (out / part).rglob("*.flac")) <= cap * subset.MIB
    listed = {r["path"] for r in rows}
    assert listed == {str(f.relative_to(out)) for f in out.rglob("*.flac")}  # the manifest is what was written
    dev = [r for r in rows if r["split"] == "dev"]
    assert len(dev) == 2 and all(r["path"].startswith("part1/stk/") for r in dev)
    part1 = [r for r in rows if r["path"].startswith("part1/") and r["split"] == "train"]
    assert {r["source"] for r in part1} == {"big", "small", "sfx"}  # each part a sample of every source
    big = [r for r in rows if r["source"] == "big"]
    assert len({r["path"].split("/")[-1].rsplit("-", 1)[0] for r in big[:3]}) == 3  # every file before a second
    assert all(float(r["duration_s"]) <= 4.0 for r in rows)
    again = tmp_path / "again"
    again.mkdir()
    assert subset.write_subset(tmp_path / "corpus", again, 2, cap, 4.0, 2) == rows  # deterministic


def test_a_speech_manifest_without_frames_travels_in_its_own_proportions(subset, tmp_path) -> None:
    """The speech corpus's manifest has no ``frames`` column, and ``minutes`` shares keep its mix: whole files
    (shorter than the excerpt), each source's share of the seconds its share of the corpus."""
    corpus = tmp_path / "speech"
    rng = np.random.default_rng(1)
    rows = []
    for source, n, seconds in [("read", 8, 3.0), ("prompts", 8, 1.0)]:
        for i in range(n):
            path = Path("train") / source / f"{i}.flac"
            (corpus / path).parent.mkdir(parents=True, exist_ok=True)
            sf.write(corpus / path, (0.1 * rng.standard_normal(int(seconds * 8000))).astype(np.float32), 8000)
            rows.append(f"{path},train,{source},s{i},F,en,8000,8000,{seconds},CC0")
    (corpus / "manifest.csv").write_text(
        "path,split,source,speaker,sex,lang,orig_sr,sr,duration_s,license\n" + "\n".join(rows) + "\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    written = subset.write_subset(corpus, out, 2, 0.15, 30.0, 0, "minutes")  # 157 kB a part: not all fit
    assert 4 < len(written) < 16 and all(r["split"] == "train" for r in written)
    seconds = {s: sum(float(r["duration_s"]) for r in written if r["source"] == s) for s in ("read", "prompts")}
    assert seconds["read"] / sum(seconds.values()) == pytest.approx(0.75, abs=0.1)  # 24 of the corpus's 32 s
    assert all(int(r["frames"]) in (8000, 24000) for r in written)  # whole files, frames from the headers
    for r in written:
        assert sf.info(str(out / r["path"])).frames == int(r["frames"])
