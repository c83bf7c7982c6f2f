"""The README's results table, from a quality run's JSON: paste its output over the table to refresh it.

    python benchmarks/quality.py --data ../shared/speech/dev --limit 60 --out bench_out --rates 1.35,2.85,3.85,6.35
    python benchmarks/results_table.py bench_out/quality.json

Takes ``quality.json`` (``benchmarks/quality.py``) or ``eval.json`` (``vqcodec eval``); prints one line on
what was measured, then a Markdown table of codec, setting, real kbps, PESQ-WB, STOI and DNSMOS (OVRL; "n/a"
in a run made before the metric was measured), one row per codec setting in the run's order.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cell(x: float | None, digits: int) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def setting(row: dict) -> str:
    """``2.85 kbps`` for a vqcodec rung (its codebooks dropped), the setting as it is for the others."""
    return row["setting"].split(" (")[0] if row["codec"] == "vqcodec" else row["setting"]


def table(result: dict) -> str:
    lines = [
        f"{result['files']} files ({result['total_seconds']:.0f} s) of `{result['data']}`, model "
        f"`{result['model_hash']}`:",
        "",
        "| codec | setting | real kbps | PESQ-WB | STOI | DNSMOS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['codec']} | {setting(r)} | {r['real_kbps']:.2f} | {cell(r['pesq_wb'], 3)} | {r['stoi']:.3f} "
            f"| {cell(r.get('dnsmos'), 2)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("result", type=Path, help="quality.json or eval.json")
    print(table(json.loads(p.parse_args(argv).result.read_text())))


if __name__ == "__main__":
    main()
