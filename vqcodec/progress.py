"""The one progress bar: tqdm on a terminal, plain lines elsewhere (a log file reads well).

Training (steps), folders of files, ``vqcodec eval`` and token extraction (files) all draw through
:class:`ProgressBar`; lines written through it do not break the bar. Work on audio files also counts the audio
(:meth:`ProgressBar.count`): the bar shows files/s, audio-hours/s and times real time, and a log gets the same
as a plain line every ``every`` seconds and at the end.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """A tqdm bar when ``mode`` is ``"bar"``, or ``"auto"`` and ``stream`` is a terminal, and tqdm is
    installed; otherwise nothing is drawn and :meth:`write` prints plain lines. ``"off"`` never draws.

    Args:
        every: with :meth:`count`, the seconds between plain throughput lines when no bar is drawn (and one
            line at :meth:`close`); None: no such lines.

    Attributes:
        bar: the tqdm bar, or None.
        missing: a bar was asked for (``"bar"``) but tqdm is not installed.
    """

    def __init__(
        self,
        total: int,
        *,
        unit: str,
        desc: str,
        initial: int = 0,
        mode: str = "auto",
        stream: TextIO | None = None,
        dynamic_ncols: bool = False,
        every: float | None = None,
    ):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.unit, self.desc, self.mode, self.every = total, unit, desc, mode, every
        self.done, self.audio_s, self.start = 0, 0.0, time.monotonic()
        self.last = self.start
        self.bar, self.missing = None, False
        terminal = getattr(self.stream, "isatty", lambda: False)()
        if mode == "bar" or (mode == "auto" and terminal):
            try:
                from tqdm import tqdm
            except ImportError:
                self.missing = mode == "bar"
                return
            self.bar = tqdm(
                total=total, initial=initial, unit=unit, desc=desc, file=self.stream, dynamic_ncols=dynamic_ncols
            )

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        """Advance by ``n``; ``postfix`` replaces the text after the bar (drawn with the next refresh)."""
        if self.bar is None:
            return
        if postfix is not None:
            self.bar.set_postfix_str(postfix, refresh=False)
        if n:
            self.bar.update(n)

    def count(self, n: int, audio_s: float) -> None:
        """Advance by ``n`` items holding ``audio_s`` seconds of audio: the throughput after the bar or, with no
        bar (and not ``"off"``), as a plain line every ``every`` seconds."""
        self.done, self.audio_s = self.done + n, self.audio_s + audio_s
        if self.bar is not None:
            self.update(n, postfix=self.rates())
        elif self._lines() and time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.write(self.status())

    def rates(self) -> str:
        """E.g. ``2.00 files/s, 0.0050 audio-h/s (18.0x real time)``: since the bar was made."""
        elapsed = max(time.monotonic() - self.start, 1e-9)
        return (
            f"{self.done / elapsed:.2f} {self.unit}s/s, {self.audio_s / 3600 / elapsed:.4f} audio-h/s "
            f"({self.audio_s / elapsed:.1f}x real time)"
        )

    def status(self) -> str:
        """E.g. ``tokens: 12/40 files, 2.00 files/s, …``."""
        return f"{self.desc}: {self.done}/{self.total} {self.unit}s, {self.rates()}"

    def write(self, line: str) -> None:
        """A line above the bar, or a plain line on the stream."""
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        """Ends the bar; with ``every``, the last throughput line (unless ``"off"`` or there was nothing to do)."""
        if self.bar is not None:
            self.bar.close()
        if self._lines() and self.total:
            self.write(self.status())

    def _lines(self) -> bool:
        return self.every is not None and self.mode != "off"
