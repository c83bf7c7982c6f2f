"""Short clips of a few general-audio dev files, and their credits, for the listening page ``docs/listen-general/``.

    python benchmarks/listen_clips_general.py ../shared-data/general -o listen_general_clips
    vqcodec eval listen_general_clips -m ga24k --reference-codecs -b 3 7.5 -o listen_general_out \
        --html docs/listen-general --credits listen_general_clips/credits.txt

Each clip is the middle ``--seconds`` of one file of ``CLIPS`` (all of it when shorter), mono at 24 kHz, with
10 ms fades, written as 16-bit FLAC. The files are supertuxkart-data's (the general model's dev source, never
trained on), chosen among those under CC BY-SA or CC0: three pieces of music and one effect. Each clip's
authors, licence and notes are read from the package's machine-readable copyright file into ``credits.txt``,
which the page shows (CC BY-SA asks for them).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf

from vqcodec.analysis.general import excerpt

RATE = 24000
COPYRIGHT = Path("/usr/share/doc/supertuxkart-data/copyright")
# (file of the corpus, the package file it was made from)
CLIPS = (
    ("dev/supertuxkart/music__Snowy-L.flac", "data/music/Snowy.ogg"),
    ("dev/supertuxkart/music__celtic-L.flac", "data/music/celtic.ogg"),
    ("dev/supertuxkart/music__kart_grand_prix-L.flac", "data/music/kart_grand_prix.ogg"),
    ("dev/supertuxkart/sfx__boing.flac", "data/sfx/boing.ogg"),
)
HEADER = (
    "Clips: a few seconds of four files of supertuxkart-data (Debian package 1.4+dfsg-2; "
    "https://supertuxkart.net), the general model's dev source, which it never trained on; the left channel "
    "of stereo music, resampled to 24 kHz. Licences: CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/) "
    "and CC0. Cut and decoded; the decodings are shared under the same terms."
)


def stanzas(text: str) -> list[dict[str, str]]:
    """A DEP-5 copyright file's paragraphs as field -> value (continuation lines joined)."""
    out, cur, key = [], {}, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            out, cur, key = (out + [cur] if cur else out), {}, None
        elif line[0] in " \t" and key:
            cur[key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            cur[key] = value.strip()
    return out


def credit(package_file: str, paragraphs: list[dict[str, str]]) -> str:
    """``package_file``'s authors, licence and comment from the last paragraph that names it."""
    found = [p for p in paragraphs if package_file in p.get("Files", "").split()]
    if not found:
        raise SystemExit(f"{COPYRIGHT}: no paragraph names {package_file}")
    p = found[-1]
    words = [f"{package_file}: {p.get('Copyright', '?')}; licence {p.get('License', '?').split()[0]}"]
    return ". ".join(words + ([p["Comment"]] if p.get("Comment") else [])) + "."


def cut(path: Path, seconds: float) -> np.ndarray:
    """The middle ``seconds`` of ``path`` at 24 kHz, mono, with 10 ms fades in and out."""
    x = excerpt(path, RATE, seconds).astype(np.float32)
    fade = np.linspace(0, 1, int(0.01 * RATE), dtype=np.float32)
    x[: len(fade)] *= fade
    x[len(x) - len(fade) :] *= fade[::-1]
    return x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="the general corpus (recipes/general24k/prepare.py's folder)")
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=4.0)
    args = ap.parse_args()
    paragraphs = stanzas(COPYRIGHT.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    lines = [HEADER, ""]
    for i, (name, package_file) in enumerate(CLIPS, 1):
        x = cut(args.data / name, args.seconds)
        target = args.out / f"{i}_{Path(name).stem}.flac"
        sf.write(target, x, RATE, subtype="PCM_16", format="FLAC")
        lines.append(f"{i}. {credit(package_file, paragraphs)}")
        print(f"{target}: {len(x) / RATE:.1f} s")
    (args.out / "credits.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
