"""Progress of an extraction on stderr: files/s and audio-hours/s.

A tqdm bar when tqdm is installed and the stream is a terminal (:class:`vqcodec.progress.ProgressBar`);
otherwise one plain line every ``every`` seconds (and one at the end), which reads well in a log file.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from vqcodec.progress import ProgressBar


class Progress:
    """Counts files and audio seconds; ``write`` prints a line without breaking the bar."""

    def __init__(
        self, total: int, enabled: bool = True, stream: TextIO | None = None, every: float = 10.0, label: str = "tokens"
    ):
        self.total, self.enabled, self.every, self.label = total, enabled, every, label
        self.stream = sys.stderr if stream is None else stream
        self.files, self.audio_s, self.start, self.last = 0, 0.0, time.monotonic(), time.monotonic()
        self.lines = ProgressBar(total, unit="file", desc=label, mode="auto" if enabled else "off", stream=self.stream)
        self.bar = self.lines.bar

    def rates(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        return (
            f"{self.files / elapsed:.2f} files/s, {self.audio_s / 3600 / elapsed:.4f} audio-h/s "
            f"({self.audio_s / elapsed:.1f}x real time)"
        )

    def update(self, files: int, audio_s: float) -> None:
        self.files, self.audio_s = self.files + files, self.audio_s + audio_s
        if self.bar is not None:
            self.lines.update(files, postfix=self.rates())
        elif self.enabled and time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.write(f"{self.label}: {self.files}/{self.total} files, {self.rates()}")

    def write(self, line: str) -> None:
        self.lines.write(line)

    def close(self) -> None:
        self.lines.close()
        if self.enabled and self.total:
            self.write(f"{self.label}: {self.files}/{self.total} files, {self.rates()}")
