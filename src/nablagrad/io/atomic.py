"""Atomic file writes: write a temporary file in the same folder, fsync, then rename over the
target.  A crash or an exception at any point leaves either the old file or the new one —
never a half-written file.

A writer holds an exclusive ``flock`` on its temporary file while it writes.  A process killed
mid-write (``kill -9``) cannot remove its temporary file, so every write first removes the
temporaries of the same target that no live writer holds: killed saves leave nothing behind
for long.
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no clean-up of stale temporaries
    fcntl = None


def _temporaries(path: Path) -> list[Path]:
    return [Path(p) for p in glob.glob(os.path.join(glob.escape(str(path.parent)), f".{glob.escape(path.name)}.*.tmp"))]


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``.<name>.*.tmp`` beside ``path`` unless a live writer holds its lock."""
    if fcntl is None:
        return
    for tmp in _temporaries(path):
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(tmp)  # nobody writes it: its writer died
        except OSError:
            pass  # a live writer holds it, or it was renamed meanwhile
        finally:
            os.close(fd)


def _locked_temporary(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path``, locked by us and still linked (not cleaned away by another writer)."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        if fcntl is None:
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            return fd, tmp
        os.close(fd)  # removed by another writer's clean-up between creation and lock: try again


def _mode_for(path: Path) -> int:
    """The permissions the file gets: those of the file it replaces, else what ``open()`` would give a new one
    (0o666 less the umask) — a temporary file is made private (0o600), the saved file must not stay so."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (setting it to read it back would,
    for an instant, give another thread's new files no mask at all)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o077)  # elsewhere: read by setting it (a strict mask for that instant), then put back
    os.umask(umask)
    return umask


def atomic_write_bytes(path: str | os.PathLike, data: bytes | None = None, writer=None) -> Path:
    """Write ``data`` (or call ``writer(fileobj)``) to ``path`` atomically; ``path`` as given is returned.
    A symbolic link is written through, as ``open(path, "wb")`` (and so ``torch.save``) would: its target is
    replaced, the link kept (renaming over the link would turn it into a file and leave the target stale)."""
    given = Path(path)
    path = Path(os.path.realpath(given))
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    mode = _mode_for(path)
    fd, tmp = _locked_temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            if writer is not None:
                writer(fh)
            else:
                fh.write(data)
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            fh.flush()
            os.fsync(fh.fileno())
            os.replace(tmp, path)  # while the lock is held
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return given


def folder_problem(path: str | os.PathLike, trial: bool = False) -> tuple[str | None, Path]:
    """Whether the folder ``path`` can be made (or written) later, checked without leaving anything:
    ``(None, ancestor)`` when it can, else ``("Not a directory" | "Permission denied" | …, ancestor)``,
    ``ancestor`` being ``path`` or its nearest existing parent (the one that decides).  With ``trial`` (a
    check made once before a long run) a folder is also made there and removed at once: the permission bits
    do not tell everything (root on a read-only or special file system such as /proc)."""
    base = Path(path)
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        return "Not a directory", base
    if not os.access(base, os.W_OK | os.X_OK):
        return "Permission denied", base
    if not trial:
        return None, base
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".nablagrad-check-", dir=base))
    except OSError as exc:
        return exc.strerror or "cannot create a folder there", base
    return None, base
