"""``python -m vqcodec.train`` (what torchrun runs) is ``vqcodec train`` without the CLI: the same arguments and
the same one-line errors (vqcodec.errors.run_main)."""

from __future__ import annotations

import subprocess
import sys


def _train(*argv: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vqcodec.train", *argv], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_a_mistake_is_one_line_and_exit_1(tmp_path) -> None:
    r = _train("recipe.json", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--steps", "0", cwd=tmp_path)
    assert (r.returncode, r.stderr) == (1, "vqcodec: --steps must be at least 1, not 0\n")
    r = _train("recipe.json", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--name", "é", cwd=tmp_path)
    assert (
        r.returncode == 1 and r.stderr.startswith("vqcodec: --name cannot name a model") and r.stderr.count("\n") == 1
    )


def test_a_missing_recipe_names_its_file(tmp_path) -> None:
    r = _train("nowhere.json", "--data", str(tmp_path), "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "nowhere.json" in r.stderr, r.stderr
