"""The README works as written: its Python snippet runs, and its commands leave no untracked files."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    """The README's fenced code blocks opened with ```language (an empty language: plain blocks)."""
    blocks, current, opened = [], None, None
    for line in README.splitlines():
        if line.startswith("```") and current is None:
            current, opened = [], line[3:].strip()
        elif line.startswith("```"):
            if opened == language:
                blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_python_snippet_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    [snippet] = _blocks("python")
    monkeypatch.chdir(REPO)
    scope: dict = {}
    exec(compile(snippet, "README.md", "exec"), scope)
    wav, codes = scope["wav"], scope["codes"]
    assert codes.channels == 1 and codes.sample_rate == scope["sr"]
    assert scope["wav2"].shape[-1] == wav.shape[-1] and scope["sr3"] == scope["sr"]
    assert [c.num_samples for c in scope["many"]] == [wav.shape[-1], scope["sr"] // 2]


def _outputs(command: str) -> list[str]:
    """Paths inside the repository that a README command writes."""
    argv = shlex.split(command.split("#")[0])
    found = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-o", "--out", "--output")]
    if argv[:2] == ["vqcodec", "compress"] and "-o" not in argv:
        found.append(str(Path(argv[2]).with_suffix(".vqc")))
    return [f for f in found if not f.startswith(("..", "/"))]


def test_readme_commands_leave_no_untracked_files() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    commands = [
        line
        for block in _blocks("")
        for line in block.splitlines()
        if line.startswith(("vqcodec ", "python ", "torchrun "))
    ]
    outputs = {out for c in commands for out in _outputs(c)}
    assert {"out.wav", "samples/speech.vqc", "eval_out", "report/", "probe_out/", "tokens/"} <= outputs
    for out in sorted(outputs):
        probe = str(Path(out) / "x") if out.endswith("/") or "." not in Path(out).name else out
        r = subprocess.run(["git", "check-ignore", "-q", probe], cwd=REPO)
        assert r.returncode == 0, f"{out} (written by a README command) is not in .gitignore"
