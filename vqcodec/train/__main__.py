"""``python -m vqcodec.train`` (and ``torchrun -m vqcodec.train``) is ``vqcodec train``: torchrun runs
modules. The same arguments (:mod:`vqcodec.train.command`) and the same one-line errors
(:func:`vqcodec.errors.run_main`), without the CLI."""

import argparse
import sys

from vqcodec.errors import run_main
from vqcodec.threads import prefer_passive_waiting, torch_threads
from vqcodec.train import command


def _train(args: argparse.Namespace) -> None:
    with torch_threads(args.threads):
        command.main_args(args)


prefer_passive_waiting()  # before torch is imported
parser = argparse.ArgumentParser(prog="python -m vqcodec.train", description="train a model from a recipe")
command.add_arguments(parser)
arguments = parser.parse_args()
sys.exit(run_main(lambda: _train(arguments), "train", arguments.out))
