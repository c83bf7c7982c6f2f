"""Train a model from a recipe (recipes/ has the shipped models'), on audio of a folder or a manifest.

``vqcodec train`` and ``python -m vqcodec.train`` (torchrun runs modules): one set of arguments and checks
for both ways in, the work being :func:`vqcodec.train.loop.main_args`."""

from __future__ import annotations

import argparse
from pathlib import Path

from vqcodec.errors import UserError
from vqcodec.train.config import add_arguments as add_recipe_arguments

_MAX_MODEL_NAME = 64  # what a .vqc header holds


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_recipe_arguments(p)
    p.add_argument(
        "--name",
        help="the model's name, written into its files and every .vqc it makes (default: the name of the --out folder)",
    )


def main_args(args: argparse.Namespace) -> None:
    from vqcodec.train.loop import main_args as train

    if args.steps is not None and args.steps < 1:  # 0 steps ran nothing and wrote no model, silently
        raise UserError(f"--steps must be at least 1, not {args.steps}")
    args.name = model_name(args.name, args.out)
    train(args)


def model_name(name: str | None, out: str) -> str:
    """A trained model's name: ``--name``, else the name of its output folder (not the recipe's, so that
    two models trained from one recipe are told apart in every message)."""
    given = name is not None
    name = name if given else Path(out).resolve().name
    if not (1 <= len(name) <= _MAX_MODEL_NAME and name.isascii() and name.isprintable()):
        where = "--name" if given else f"{out}: the output folder's name"
        raise UserError(
            f"{where} cannot name a model (1..{_MAX_MODEL_NAME} printable ASCII characters)"
            + ("" if given else "; give --name")
        )
    return name
