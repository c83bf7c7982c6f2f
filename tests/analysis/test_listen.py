"""Tests for vqcodec.analysis.listen (``vqcodec eval DIR --html PAGE``): a page whose every player plays."""

from __future__ import annotations

import html.parser
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import is_png, run_cli, speech_like

from vqcodec.analysis.listen import credits_html, slug

TOOLS = ("opusenc", "opusdec", "c2enc", "c2dec", "sox")


class Page(html.parser.HTMLParser):
    """What a browser would fetch from the page: every <audio>/<source> src, <img> src, and anything fetched
    from elsewhere (a script, a style sheet, an address on the network)."""

    def __init__(self) -> None:
        super().__init__()
        self.audio: list[str] = []
        self.images: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag in ("audio", "source") and a.get("src"):
            self.audio.append(a["src"])
        if tag == "img":
            self.images.append(a["src"])
        remote = any(str(a.get(k, "")).startswith(("http:", "https:", "//")) for k in ("src", "href"))
        if tag in ("script", "link", "iframe", "object") or (remote and tag != "a"):  # a link is not fetched
            self.external.append(f"{tag} {a}")


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text())
    return page


@pytest.fixture(scope="module")
def two_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two short files: a spoken sentence (espeak-ng, when installed) at 22.05 kHz, and synthetic speech."""
    d = tmp_path_factory.mktemp("listen_in")
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(d / "spoken.wav"), "Listen to this."], check=True)
    else:
        sf.write(d / "spoken.wav", speech_like(1.3, 22050, seed=2), 22050)
    sf.write(d / "synthetic.flac", speech_like(1.0, 16000, seed=3), 16000)
    return d


@pytest.fixture(scope="module")
def page_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_file: str, two_files: Path) -> Path:
    for module in ("pesq", "pystoi", "matplotlib"):
        pytest.importorskip(module)
    out = tmp_path_factory.mktemp("listen_out")
    credits = out / "credits.txt"
    credits.write_text("Clips from LibriSpeech (CC BY 4.0), https://www.openslr.org/12\n\nSecond <paragraph>.")
    argv = ["eval", two_files, "-m", tiny_model_file, "-b", "7", "13", "-o", out / "eval"]
    argv += ["--html", out / "page", "--credits", credits]
    argv += ["--reference-codecs"] if all(shutil.which(t) for t in TOOLS) else []
    from vqcodec.cli import main

    assert main([str(a) for a in argv]) == 0
    return out / "page"


def test_every_player_source_exists_and_decodes(page_dir: Path, two_files: Path) -> None:
    page = parse(page_dir / "index.html")
    settings = 1 + 2 + (6 if all(shutil.which(t) for t in TOOLS) else 0)  # reference, two rungs, Opus, Codec2
    assert len(page.audio) == 2 * settings and len(set(page.audio)) == len(page.audio)
    lengths: dict[Path, set[int]] = {}
    for src in page.audio:
        audio, sr = sf.read(page_dir / src, dtype="float32")
        assert sr == 16000 and audio.ndim == 1 and np.abs(audio).max() > 0.01, src
        lengths.setdefault(Path(src).parent, set()).add(len(audio))
    assert all(len(n) == 1 for n in lengths.values())  # every signal of a file as long as its reference
    seconds = sorted(round(sf.info(f).duration, 2) for f in two_files.iterdir())
    assert sorted(round(min(n) / 16000, 2) for n in lengths.values()) == seconds


def test_page_is_self_contained_with_spectrograms_numbers_and_credits(page_dir: Path) -> None:
    page = parse(page_dir / "index.html")
    text = (page_dir / "index.html").read_text()
    assert page.external == [] and '<a href="https://www.openslr.org/12">' in text
    assert len(page.images) == 2 and all(is_png(page_dir / src) for src in page.images)
    assert "spoken.wav" in text and "synthetic.flac" in text
    assert text.count("real kbps") >= 3 and "PESQ-WB" in text and "vqcodec 12.8 kbps (2t+3b)" in text
    assert "LibriSpeech (CC BY 4.0)" in text and "&lt;paragraph&gt;" in text
    assert "--html" in text and "--credits" in text  # the command that made it


def test_credits_are_escaped_and_linked() -> None:
    out = credits_html('a <b> & "c" https://example.org/x.\n\nnext\nline')
    assert (
        out
        == '<p>a &lt;b&gt; &amp; &quot;c&quot; <a href="https://example.org/x">https://example.org/x</a>.</p><p>next<br>line</p>'
    )


def test_slug_is_a_safe_file_name() -> None:
    assert slug("vqcodec 2.85 kbps (4t+4b)") == "vqcodec-2.85-kbps-4t-4b"
    assert slug("../..") == "x" and "/" not in slug("a/b")


def test_credits_without_html_is_one_line(tmp_path: Path, capsys, tiny_model_file: str, two_files: Path) -> None:
    pytest.importorskip("pesq")
    pytest.importorskip("matplotlib")
    code, _, err = run_cli(capsys, "eval", two_files, "-m", tiny_model_file, "--credits", "x.txt", "-o", tmp_path)
    assert code == 1 and err == "vqcodec: --credits goes with --html\n"


def test_the_committed_listening_page_plays_credits_its_clips_and_stays_small() -> None:
    page_dir = Path(__file__).resolve().parents[2] / "docs" / "listen"
    page = parse(page_dir / "index.html")
    text = (page_dir / "index.html").read_text()
    assert page.external == [] and len(page.audio) >= 3 * 9  # 3 clips or more, reference + 3 rungs + 6 others
    for src in page.audio:
        assert len(sf.read(page_dir / src, dtype="float32")[0]) > 16000, src
    assert all(is_png(page_dir / src) for src in page.images)
    assert sum((page_dir / src).stat().st_size for src in page.audio) <= 2_000_000
    assert "CC BY 4.0" in text and "public domain" in text and "RAVDESS" not in text


def test_the_committed_general_listening_page_plays_at_24_khz_credits_its_clips_and_stays_small() -> None:
    page_dir = Path(__file__).resolve().parents[2] / "docs" / "listen-general"
    page = parse(page_dir / "index.html")
    text = (page_dir / "index.html").read_text()
    assert page.external == [] and len(page.audio) >= 4 * 5  # 4 clips: reference, 2 rungs, Opus 6 and 12
    for src in page.audio:
        assert sf.info(page_dir / src).samplerate == 24000, src
    assert all(is_png(page_dir / src) for src in page.images)
    assert sum((page_dir / src).stat().st_size for src in page.audio) <= 2_500_000
    assert "ga24k" in text and "ViSQOL" in text and "CC BY-SA 3.0" in text and "Krobonil" in text
