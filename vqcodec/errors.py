"""Errors caused by a user's input: the CLI prints their message as one line and exits non-zero."""


class UserError(Exception):
    """A mistake in what the user asked for or gave us (missing file, not audio, existing output...)."""
