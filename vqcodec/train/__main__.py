"""``python -m vqcodec.train`` (and ``torchrun -m vqcodec.train``) is ``vqcodec train``: torchrun runs
modules, and the CLI is the one place that turns errors into one line."""

import sys

from vqcodec.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
