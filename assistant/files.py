"""Writing files so that a crash never leaves a half-written one behind, and cleaning up after
one that was killed mid-write anyway."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows: writes then go unlocked, as before
    fcntl = None

# mkstemp's random part: 8 of [a-z0-9_].
_TEMP_SUFFIX = r"\.[a-z0-9_]{8}"
_WRITE_CHECK = "write-check"


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp_path)`` then rename over ``path``: readers see the old file or the new one.

    The temporary file is ``.<name>.XXXXXXXX`` beside ``path``; a failed write removes it, a
    killed process leaves it for ``remove_interrupted_writes``. The folder is locked meanwhile,
    so that cleanup never removes a file another process is still writing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(path.parent):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            write(Path(tmp))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def check_writable(folder: Path) -> None:
    """``OSError`` unless a file can be created in ``folder`` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{_WRITE_CHECK}.", dir=folder)
    os.close(fd)
    os.unlink(tmp)


def remove_interrupted_writes(folder: Path, names: Iterable[str]) -> list[str]:
    """Delete the temporary files that writes of ``names`` in ``folder`` left when their process
    was killed (``kill -9``, power loss). Returns the names removed; a folder that cannot be
    read or written is left as it is."""
    pattern = re.compile("|".join(rf"\.{re.escape(name)}{_TEMP_SUFFIX}" for name in [*names, _WRITE_CHECK]))
    removed = []
    try:
        with _folder_lock(folder):
            for entry in folder.iterdir():
                if pattern.fullmatch(entry.name) and entry.is_file():
                    entry.unlink()
                    removed.append(entry.name)
    except OSError:  # missing, unreadable or read-only: nothing we could or should clean
        pass
    return removed


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on the folder itself (flock on its descriptor: no lock file to
    leave behind, and it works in a read-only folder). Held only for one file's write."""
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # cannot open the folder: the write itself will say why
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def file_sha256(path: Path) -> str:
    """The file's sha256, read in 1 MiB chunks (model weights run to hundreds of MB)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
