"""The one progress bar: tqdm on a terminal, plain lines elsewhere (a log file reads well).

Training (steps) and token extraction (files) both draw through :class:`ProgressBar`; lines written
through it do not break the bar.
"""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressBar:
    """A tqdm bar when ``mode`` is ``"bar"``, or ``"auto"`` and ``stream`` is a terminal, and tqdm is
    installed; otherwise nothing is drawn and :meth:`write` prints plain lines. ``"off"`` never draws.

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
    ):
        self.stream = sys.stderr if stream is None else stream
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

    def write(self, line: str) -> None:
        """A line above the bar, or a plain line on the stream."""
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
