"""The README works as written: its Python snippet runs, its commands and those of the docs/ pages leave no
untracked files, its links lead somewhere, and it stays a front page (short, in the issue's order)."""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _blocks(language: str, text: str = README) -> list[str]:
    """A page's fenced code blocks opened with ```language (an empty language: plain blocks)."""
    blocks, current, opened = [], None, None
    for line in text.splitlines():
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
    found = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-o", "--out", "--output", "--html")]
    if argv[:2] == ["vqcodec", "compress"] and "-o" not in argv:
        found.append(str(Path(argv[2]).with_suffix(".vqc")))
    return [f for f in found if not f.startswith(("..", "/"))]


def _tracked(path: str) -> bool:
    """A path git tracks (a command that regenerates a committed file, e.g. a figure, leaves it tracked)."""
    r = subprocess.run(["git", "ls-files", "--error-unmatch", path], cwd=REPO, capture_output=True)
    return r.returncode == 0


def test_readme_and_docs_commands_leave_no_untracked_files() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    commands = [
        line
        for page in PAGES
        for block in _blocks("", page.read_text())
        for line in block.splitlines()
        if line.startswith(("vqcodec ", "python ", "torchrun "))
    ]
    outputs = {out for c in commands for out in _outputs(c)}
    assert {"out.wav", "samples/speech.vqc", "eval_out", "report/", "probe_out/", "tokens/", "listen_clips"} <= outputs
    for out in sorted(outputs):
        probe = str(Path(out) / "x") if out.endswith("/") or "." not in Path(out).name else out
        r = subprocess.run(["git", "check-ignore", "-q", probe], cwd=REPO)
        assert r.returncode == 0 or _tracked(out), f"{out} (written by a documented command) is not in .gitignore"


def test_readme_is_a_front_page() -> None:
    """At most 200 lines, its sections in the order a newcomer needs them, one results table with its command."""
    assert len(README.splitlines()) <= 200
    sections = re.findall(r"^## (.+)$", README, flags=re.M)
    order = ["Install", "Compress", "From Python", "Tokens", "Train", "Test", "Results", "Links"]
    assert [next(s for s in sections if s.startswith(o)) for o in order] == sections
    results = README.split("## Results")[1].split("## Links")[0]
    assert "benchmarks/quality.py" in results and "Codec2" in results and "Opus" in results
    header = "| codec | setting | real kbps | PESQ-WB | STOI | DNSMOS |"
    assert README.count(header) == 1 and header in results
    assert "docs/listen/index.html" in README
    assert "benchmarks/general_quality.py" in results and "docs/listen-general/index.html" in README  # ga24k


def test_links_lead_somewhere() -> None:
    """Every relative link of the README and the docs pages names a file or folder that exists."""
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            assert path.exists(), f"{page.relative_to(REPO)} links {target}, which does not exist"


def test_the_results_table_is_what_its_refresh_command_prints() -> None:
    """``benchmarks/results_table.py`` prints a table whose header is the README's, rows in the same form."""
    spec = importlib.util.spec_from_file_location("results_table", REPO / "benchmarks" / "results_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = {"codec": "vqcodec", "setting": "3.85 kbps (4t+6b)", "real_kbps": 2.91, "pesq_wb": 1.94, "stoi": 0.887}
    result = {"files": 60, "total_seconds": 328.3, "data": "dev", "model_hash": "c677aad2", "rows": [row]}
    lines = module.table(result).splitlines()
    assert lines[2] in README and lines[3] in README
    assert lines[4] == "| vqcodec | 3.85 kbps | 2.91 | 1.940 | 0.887 | n/a |"  # no DNSMOS in this run
    assert re.search(r"^\| vqcodec \| 3\.85 kbps \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| (n/a|[0-9.]+) \|$", README, re.M)
