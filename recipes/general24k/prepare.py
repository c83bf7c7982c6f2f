"""Build the general-audio corpus of recipes/general24k from installed Debian packages.

    python recipes/general24k/prepare.py [OUT] [--rate 24000] [--jobs 1] [--permissive-only] [--force]

OUT (default ``../shared-data/general``, beside the repository) receives ``train/SOURCE/*.flac``,
``dev/SOURCE/*.flac``, ``manifest.csv`` (the columns of :data:`vqcodec.io.corpus.COLUMNS`) and
``sources.csv`` (one row per source: package, version, licences, files, minutes, split). Every file is
decoded, resampled to ``--rate`` (ffmpeg's soxr resampler) and written as 16-bit FLAC, one mono file per
channel (``NAME-L.flac``, ``NAME-R.flac``; a stereo file whose channels are equal gives one ``NAME.flac``):
the codec codes each channel alone, and the trainer averages the channels of a stereo file, which is not
what it will be asked to code. Channels quieter than -60 dBFS RMS are left out. Nothing is downloaded:
the packages must be installed (``apt-get install -y`` the ones named in the error).

Licences are read per file: from the package's ``/usr/share/doc/PKG/copyright`` (machine-readable
stanzas; a file counts only if a stanza names its folder, never through a catch-all ``*``), or from the
sound's own tag (OpenSFX). A file is kept when its licence is a named free licence: permissive (CC0, public
domain, CC-BY, MIT, zlib, BSD, Apache) or copyleft (GPL, CC-BY-SA); ``--permissive-only`` keeps the first
kind only. Files with no named licence are left out. The ``dev`` split is one whole package
(supertuxkart-data), never trained on.

Existing output files are kept (a rerun after an interruption converts only what is missing; ``--force``
converts everything again). The script runs at nice 10: the CPU belongs to training.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

COLUMNS = ("path", "split", "source", "speaker", "sex", "lang", "orig_sr", "sr", "duration_s", "license", "frames")
SILENT_DB = -60.0

PERMISSIVE = ("CC0", "CC0-1.0", "public-domain", "CC-BY-3.0", "CC-BY-4.0", "MIT", "zlib", "BSD-3-Clause", "Apache-2.0")
COPYLEFT = ("GPL", "GPL-2", "GPL-2+", "GPL-3", "GPL-3+", "CC-BY-SA", "CC-BY-SA-3.0", "CC-BY-SA-4.0")


def licence_kind(licence: str) -> str:
    """'permissive', 'copyleft' or '' (not a free licence this recipe can name) for a DEP-5 licence
    expression: alternatives joined by ``or`` (the best one counts), terms by ``and`` (all must hold)."""
    best = ""
    for alternative in re.split(r"\s+or\s+", licence.strip(), flags=re.IGNORECASE):
        terms = [t.strip() for t in re.split(r"\s+and\s+", alternative, flags=re.IGNORECASE)]
        if all(t in PERMISSIVE for t in terms):
            return "permissive"
        if all(t in PERMISSIVE + COPYLEFT for t in terms):
            best = "copyleft"
    return best


def dep5_licences(copyright_file: Path, folders: tuple[str, ...]) -> list[tuple[str, str]]:
    """(pattern, licence) of the stanzas of a machine-readable copyright file, in file order, keeping only
    patterns inside one of ``folders`` (so a catch-all ``*`` stanza about code never licenses a sound)."""
    stanzas = re.split(r"\n\s*\n", copyright_file.read_text(encoding="utf-8"))
    out = []
    for stanza in stanzas:
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Files" not in fields or "License" not in fields:
            continue
        licence = fields["License"].splitlines()[0].strip()
        for pattern in fields["Files"].split():
            if any(pattern.startswith(f.rstrip("/") + "/") for f in folders):
                out.append((pattern, licence))
    return out


def dep5_lookup(rules: list[tuple[str, str]], relpath: str) -> str:
    """The licence of the last stanza matching ``relpath`` (the DEP-5 rule), or ''."""
    found = ""
    for pattern, licence in rules:
        if fnmatch.fnmatchcase(relpath, pattern):
            found = licence
    return found


def package_version(package: str) -> str | None:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Status}\t${Version}", package], capture_output=True, text=True, check=True
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    status, _, version = out.partition("\t")
    return version if status.endswith("installed") and not status.endswith("not-installed") else None


@dataclass
class Item:
    """One input sound: where it comes from (a file, or bytes produced by ``load``) and its licence."""

    name: str  # output file stem, unique within the source
    licence: str
    path: Path | None = None
    load: Callable[[], bytes] | None = None
    author: str = ""
    midi: bool = False  # rendered by FluidSynth with the FluidR3 GM sound font


@dataclass
class Source:
    name: str
    package: str
    split: str
    note: str
    items: Callable[[], Iterator[Item]]
    extra_packages: tuple[str, ...] = ()


# --- the sources ------------------------------------------------------------------------------------

WESNOTH = Path("/usr/share/games/wesnoth/1.16/data/core")
STK = Path("/usr/share/games/supertuxkart")
OPENMSX = Path("/usr/share/games/openttd/baseset/openmsx")
OPENSFX = Path("/usr/share/games/openttd/baseset/opensfx/opensfx.cat")
FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
NEXUIZ = Path("/usr/share/games/nexuiz/data/music.pk3")
HYPERROGUE = Path("/usr/share/hyperrogue")
ASC = Path("/usr/share/games/asc/music")
FREEDOOM = (Path("/usr/share/games/doom/freedoom1.wad"), Path("/usr/share/games/doom/freedoom2.wad"))


def _stem(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "__".join(rel.parts))


def wesnoth_music() -> Iterator[Item]:
    for p in sorted((WESNOTH / "music").glob("*.ogg")):
        yield Item(p.stem, "GPL-2+", p)


def wesnoth_sounds() -> Iterator[Item]:
    root = WESNOTH / "sounds"
    for p in sorted(q for q in root.rglob("*") if q.suffix.lower() in (".ogg", ".wav")):
        yield Item(_stem(p, root), "GPL-2+", p)


def supertuxkart() -> Iterator[Item]:
    rules = dep5_licences(Path("/usr/share/doc/supertuxkart-data/copyright"), ("data/music", "data/sfx"))
    for folder in ("music", "sfx"):
        for p in sorted((STK / "data" / folder).glob("*.ogg")):
            if re.search(r"_(fast|f)$", p.stem):  # a faster copy of another track
                continue
            licence = dep5_lookup(rules, f"data/{folder}/{p.name}")
            yield Item(f"{folder}__{p.stem}", licence, p)


def freedesktop() -> Iterator[Item]:
    rules = dep5_licences(Path("/usr/share/doc/sound-theme-freedesktop/copyright"), ("stereo",))
    for p in sorted(FREEDESKTOP.glob("*.oga")):
        yield Item(p.stem, dep5_lookup(rules, f"stereo/{p.name}"), p)


_OPENSFX_LICENCES = {
    "Creative Commons Zero 1.0": "CC0",
    "Creative Commons Attribution 3.0 Unported": "CC-BY-3.0",
    "Creative Commons Attribution 3.0": "CC-BY-3.0",
    "Creative Commons Attribution-ShareAlike 3.0 Unported": "CC-BY-SA-3.0",
}


def opensfx() -> Iterator[Item]:
    """The sounds of OpenTTD's OpenSFX set, from its .cat container: a table of (offset | 1<<31, size)
    pairs, each entry a length-prefixed description (title, author, licence) and a RIFF WAV file."""
    data = OPENSFX.read_bytes()
    count = (struct.unpack_from("<I", data, 0)[0] & 0x7FFFFFFF) // 8
    for i in range(count):
        offset, size = struct.unpack_from("<II", data, 8 * i)
        offset &= 0x7FFFFFFF
        n = data[offset]
        text = data[offset + 1 : offset + 1 + n].rstrip(b"\0").decode("utf-8", "replace")
        wav = data[offset + 1 + n : offset + size]
        if not wav.startswith(b"RIFF"):
            continue  # the set's empty placeholders
        licence = next((v for k, v in _OPENSFX_LICENCES.items() if f"License: {k}" in text), "")
        title = re.match(r'"([^"]*)"', text)
        name = f"{i:02d}_" + re.sub(r"[^A-Za-z0-9]+", "_", title.group(1) if title else "sound").strip("_")[:40]
        yield Item(name, licence, load=lambda wav=wav: wav, author=text)


def openmsx() -> Iterator[Item]:
    """OpenTTD's OpenMSX MIDI music, rendered by FluidSynth with the FluidR3 GM sound font."""
    for p in sorted(OPENMSX.glob("*.mid")):
        yield Item(p.stem, "GPL-2 and MIT", p, midi=True)  # the composition, and the sound font's samples


def freedoom() -> Iterator[Item]:
    """Freedoom's music: the MIDI lumps (``D_*``) of its two WADs (a 12-byte header, then a directory of
    (offset, size, 8-byte name) entries), each tune once, rendered like OpenMSX."""
    seen = set()
    for wad in FREEDOOM:
        data = wad.read_bytes()
        _, count, directory = struct.unpack_from("<4sii", data, 0)
        for i in range(count):
            offset, size, name = struct.unpack_from("<ii8s", data, directory + 16 * i)
            name = name.rstrip(b"\0").decode("ascii", "replace")
            lump = data[offset : offset + size]
            if not name.startswith("D_") or not lump.startswith(b"MThd") or lump in seen:
                continue
            seen.add(lump)
            yield Item(f"{wad.stem}_{name}", "BSD-3-Clause and MIT", load=lambda lump=lump: lump, midi=True)


def nexuiz() -> Iterator[Item]:
    """Nexuiz's music, Ogg Vorbis inside the game's music.pk3 (a zip file)."""
    with zipfile.ZipFile(NEXUIZ) as z:
        names = sorted(n for n in z.namelist() if n.endswith(".ogg"))
    for n in names:
        yield Item(Path(n).stem, "GPL-2+", load=lambda n=n: zipfile.ZipFile(NEXUIZ).read(n))


def hyperrogue() -> Iterator[Item]:
    rules = dep5_licences(Path("/usr/share/doc/hyperrogue-music/copyright"), ("music", "sounds"))
    for folder in ("music", "sounds"):
        for p in sorted((HYPERROGUE / folder).glob("*.ogg")):
            yield Item(f"{folder}__{p.stem}", dep5_lookup(rules, f"{folder}/{p.name}"), p)


def asc() -> Iterator[Item]:
    for p in sorted(ASC.glob("*.mp3")):
        yield Item(p.stem, "GPL-2+", p)


SOURCES = (
    Source("wesnoth-music", "wesnoth-1.16-music", "train", "Ogg Vorbis, orchestral", wesnoth_music),
    Source("wesnoth-sounds", "wesnoth-1.16-data", "train", "Ogg Vorbis / WAV effects", wesnoth_sounds),
    Source(
        "openmsx-fluidr3",
        "openttd-openmsx",
        "train",
        "MIDI rendered by FluidSynth with FluidR3_GM",
        openmsx,
        ("fluid-soundfont-gm", "fluidsynth"),
    ),
    Source(
        "freedoom-fluidr3",
        "freedoom",
        "train",
        "MIDI rendered by FluidSynth with FluidR3_GM",
        freedoom,
        ("fluid-soundfont-gm", "fluidsynth"),
    ),
    Source("nexuiz-music", "nexuiz-music", "train", "Ogg Vorbis, electronic and rock", nexuiz),
    Source("hyperrogue", "hyperrogue-music", "train", "Ogg Vorbis music and effects", hyperrogue),
    Source("asc-music", "asc-music", "train", "MP3, orchestral", asc),
    Source("opensfx", "openttd-opensfx", "train", "WAV effects (licence in each sound's tag)", opensfx),
    Source("freedesktop", "sound-theme-freedesktop", "train", "desktop event sounds", freedesktop),
    Source("supertuxkart", "supertuxkart-data", "dev", "Ogg Vorbis music and effects", supertuxkart),
)


# --- conversion -------------------------------------------------------------------------------------


def decode(item: Item, rate: int, tmp: Path) -> tuple[np.ndarray, int]:
    """The item as float32 ``[frames, channels]`` at ``rate``, and its original sample rate."""
    if item.midi:
        wav, midi = tmp / (item.name + ".wav"), tmp / (item.name + ".mid")
        midi.write_bytes(item.load() if item.load else item.path.read_bytes())
        subprocess.run(
            ["fluidsynth", "-ni", "-q", "-r", str(rate), "-O", "float", "-T", "wav", "-F", str(wav), str(SOUNDFONT)]
            + [str(midi)],
            check=True,
            capture_output=True,
        )
        x, sr = sf.read(str(wav), dtype="float32", always_2d=True)
        wav.unlink()
        midi.unlink()
        peak = float(np.abs(x).max()) if x.size else 0.0
        return (x * (10 ** (-1 / 20) / peak) if peak > 0 else x), rate  # peak at -1 dBFS
    raw = item.load() if item.load else None
    orig = sf.info(io.BytesIO(raw) if raw is not None else str(item.path)).samplerate
    try:
        out = _resample(raw, item.path, rate)
    except subprocess.CalledProcessError:
        # ffmpeg refuses a few Ogg files whose headers libsndfile reads (HyperRogue's): decode them here
        y, sr = sf.read(io.BytesIO(raw) if raw is not None else str(item.path), dtype="float32", always_2d=True)
        wav = io.BytesIO()
        sf.write(wav, y, sr, subtype="FLOAT", format="WAV")
        out = _resample(wav.getvalue(), None, rate)
    x, _ = sf.read(io.BytesIO(out), dtype="float32", always_2d=True)
    return x, orig


def _resample(raw: bytes | None, path: Path | None, rate: int) -> bytes:
    """A float WAV file at ``rate`` (ffmpeg's soxr resampler) from the bytes of an audio file, or a path."""
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", "pipe:0" if raw is not None else str(path)]
        + ["-af", "aresample=resampler=soxr:precision=28", "-ar", str(rate), "-c:a", "pcm_f32le", "-f", "wav"]
        + ["pipe:1"],
        input=raw,
        capture_output=True,
        check=True,
    ).stdout


def channels(x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(suffix, mono signal) per channel worth keeping: one if the channels are equal, none if silent."""
    if x.shape[1] == 1 or np.abs(x - x[:, :1]).max() < 1e-4:
        parts = [("", x[:, 0])]
    elif x.shape[1] == 2:
        parts = [("-L", x[:, 0]), ("-R", x[:, 1])]
    else:
        parts = [(f"-c{i}", x[:, i]) for i in range(x.shape[1])]
    loud = []
    for suffix, y in parts:
        rms_db = 10 * np.log10(np.mean(y.astype(np.float64) ** 2) + 1e-20) if y.size else -200.0
        if rms_db > SILENT_DB:
            loud.append((suffix, y))
    return loud


def convert(source: Source, item: Item, out: Path, rate: int, force: bool, tmp: Path) -> list[dict]:
    folder = out / source.split / source.name
    existing = sorted(folder.glob(f"{item.name}*.flac"))
    existing = [p for p in existing if re.fullmatch(re.escape(item.name) + r"(-L|-R|-c\d+)?", p.stem)]
    done = folder / f".{item.name}.done"
    if force or not done.exists():
        x, orig = decode(item, rate, tmp)
        for p in existing:
            p.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for suffix, y in channels(x):
            target = folder / f"{item.name}{suffix}.flac"
            partial = target.with_name(target.name + ".part")
            sf.write(str(partial), np.clip(y, -1, 1), rate, subtype="PCM_16", format="FLAC")
            os.replace(partial, target)
        done.write_text(f"{orig}\n")
        existing = [p for p in sorted(folder.glob(f"{item.name}*.flac"))]
        existing = [p for p in existing if re.fullmatch(re.escape(item.name) + r"(-L|-R|-c\d+)?", p.stem)]
    orig = int(done.read_text().split()[0])
    rows = []
    for p in existing:
        info = sf.info(str(p))
        rows.append(
            {
                "path": p.relative_to(out).as_posix(),
                "split": source.split,
                "source": source.name,
                "speaker": source.name,
                "orig_sr": orig,
                "sr": info.samplerate,
                "duration_s": f"{info.frames / info.samplerate:.3f}",
                "license": item.licence,
                "frames": info.frames,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    default_out = Path(__file__).resolve().parents[2].parent / "shared-data" / "general"
    p.add_argument("out", nargs="?", type=Path, default=default_out, help=f"output folder (default {default_out})")
    p.add_argument("--rate", type=int, default=24000, help="sample rate of the output files (default 24000)")
    p.add_argument("--jobs", type=int, default=1, help="files converted at once (default 1)")
    p.add_argument("--permissive-only", action="store_true", help="leave out copyleft files (GPL, CC-BY-SA)")
    p.add_argument(
        "--only",
        action="append",
        help="convert only this source (repeatable); the manifest then lists only these sources",
    )
    p.add_argument("--force", action="store_true", help="convert again files already converted")
    args = p.parse_args(argv)
    try:
        os.nice(10)
    except OSError:
        pass
    repo = Path(__file__).resolve().parents[2]
    out = args.out.resolve()
    if out == repo or repo in out.parents:
        p.error(f"{out} is inside the repository: audio is never committed, write it elsewhere")
    for tool in ("ffmpeg", "fluidsynth", "dpkg-query"):
        if shutil.which(tool) is None:
            p.error(f"{tool} is not installed (apt-get install -y {tool.replace('dpkg-query', 'dpkg')})")
    sources = [s for s in SOURCES if not args.only or s.name in args.only]
    versions, missing = {}, []
    for s in sources:
        for pkg in (s.package, *s.extra_packages):
            versions[pkg] = package_version(pkg)
            if versions[pkg] is None:
                missing.append(pkg)
    if missing:
        p.error("not installed: " + " ".join(missing) + f"\n  apt-get update && apt-get install -y {' '.join(missing)}")

    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    summary = []
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for s in sources:
            items, dropped = [], []
            for item in s.items():
                kind = licence_kind(item.licence)
                if kind == "" or (args.permissive_only and kind != "permissive"):
                    dropped.append(item)
                else:
                    items.append(item)
            jobs = [pool.submit(convert, s, it, out, args.rate, args.force, Path(tmp)) for it in items]
            got = [r for j in jobs for r in j.result()]
            rows += got
            minutes = sum(float(r["duration_s"]) for r in got) / 60
            # minutes of the sounds themselves: one channel of each (a stereo track counts once)
            first = [r for r in got if not re.search(r"-(R|c[1-9]\d*)\.flac$", r["path"])]
            track_minutes = sum(float(r["duration_s"]) for r in first) / 60
            licences = sorted({r["license"] for r in got})
            summary.append(
                {
                    "source": s.name,
                    "package": s.package,
                    "version": versions[s.package],
                    "split": s.split,
                    "licences": "; ".join(licences),
                    "inputs": len(items),
                    "left_out": len(dropped),
                    "files": len(got),
                    "minutes": f"{minutes:.1f}",
                    "track_minutes": f"{track_minutes:.1f}",
                    "note": s.note,
                }
            )
            print(
                f"{s.name}: {len(items)} inputs ({len(dropped)} left out for their licence), "
                f"{len(got)} mono files, {minutes:.1f} min ({track_minutes:.1f} min of sound), {s.split}",
                file=sys.stderr,
            )
            for item in dropped:
                print(f"  left out: {item.name} ({item.licence or 'no named licence'})", file=sys.stderr)
    _write_csv(out / "manifest.csv", COLUMNS, rows)
    _write_csv(out / "sources.csv", tuple(summary[0]), summary)
    print("| source | package (version) | split | licences | mono files | minutes (mono files) | minutes (sound) |")
    print("|---|---|---|---|---|---|---|")
    for r in summary:
        print(
            f"| {r['source']} | {r['package']} ({r['version']}) | {r['split']} | {r['licences']} | "
            f"{r['files']} | {r['minutes']} | {r['track_minutes']} |"
        )
    return 0


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    partial = path.with_name(path.name + ".part")
    with open(partial, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in columns})
    os.replace(partial, path)


if __name__ == "__main__":
    sys.exit(main())
