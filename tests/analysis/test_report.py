"""Tests for vqcodec.analysis.report: the quality table shows what was not measured as n/a, and the notes name
the delayed settings and the reference codecs that are in the table."""

from __future__ import annotations

from vqcodec.analysis.report import delay_note, quality_table, table_notes
from vqcodec.analysis.scoring import Row


def _row(codec: str, setting: str, delay_ms: float | None, pesq: float | None = 2.5) -> Row:
    return Row(codec, setting, 3.1, pesq, 0.9, 1.2, 4.0, delay_ms, None, 0.1, -0.5, 3, 0 if pesq else 3, 1.0)


def test_table_and_notes() -> None:
    rows = [_row("vqcodec", "3 kbps", 0.0), _row("codec2", "3200", 25.0, pesq=None), _row("opus", "6 kbps", None)]
    table = quality_table(rows).splitlines()
    assert len(table) == 2 + len(rows) and table[0].startswith("| codec | setting | real kbps | PESQ-WB |")
    assert "| codec2 | 3200 | 3.10 | n/a (3 skipped) | 0.900 |" in table[3]
    note = delay_note(rows)
    assert "codec2 3200 +25.0 ms" in note and "vqcodec" not in note.split("No estimate")[0]
    assert "No estimate" in note and "opus 6 kbps" in note
    notes = table_notes(rows)
    assert "Opus: opusenc" in notes and "Codec2: 8 kHz" in notes
    assert "Opus" not in table_notes(rows[:1])
