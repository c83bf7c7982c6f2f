"""Build the speech-extra corpus: more real speakers for the 16 kHz speech model, from public repositories.

    python recipes/speech-extra/prepare.py [OUT] [--mirrors DIR] [--speech DIR]

Nothing is downloaded. Each source is a repository snapshot already on this machine as a bare git
directory, ``MIRRORS/OWNER+NAME/repo`` (what the ``fetch`` tool brings; default ``../.mirror`` beside the
repository), read at the commit pinned in :data:`SOURCES` (the script stops if that commit is missing).

OUT (default ``../shared-data/speech-extra``) receives:

- ``train/SOURCE/SPEAKER[_NN].flac``: 16 kHz mono 16-bit FLAC, one speaker per file. The sources are
  clips of about one second (Speech Commands) or one sentence (VCTK); each speaker's clips are joined in
  the order of their names, with a 10 ms fade out and in at every join, into files of at most
  :data:`MAX_FILE_S` seconds: the trainer drops files shorter than its segment (0.96 s, and 1.92 s for
  the 24-frame recipes), so one-second clips would be lost on their own.
- ``manifest.csv``: the columns of ``../shared/speech/manifest.csv`` plus ``frames`` (split ``train``).
- ``clips.csv``: where every second of every file comes from (repository, commit, path, offset).
- ``sources.csv``: one row per source (repository, commit, folder, licence, files, clips, minutes,
  speakers, language).
- ``combined.csv`` (when ``--speech`` has a manifest): this corpus's rows plus the ``train`` and ``dev``
  rows of ``../shared/speech`` (paths relative to OUT, so both roots are read), for
  ``vqcodec train RECIPE --data OUT/combined.csv``.

What is kept: only the sources listed here, only audio whose licence is in :data:`ALLOWED_LICENCES`
(the recordings' own licence, not the repository's code licence), only real recordings (voice-conversion
outputs beside them are left out by name), never a speaker of the dev set (:func:`dev_conflict`), never
a clip twice (same corpus id or the same samples), never a clip with more than 1 % of its samples at
full scale (clipped) or quieter than -50 dBFS RMS. See README.md for the sources and what was left out.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000
MAX_FILE_S = 30.0
FADE_S = 0.010
CLIPPED_FRACTION = 0.01
QUIET_DB = -50.0
COLUMNS = ("path", "split", "source", "speaker", "sex", "lang", "orig_sr", "sr", "duration_s", "license", "frames")

# Licences the shipped weights may be trained on (SPDX-like ids).
ALLOWED_LICENCES = frozenset(
    {"CC0-1.0", "public-domain", "CC-BY-3.0", "CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0"}
    | {"MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0"}
)
# Corpora never used here: the dev set is drawn from them (RAVDESS is non-commercial as well), the probe set
# is FSDD, TIMIT's licence does not allow it.
EXCLUDED_CORPORA = frozenset({"ravdess", "resemblyzer", "fsdd", "timit"})


@dataclass(frozen=True)
class Clip:
    """One recording found in a source: its speaker, sex ('' if unknown) and corpus id (for dedup)."""

    path: str
    speaker: str
    sex: str
    key: str


@dataclass(frozen=True)
class Source:
    name: str
    repo: str
    commit: str
    root: str  # folder inside the repository
    corpus: str  # the corpus the recordings belong to (what the dev-overlap rule looks at)
    licence: str  # SPDX-like id of the recordings' licence
    attribution: str  # the manifest's licence column
    lang: str
    parse: Callable[[str], Clip | None]  # path relative to root -> Clip, or None to leave it out


_SC = re.compile(r"^(?P<word>[a-z_]+)/(?:(?P<uword>[a-z]+)_)?(?P<spk>[0-9a-f]{8})_nohash_(?P<n>\d+)\.wav(?:\.wav)?$")


def parse_speech_commands(rel: str) -> Clip | None:
    """``WORD/HASH_nohash_N.wav`` (the test set's ``_unknown_/WORD_HASH_nohash_N.wav.wav`` too); HASH is
    the speaker. ``_silence_`` and ``_background_noise_`` are noise, not speech: left out."""
    m = _SC.match(rel)
    if not m or m["word"] in ("_silence_", "_background_noise_"):
        return None
    word = m["uword"] if m["word"] == "_unknown_" else m["word"]
    if not word or word.startswith("_"):
        return None
    return Clip(rel, m["spk"], "", f"{word}/{m['spk']}_nohash_{m['n']}")


_SG = re.compile(
    r"^(?:Seen|Unseen)/(?P<s>[FM])2(?P<t>[FM])/(?P<src>p\d{3})x(?P<tgt>p\d{3})/(?P<role>source|target)\.wav$"
)


def parse_starganv2_vctk(rel: str) -> Clip | None:
    """``Seen|Unseen/F2M/pSSSxpTTT/source.wav`` and ``target.wav``: the VCTK recordings a conversion was
    made from and towards (the folder names the speakers and their sexes). Converted outputs (starganv2,
    autovc, converted.wav) are synthesized, and the cross-lingual folder's sources are not VCTK: left out."""
    m = _SG.match(rel)
    if not m:
        return None
    speaker, sex = (m["src"], m["s"]) if m["role"] == "source" else (m["tgt"], m["t"])
    return Clip(rel, speaker, sex, f"{rel}")


# Sexes of the VCTK speakers used here, from the corpus's speaker-info.txt.
VCTK_SEX = {
    **dict.fromkeys("p225 p228 p229 p230 p231 p233 p236 p244 p267 p280".split(), "F"),
    **dict.fromkeys("p226 p227 p232 p243 p254 p258 p259 p273 p286 p287 p334".split(), "M"),
}
_VCTK = re.compile(r"(?:^|/)(?P<spk>p\d{3})_(?P<utt>\d{3})(?:_mic\d)?\.(?:wav|flac)$")


def parse_vctk(rel: str) -> Clip | None:
    """A file named with its VCTK id, ``[pSSS/]pSSS_UUU[_micN].wav``: the speaker and utterance."""
    m = _VCTK.search(rel)
    if not m:
        return None
    return Clip(rel, m["spk"], VCTK_SEX.get(m["spk"], ""), f"{m['spk']}_{m['utt']}")


VCTK_ATTRIBUTION = "CC-BY-4.0 (CSTR VCTK Corpus, Yamagishi et al., University of Edinburgh)"

SOURCES = (
    Source(
        "speech_commands_v2_test",
        "thegtagamer/PICO-tinyML-benchmark",
        "c66f6b0d78fe9218f6de9d07189691cfae077bee",
        "MLTK_keyworkSpotting/dataset",
        "speechcommands",
        "CC-BY-4.0",
        "CC-BY-4.0 (Speech Commands v0.02 test set, P. Warden, Google, 2018)",
        "en",
        parse_speech_commands,
    ),
    Source(
        "speech_commands_v1_sample",
        "vinsis/speech-commands-recognition",
        "53317d51bc2c75de6118ede48b0da06a412a1341",
        "speech_commands_v0.01",
        "speechcommands",
        "CC-BY-4.0",
        "CC-BY-4.0 (Speech Commands v0.01, P. Warden, Google, 2017)",
        "en",
        parse_speech_commands,
    ),
    Source(  # 48 kHz originals first: a VCTK id met again later is left out
        "vctk_starganv2_vc",
        "yl4579/StarGANv2-VC",
        "985df557acad47131587955bfe13ea9b99168f71",
        "Demo/VCTK-corpus",
        "vctk",
        "CC-BY-4.0",
        VCTK_ATTRIBUTION,
        "en",
        parse_vctk,
    ),
    Source(
        "vctk_autovc",
        "auspicious3000/autovc",
        "c1827a60e83e6d26030b8953843b2f7cf2bd36db",
        "wavs",
        "vctk",
        "CC-BY-4.0",
        VCTK_ATTRIBUTION,
        "en",
        parse_vctk,
    ),
    Source(
        "vctk_vqmivc",
        "Wendison/VQMIVC",
        "851b4f5ca5bb60c11fea6a618affeb4979b17cf3",
        "test_wavs",
        "vctk",
        "CC-BY-4.0",
        VCTK_ATTRIBUTION,
        "en",
        parse_vctk,
    ),
    Source(
        "vctk_starganv2_demo",
        "starganv2-vc/starganv2-vc.github.io",
        "6fd387539d4d1b086327bfe8b188aebaa71e5c02",
        "wav/VCTK",
        "vctk",
        "CC-BY-4.0",
        VCTK_ATTRIBUTION,
        "en",
        parse_starganv2_vctk,
    ),
)


def licence_allowed(licence: str) -> bool:
    """Whether a recording licence (SPDX-like id) may go into the shipped model's training set."""
    return licence in ALLOWED_LICENCES


def dev_speakers(manifest: Path) -> set[tuple[str, str]]:
    """(corpus, speaker) of every dev and probe row of the shared speech manifest; corpus is the part of
    the source name before its first ``_`` (``resemblyzer_librispeech`` rows count as ``librispeech``)."""
    out: set[tuple[str, str]] = set()
    if not manifest.exists():
        return out
    with open(manifest, newline="") as f:
        for row in csv.DictReader(f):
            if row.get("split") in ("dev", "probe"):
                source = row.get("source", "")
                corpus = "librispeech" if "librispeech" in source else source.split("_")[0]
                out.add((corpus, row.get("speaker", "")))
    return out


def dev_conflict(corpus: str, speaker: str, dev: set[tuple[str, str]]) -> bool:
    """Whether a speaker may not be trained on: a corpus the dev or probe set is drawn from wholesale, a
    LibriSpeech speaker whose id ends in 3 (the dev rule) or any speaker listed in dev."""
    if corpus in EXCLUDED_CORPORA:
        return True
    if corpus == "librispeech" and speaker.endswith("3"):
        return True
    return (corpus, speaker) in dev


def quality_ok(x: np.ndarray) -> bool:
    """int16 mono: at most 1 % of samples at full scale and an RMS of at least -50 dBFS."""
    if x.size == 0:
        return False
    clipped = np.mean(np.abs(x.astype(np.int32)) >= 32767)
    rms = np.sqrt(np.mean((x.astype(np.float64) / 32768.0) ** 2))
    return clipped <= CLIPPED_FRACTION and 20 * np.log10(rms + 1e-12) >= QUIET_DB


def join(clips: list[np.ndarray], rate: int = RATE) -> np.ndarray:
    """Clips end to end, each faded in and out over 10 ms so no join clicks (int16 in and out)."""
    n = int(FADE_S * rate)
    parts = []
    for x in clips:
        y = x.astype(np.float32)
        k = min(n, len(y) // 2)
        if k:
            ramp = np.linspace(0.0, 1.0, k, endpoint=False, dtype=np.float32)
            y[:k] *= ramp
            y[len(y) - k :] *= ramp[::-1]
        parts.append(y)
    return np.round(np.concatenate(parts)).astype(np.int16) if parts else np.zeros(0, np.int16)


def chunks(lengths: list[int], max_len: int) -> list[list[int]]:
    """Clip indices grouped in order into runs of at most ``max_len`` samples (a longer clip is a run
    alone); the runs are balanced, so the last file is not a short remainder."""
    total = sum(lengths)
    if not lengths:
        return []
    n = max(1, -(-total // max_len))
    target = total / n
    runs: list[list[int]] = [[]]
    acc = 0
    for i, length in enumerate(lengths):
        if runs[-1] and (acc + length > max_len or acc >= target):
            runs.append([])
            acc = 0
        runs[-1].append(i)
        acc += length
    return runs


class Mirror:
    """Blobs of a bare git directory at one commit, read through one ``git cat-file --batch``."""

    def __init__(self, git_dir: Path, commit: str) -> None:
        self.git = ["git", f"--git-dir={git_dir}"]
        ok = subprocess.run([*self.git, "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
        if ok.returncode:
            raise SystemExit(f"{git_dir}: commit {commit} is missing (fetch github:OWNER/NAME again)")
        self.commit = commit
        self.proc = subprocess.Popen([*self.git, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def files(self, root: str) -> list[str]:
        out = subprocess.run(
            [*self.git, "ls-tree", "-r", "-z", "--name-only", self.commit, "--", root], capture_output=True, check=True
        ).stdout
        return sorted(p.decode() for p in out.split(b"\0") if p)

    def read(self, path: str) -> bytes:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{self.commit}:{path}\n".encode())
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            raise SystemExit(f"{path}: not in the snapshot at {self.commit} ({b' '.join(header).decode()})")
        data = self.proc.stdout.read(int(header[2]))
        self.proc.stdout.read(1)
        return data

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait()


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """int16 mono at 16 kHz, and the file's own rate (channels averaged; soxr where the rate differs)."""
    x, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    y = x.mean(axis=1)
    if sr != RATE:
        import soxr

        y = soxr.resample(y, sr, RATE, quality="VHQ")
    return np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16), sr


def collect(
    sources, mirrors: Path, dev: set[tuple[str, str]], log=print
) -> Iterator[tuple[Source, Clip, np.ndarray, int]]:
    """Every kept clip of every source, in order, with the reasons others were left out logged."""
    seen_keys: set[tuple[str, str]] = set()
    seen_audio: set[str] = set()
    for src in sources:
        if not licence_allowed(src.licence):
            log(f"{src.name}: licence {src.licence} not allowed, skipped")
            continue
        mirror = Mirror(mirrors / src.repo.replace("/", "+") / "repo", src.commit)
        dropped: dict[str, int] = defaultdict(int)
        try:
            for path in mirror.files(src.root):
                clip = src.parse(path[len(src.root) + 1 :])
                if clip is None:
                    dropped["not a speech recording"] += 1
                    continue
                if dev_conflict(src.corpus, clip.speaker, dev):
                    dropped["dev speaker"] += 1
                    continue
                if (src.corpus, clip.key) in seen_keys:
                    dropped["same corpus id as a kept clip"] += 1
                    continue
                x, sr = decode(mirror.read(path))
                digest = hashlib.sha1(x.tobytes()).hexdigest()
                if digest in seen_audio:
                    dropped["same samples as a kept clip"] += 1
                    continue
                if not quality_ok(x):
                    dropped["clipped or silent"] += 1
                    continue
                seen_keys.add((src.corpus, clip.key))
                seen_audio.add(digest)
                yield src, Clip(path, clip.speaker, clip.sex, clip.key), x, sr
        finally:
            mirror.close()
        if dropped:
            log(f"{src.name}: left out " + ", ".join(f"{n} {why}" for why, n in sorted(dropped.items())))


def write_csv(path: Path, columns, rows) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow({k: row.get(k, "") for k in columns})
    os.replace(tmp, path)


def build(out: Path, mirrors: Path, speech: Path, sources=SOURCES, log=print) -> list[dict]:
    """Write the corpus (see module doc); returns its manifest rows."""
    dev = dev_speakers(speech / "manifest.csv")
    groups: dict[tuple[str, str], list[tuple[Source, Clip, np.ndarray, int]]] = defaultdict(list)
    for item in collect(sources, mirrors, dev, log):
        groups[(item[0].name, item[1].speaker)].append(item)

    rows, provenance = [], []
    stats: dict[str, dict] = {s.name: {"files": 0, "clips": 0, "seconds": 0.0, "speakers": set()} for s in sources}
    for (name, speaker), items in sorted(groups.items()):
        src = items[0][0]
        runs = chunks([len(x) for _, _, x, _ in items], int(MAX_FILE_S * RATE))
        for r, run in enumerate(runs):
            stem = speaker if len(runs) == 1 else f"{speaker}_{r:02d}"
            rel = Path("train") / name / f"{stem}.flac"
            audio = join([items[i][2] for i in run])
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            tmp = (out / rel).with_suffix(".tmp.flac")
            sf.write(tmp, audio, RATE, subtype="PCM_16", format="FLAC")
            os.replace(tmp, out / rel)
            offset = 0
            for i in run:
                _, clip, x, _ = items[i]
                provenance.append(
                    {
                        "path": rel.as_posix(),
                        "offset_s": f"{offset / RATE:.3f}",
                        "duration_s": f"{len(x) / RATE:.3f}",
                        "repo": src.repo,
                        "commit": src.commit,
                        "source_path": clip.path,
                    }
                )
                offset += len(x)
            sexes = {items[i][1].sex for i in run}
            rows.append(
                {
                    "path": rel.as_posix(),
                    "split": "train",
                    "source": name,
                    "speaker": speaker,
                    "sex": sexes.pop() if len(sexes) == 1 else "",
                    "lang": src.lang,
                    "orig_sr": max(items[i][3] for i in run),
                    "sr": RATE,
                    "duration_s": f"{len(audio) / RATE:.3f}",
                    "license": src.attribution,
                    "frames": len(audio),
                }
            )
            st = stats[name]
            st["files"] += 1
            st["clips"] += len(run)
            st["seconds"] += len(audio) / RATE
            st["speakers"].add(speaker)

    written = {out / r["path"] for r in rows}
    for s in sources:  # files of an earlier run that this one did not write (other chunking, a source dropped)
        for stale in sorted((out / "train" / s.name).glob("*.flac")):
            if stale not in written:
                stale.unlink()
    write_csv(out / "manifest.csv", COLUMNS, rows)
    write_csv(out / "clips.csv", ("path", "offset_s", "duration_s", "repo", "commit", "source_path"), provenance)
    write_csv(
        out / "sources.csv",
        ("source", "repo", "commit", "folder", "licence", "files", "clips", "minutes", "speakers", "lang"),
        [
            {
                "source": s.name,
                "repo": s.repo,
                "commit": s.commit,
                "folder": s.root,
                "licence": s.attribution,
                "files": stats[s.name]["files"],
                "clips": stats[s.name]["clips"],
                "minutes": f"{stats[s.name]['seconds'] / 60:.1f}",
                "speakers": len(stats[s.name]["speakers"]),
                "lang": s.lang,
            }
            for s in sources
        ],
    )
    combined = combine(out, speech, rows)
    for s in sources:
        st = stats[s.name]
        minutes = st["seconds"] / 60
        log(f"{s.name}: {st['files']} files, {st['clips']} clips, {minutes:.1f} min, {len(st['speakers'])} speakers")
    total = sum(st["seconds"] for st in stats.values()) / 60
    speakers = len({(s.corpus, spk) for s in sources for spk in stats[s.name]["speakers"]})
    log(f"total: {len(rows)} files, {total:.1f} min, {speakers} speakers -> {out / 'manifest.csv'}")
    if combined:
        log(f"combined with {speech}: {combined} rows -> {out / 'combined.csv'}")
    return rows


def combine(out: Path, speech: Path, rows: list[dict]) -> int:
    """``OUT/combined.csv``: the shared corpus's train and dev rows (paths relative to OUT) and ours.
    Returns its row count, 0 when there is no shared manifest."""
    manifest = speech / "manifest.csv"
    if not manifest.exists():
        return 0
    prefix = Path(os.path.relpath(speech.resolve(), out.resolve()))
    shared = []
    with open(manifest, newline="") as f:
        for row in csv.DictReader(f):
            if row.get("split") in ("train", "dev"):
                shared.append({**row, "path": (prefix / row["path"]).as_posix()})
    write_csv(out / "combined.csv", COLUMNS, shared + rows)
    return len(shared) + len(rows)


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", nargs="?", default=str(here.parent / "shared-data" / "speech-extra"))
    p.add_argument("--mirrors", default=str(here.parent / ".mirror"), help="folder of fetched snapshots")
    p.add_argument("--speech", default=str(here.parent / "shared" / "speech"), help="the shared speech corpus")
    args = p.parse_args(argv)
    try:
        os.nice(10)
    except OSError:
        pass
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    build(out, Path(args.mirrors), Path(args.speech))
    return 0


if __name__ == "__main__":
    sys.exit(main())
