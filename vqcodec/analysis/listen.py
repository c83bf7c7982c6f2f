"""A static page to listen on: ``vqcodec eval DIR --html OUT``.

``OUT/index.html`` shows, for each file, the reference and every codec setting of the run as ``<audio>``
players with the file's real kbps and metrics, and the file's spectrograms (reference on top, each codec
under it); above them, the run's averaged table. The page needs no network and no server: the audio
(``OUT/audio/N/*.flac``, 16-bit FLAC at the model's rate, lossless, so a player adds nothing to what a codec did) and
the spectrograms (``OUT/spectrograms/N.png``) sit beside it, linked relatively, and CSS is inline. Open
``OUT/index.html`` from disk, or put the folder on any static host.

Files are written as the run goes (:meth:`ListenPage.add` for speech, :meth:`ListenPage.add_file` with any
numbers), so a long run keeps no audio in memory; the HTML is written last (:meth:`ListenPage.finish` for
speech, :meth:`ListenPage.finish_with` with any table). A model for music and sounds fills the same page with
:mod:`vqcodec.analysis.general`'s numbers (:data:`GENERAL_METRICS`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from vqcodec.analysis.metrics import SR

AUDIO_SUFFIX = ".flac"
_URL = re.compile(r"https?://[^\s<>\"'&)]*[^\s<>\"'&).,;:]")  # applied to escaped text: no & inside

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 2em; }
code { background: #f3f3f3; padding: 0 0.25em; border-radius: 3px; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; }
th { text-align: left; background: #fafafa; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.ref td { background: #f5f9ff; } audio { height: 32px; width: 260px; vertical-align: middle; }
.meta, .credits { color: #555; font-size: 0.92em; } img { max-width: 100%; border: 1px solid #eee; }
"""


@dataclass
class Entry:
    """One file on the page: its name, duration and one player per signal (reference first)."""

    name: str
    seconds: float
    spectrogram: str | None
    players: list[dict] = field(default_factory=list)  # {"label", "src", "kbps", "metrics": {name: text}}


def slug(text: str) -> str:
    """A file-name-safe form of a codec setting ("vqcodec 2.85 kbps (4t+4b)" -> "vqcodec-2.85-kbps-4t-4b")."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-.") or "x"


def write_audio(path: Path, audio: np.ndarray, rate: int = SR) -> None:
    """``audio`` (float mono at ``rate``) as 16-bit FLAC, clipped to full scale."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.clip(np.asarray(audio, dtype=np.float32), -1, 1), rate, subtype="PCM_16", format="FLAC")


def num(x: float | None, digits: int) -> str:
    """A number for the page: ``digits`` decimals, or ``n/a`` where it was not measured."""
    return "n/a" if x is None else f"{x:.{digits}f}"


def file_metrics(acc, i: int, seconds: float) -> dict[str, str]:
    """File ``i``'s numbers from an :class:`~vqcodec.analysis.scoring.Accumulator`, formatted for the page."""

    dnsmos = getattr(acc, "dnsmos", None)  # measured where the eval extra has a DNSMOS model
    return {
        "real kbps": f"{acc.file_bytes[i] * 8 / seconds / 1000:.2f}",
        "PESQ-WB": num(acc.pesq[i], 3),
        "STOI": num(acc.stoi[i], 3),
        "DNSMOS": num(dnsmos[i] if dnsmos else None, 2),
        "log-mel dist": num(acc.log_mel[i], 3),
        "F0 err (cents)": num(acc.f0_cents[i], 0),
        "voicing err": num(acc.voicing_error[i], 3),
        "loudness (dB)": num(acc.loudness_db[i], 1),
    }


METRICS = ("real kbps", "PESQ-WB", "STOI", "DNSMOS", "log-mel dist", "F0 err (cents)", "voicing err", "loudness (dB)")
GENERAL_METRICS = ("real kbps", "ViSQOL", "log-mel dist", "SI-SDR (dB)", "high band (dB)", "tonal peaks (dB)")
SPEECH_NOTES = (
    "DNSMOS: overall quality (P.835 OVRL) as a model predicts it, without the reference. Log-mel distance, F0 "
    "error and voicing error: lower is better; loudness: decoded minus reference."
)
GENERAL_NOTES = (
    "ViSQOL v3 in audio mode (about 1 to 4.75, higher is better). Log-mel distance over the whole band: lower is "
    "better. High band: the decoded energy above 6 kHz against the reference's (0: kept). Tonal peaks: how far "
    "partials below 4 kHz stand above the spectrum between them, against the reference's (0: as tonal; below: "
    "smeared; above: peaks of its own, such as a buzz)."
)


def general_metrics(num_bytes: int, seconds: float, scores) -> dict[str, str]:
    """The last file's numbers of a :class:`~vqcodec.analysis.general.GeneralScores`, formatted for the page."""

    return {
        "real kbps": f"{num_bytes * 8 / seconds / 1000:.2f}",
        "ViSQOL": num(scores.visqol[-1], 2),
        "log-mel dist": num(scores.log_mel[-1], 3),
        "SI-SDR (dB)": num(scores.si_sdr[-1], 1),
        "high band (dB)": num(scores.high_band_db[-1], 1),
        "tonal peaks (dB)": num(scores.tonal_db[-1], 1),
    }


def general_summary(rows: Sequence[dict]) -> str:
    """The averaged rows of :func:`vqcodec.analysis.general.evaluate`, as an HTML table."""

    head = "<tr><th>codec</th><th>setting</th>" + "".join(f"<th>{esc(m)}</th>" for m in GENERAL_METRICS) + "</tr>"
    body = [
        f"<tr><td>{esc(r['codec'])}</td><td>{esc(r['setting'])}</td><td class=n>{r['real_kbps']:.2f}</td>"
        f"<td class=n>{num(r['visqol'], 2)}</td><td class=n>{r['log_mel']:.3f}</td><td class=n>{r['si_sdr']:.1f}</td>"
        f"<td class=n>{num(r['high_band_db'], 1)}</td><td class=n>{num(r.get('tonal_db'), 1)}</td></tr>"
        for r in rows
    ]
    return f"<table>{head}{''.join(body)}</table>"


def few_colours(path: Path, colours: int = 32) -> None:
    """Rewrite a PNG with a palette of ``colours``: a spectrogram stack drops from ~0.9 MB to ~0.18 MB and
    looks the same, which matters for a page that is committed or downloaded."""
    from PIL import Image  # matplotlib's own dependency

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


class ListenPage:
    """The page under construction in folder ``out``: :meth:`add` (or :meth:`add_file`) each file as it is
    scored, then :meth:`finish` (or :meth:`finish_with`). ``rate``: the audio's sample rate; ``columns``: the
    per-file numbers shown (:data:`METRICS` for speech, :data:`GENERAL_METRICS` for music and sounds)."""

    def __init__(self, out: Path, credits: str = "", rate: int = SR, columns: Sequence[str] = METRICS):
        self.out = Path(out)
        self.credits = credits
        self.rate = rate
        self.columns = tuple(columns)
        self.entries: list[Entry] = []
        self.out.mkdir(parents=True, exist_ok=True)

    def add(self, example, accs: Sequence) -> None:
        """One scored speech file: ``example`` (:class:`~vqcodec.analysis.quality.Example`, every codec's
        decoding) and the accumulators holding its metrics (its index is the number of files added before)."""
        seconds = len(example.reference) / self.rate
        n = len(self.entries)
        self.add_file(example, {f"{acc.codec} {acc.setting}": file_metrics(acc, n, seconds) for acc in accs})

    def add_file(self, example, metrics: dict[str, dict[str, str]]) -> None:
        """One scored file: ``example``'s reference and its decodings (keyed ``"codec setting"``, in the order
        of ``metrics``), each with its numbers (``metrics[key]``: column -> text)."""
        n = len(self.entries) + 1
        folder = self.out / "audio" / str(n)
        entry = Entry(example.path.name, len(example.reference) / self.rate, self._spectrogram(n, example))
        write_audio(folder / f"reference{AUDIO_SUFFIX}", example.reference, self.rate)
        entry.players.append({"label": "reference", "src": f"audio/{n}/reference{AUDIO_SUFFIX}", "metrics": {}})
        for key, numbers in metrics.items():
            name = f"{slug(key)}{AUDIO_SUFFIX}"
            write_audio(folder / name, example.decoded[key], self.rate)
            entry.players.append({"label": key, "src": f"audio/{n}/{name}", "metrics": numbers})
        self.entries.append(entry)

    def _spectrogram(self, n: int, example) -> str | None:
        """The file's spectrogram stack (reference on top), or None without matplotlib."""
        try:
            from vqcodec.analysis.plots import spectrogram_stack
        except ImportError:
            return None
        path = self.out / "spectrograms" / f"{n}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        spectrogram_stack({"reference": example.reference, **example.decoded}, self.rate, path, example.path.name)
        few_colours(path)
        return f"spectrograms/{n}.png"

    def finish(self, meta: dict, rows: Sequence) -> Path:
        """Write ``index.html`` for a speech run (the run's facts, its averaged table, then every file)."""
        return self.finish_with(meta, summary_table(rows), SPEECH_NOTES)

    def finish_with(self, meta: dict, summary: str, notes: str) -> Path:
        """Write ``index.html``: the run's facts, ``summary`` (an HTML table), ``notes``, then every file."""
        path = self.out / "index.html"
        page = Page(meta, summary, notes, self.rate, self.columns)
        path.write_text(render(page, self.entries, self.credits))
        return path


@dataclass(frozen=True)
class Page:
    """What :func:`render` writes above and around the files."""

    meta: dict
    summary: str
    notes: str
    rate: int = SR
    columns: tuple[str, ...] = METRICS


# ---------------------------------------------------------------- HTML


def esc(x: object) -> str:
    return html.escape(str(x))


def credits_html(text: str) -> str:
    """Plain text, one paragraph per blank-line-separated block (its lines kept), web addresses made links."""
    blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
    linked = [_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', esc(b)) for b in blocks]
    return "".join(f"<p>{b.replace(chr(10), '<br>')}</p>" for b in linked)


def summary_table(rows: Sequence) -> str:
    """The run's averaged rows (:class:`~vqcodec.analysis.scoring.Row`)."""

    head = "<tr><th>codec</th><th>setting</th>" + "".join(f"<th>{esc(m)}</th>" for m in METRICS) + "</tr>"
    body = [
        f"<tr><td>{esc(r.codec)}</td><td>{esc(r.setting)}</td><td class=n>{r.real_kbps:.2f}</td>"
        f"<td class=n>{num(r.pesq_wb, 3)}</td><td class=n>{r.stoi:.3f}</td>"
        f"<td class=n>{num(getattr(r, 'dnsmos', None), 2)}</td><td class=n>{r.log_mel:.3f}</td>"
        f"<td class=n>{num(r.f0_cents, 0)}</td><td class=n>{r.voicing_error:.3f}</td>"
        f"<td class=n>{num(r.loudness_db, 1)}</td></tr>"
        for r in rows
    ]
    return f"<table>{head}{''.join(body)}</table>"


def entry_html(n: int, e: Entry, columns: Sequence[str] = METRICS) -> str:
    """One file: a table of players with its numbers, then its spectrograms."""
    head = "<tr><th>signal</th><th>listen</th>" + "".join(f"<th>{esc(m)}</th>" for m in columns) + "</tr>"
    rows = []
    for p in e.players:
        cells = "".join(f"<td class=n>{esc(p['metrics'].get(m, ''))}</td>" for m in columns)
        css = ' class="ref"' if p["label"] == "reference" else ""
        player = f'<audio controls preload="metadata" src="{esc(p["src"])}"></audio>'
        rows.append(f"<tr{css}><td>{esc(p['label'])}</td><td>{player}</td>{cells}</tr>")
    image = (
        f'<p><img src="{esc(e.spectrogram)}" alt="spectrograms of {esc(e.name)}" loading="lazy"></p>'
        if e.spectrogram
        else ""
    )
    return f'<h2 id="f{n}">{n}. {esc(e.name)} ({e.seconds:.1f} s)</h2><table>{head}{"".join(rows)}</table>{image}'


def render(page: Page, entries: Sequence[Entry], credits: str = "") -> str:
    """The whole page."""
    meta = page.meta
    facts = (
        f"Model <code>{esc(meta['model_name'])}</code> (<code>{esc(meta['model_hash'])}</code>) on "
        f"{esc(meta['backend'])}, "
        f"{meta['files']} files, {meta['total_seconds']:.1f} s of audio, {esc(meta['date'])}, {esc(meta['machine'])}."
    )
    notes = (
        f"Every signal is {page.rate / 1000:g} kHz mono, 16-bit FLAC; decoded signals are shifted by their estimated "
        "delay, as the metrics are. Real kbps: coded bytes &times; 8 / seconds, headers and containers included "
        f"(vqcodec files entropy-coded). {esc(page.notes)}"
    )
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>vqcodec: listen</title><style>{_CSS}</style></head><body>"
        f"<h1>vqcodec: listen</h1><p class=meta>{facts}<br>Made by <code>{esc(meta['command'])}</code></p>"
        + (f'<div class="credits">{credits_html(credits)}</div>' if credits.strip() else "")
        + f"<h2>All {meta['files']} files</h2>{page.summary}<p class=meta>{notes}</p>"
        + "".join(entry_html(n, e, page.columns) for n, e in enumerate(entries, 1))
        + "</body></html>\n"
    )
