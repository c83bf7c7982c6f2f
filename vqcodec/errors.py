"""The errors vqcodec raises on purpose, all under :class:`VQCodecError`, each also a standard type, so a
caller can catch ours alone or catch them as ``ValueError``; and :func:`run_main`, the one place that turns
any of them (and a missing extra, SIGTERM, Ctrl-C, an OS error) into one line on stderr and an exit status,
for every way in: ``vqcodec`` (:mod:`vqcodec.cli`) and ``python -m vqcodec.train`` (torchrun runs modules)."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator


class VQCodecError(Exception):
    """Base of every error vqcodec raises on purpose.

    Attributes:
        names_its_file: the message says which file it is about; when False, :func:`run_main` adds it.
    """

    names_its_file = True


class UserError(VQCodecError, ValueError):
    """A mistake in what the user asked for or gave us (missing file, not audio, existing output...)."""


class ConfigError(UserError):
    """A model config or a recipe with an unknown field, a value of the wrong type, or a value no model can
    use; the message names the field."""


class Terminated(BaseException):
    """SIGTERM, raised where the process is, so that ``finally`` blocks remove temporary files."""


# What to install when a command's import fails: the command's own extra, else the one that brings the module.
_COMMAND_EXTRAS = {"export": "export", "train": "train", "eval": "eval", "inspect": "inspect", "probe": "inspect"}
_EXTRAS = {
    "torch": "torch",
    "torchaudio": "torch",
    "onnx": "export",
    "pesq": "eval",
    "pystoi": "eval",
    "parselmouth": "train",
    "torch_stoi": "train",
    "pyloudnorm": "eval",
    "matplotlib": "inspect",
    "sklearn": "inspect",
}


def run_main(fn: Callable[[], int | None], command: str, where: str = "") -> int:
    """``fn()``'s exit status (None is 0); what it raises for a user is one line on stderr and a non-zero exit.

    Args:
        fn: the command's work.
        command: its name, for the line naming what to install when an extra is missing.
        where: the file an error that does not name one is about (``names_its_file`` False).
    """
    try:
        with terminate_cleanly():
            return fn() or 0
    except ModuleNotFoundError as e:
        return missing_extra(e, command)
    except Terminated:
        return fail("terminated", 143)
    except UserError as e:
        return fail(str(e))
    except VQCodecError as e:  # any error of ours is a mistake in what was given
        return fail(str(e) if e.names_its_file or not where else f"{where}: {e}")
    except OSError as e:
        return fail(f"{e.filename or where}: {e.strerror or e}")
    except KeyboardInterrupt:
        return fail("interrupted", 130)


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` inside (main thread only); the old handler is restored after."""

    def handler(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def missing_extra(e: ModuleNotFoundError, command: str) -> int:
    """One line naming what to install, for a command whose extra is not installed; any other missing module
    is raised again (a bug, not the user's)."""
    top = (e.name or "").split(".")[0]
    if top not in _EXTRAS:
        raise e
    extra = _COMMAND_EXTRAS.get(command, _EXTRAS[top])
    return fail(f"{command} needs {top}, which is not installed: pip install 'vqcodec[{extra}]'")


def fail(message: str, code: int = 1) -> int:
    """``vqcodec: MESSAGE`` on stderr; returns ``code``."""
    print(f"vqcodec: {message}", file=sys.stderr)
    return code
