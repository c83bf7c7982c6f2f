"""Atomic file output: a result appears under its final name complete, or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_MAX_SUFFIX = 16  # bytes of the target's extension kept in the temporary name


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it is synced and renamed onto ``path``.

    On any exception (SIGTERM too, which the CLI turns into one) the temporary file is removed and an
    existing ``path`` is left untouched; an OSError that names no file, or the temporary one, is raised
    again naming ``path``. The temporary name is short whatever the target's (a legal 255-byte name
    stays legal): ``.vqcodec-XXXXXXXX.part`` plus the extension, kept for writers that pick a format by it.
    """
    target = Path(path)
    suffix = target.suffix if len(os.fsencode(target.suffix)) <= _MAX_SUFFIX else ""
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".vqcodec-", suffix=".part" + suffix)
    except OSError as e:  # a missing or read-only folder: name the file asked for, not our temporary one
        raise OSError(e.errno, e.strerror, str(target)) from None
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if e.filename not in (None, tmp):
            raise
        raise OSError(e.errno, e.strerror or str(e), str(target)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def _mode_for(target: Path) -> int:
    """Keep a replaced file's mode; a new file gets what ``open()`` would give it (0666 minus umask)."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask
