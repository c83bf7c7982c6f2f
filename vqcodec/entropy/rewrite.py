"""Rewrite a tables file in another form, the tables and their provenance unchanged (the hash too)::

    python -m vqcodec.entropy.rewrite vqcodec/pretrained/default.tables.safetensors \\
        -o vqcodec/pretrained/default.tables.safetensors.gz
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vqcodec.entropy.tables import load, provenance, save


def main(argv: list[str] | None = None) -> None:
    """``IN -o OUT``: OUT ending in ``.gz`` is gzip-compressed, any other name plain safetensors."""
    p = argparse.ArgumentParser(prog="python -m vqcodec.entropy.rewrite", description=main.__doc__)
    p.add_argument("input", help="tables file to read")
    p.add_argument("-o", "--output", required=True, help="tables file to write (.gz: compressed)")
    args = p.parse_args(argv)
    tables = load(args.input)
    save(tables, args.output, provenance(args.input))
    print(f"{args.output}: {Path(args.output).stat().st_size / 1e6:.2f} MB, tables hash {tables.hash.hex()}")


if __name__ == "__main__":
    main()
