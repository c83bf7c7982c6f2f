"""Progress of an extraction on stderr: files/s and audio-hours/s.

A tqdm bar when tqdm is installed and the stream is a terminal; otherwise one plain line every
``every`` seconds (and one at the end), which reads well in a log file.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts files and audio seconds; ``write`` prints a line without breaking the bar."""

    def __init__(self, total: int, enabled: bool = True, stream: TextIO | None = None, every: float = 10.0,
                 label: str = "tokens"):
        self.total, self.enabled, self.every, self.label = total, enabled, every, label
        self.stream = sys.stderr if stream is None else stream
        self.files, self.audio_s, self.start, self.last = 0, 0.0, time.monotonic(), time.monotonic()
        self.bar = self._tqdm() if enabled else None

    def _tqdm(self):
        if not getattr(self.stream, "isatty", lambda: False)():
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=self.total, file=self.stream, unit="file", desc=self.label)

    def rates(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        return (f"{self.files / elapsed:.2f} files/s, {self.audio_s / 3600 / elapsed:.4f} audio-h/s "
                f"({self.audio_s / elapsed:.1f}x real time)")

    def update(self, files: int, audio_s: float) -> None:
        self.files, self.audio_s = self.files + files, self.audio_s + audio_s
        if self.bar is not None:
            self.bar.set_postfix_str(self.rates(), refresh=False)
            self.bar.update(files)
        elif self.enabled and time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.write(f"{self.label}: {self.files}/{self.total} files, {self.rates()}")

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.enabled and self.total:
            self.write(f"{self.label}: {self.files}/{self.total} files, {self.rates()}")
