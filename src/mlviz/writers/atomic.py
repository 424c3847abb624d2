"""Atomic files: a locked temporary file beside the target, moved over it only when done.

Every writer (and the records, cache and gallery) writes into a hidden temporary file beside
the target, ``.STEM.mlviz-PID-RANDOM.part.SUFFIX``, holding an ``flock`` on it while it
writes; it is fsync'd and renamed over the target on success, deleted otherwise. The
temporary file of a process that was killed outright (SIGKILL) is removed by the next
writer in that folder, once its process is gone and nobody holds its lock: a render still
running is never touched.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import LimitError, MlvizError, OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: stale files are judged by pid alone
    fcntl = None  # type: ignore[assignment]

#: Characters of the target's stem kept in its temporary name, so that the name fits.
TMP_STEM_CHARS = 40
_PART = re.compile(r"\..*\.mlviz-(?P<pid>[0-9]{1,10})-[0-9a-f]+\.part\.[A-Za-z0-9]+", re.S)
#: Absolute paths of this process's temporary files that are still being written.
_OWN: set[str] = set()


@atexit.register
def _remove_own_parts() -> None:
    """At exit, remove this process's temporary files that no writer finished or aborted:
    a signal can land between creating one and entering the writer's ``with`` block."""
    for path in list(_OWN):
        match = _PART.fullmatch(os.path.basename(path))
        if match and int(match["pid"]) == os.getpid():  # not a forked child's inheritance
            try:
                os.unlink(path)
            except OSError:
                pass


def move_into_place(tmp: str | Path, path: str | Path) -> None:
    """Flush a finished temporary file to disk and rename it to ``path``.

    The file gets a new file's usual permissions (``0o666`` less the umask): temporary
    files are created readable by their owner only.
    """
    mask = os.umask(0o022)
    os.umask(mask)
    handle = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


def check_folder(path: Path) -> None:
    """One-line errors for a target whose folder is missing or read-only, whose name is
    too long, or that is a folder."""
    folder = path.parent
    if not folder.is_dir():
        raise MlvizError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MlvizError(f"output folder is not writable: {folder}")
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    length = len(os.fsencode(path.name))
    if length > name_max:
        raise LimitError(f"output file name is {length} bytes long; this folder allows at "
                         f"most {name_max}")
    if path.is_dir():
        raise MlvizError(f"output path is a folder: {path}")


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """A locked temporary file beside ``path``, as writers use, moved over ``path`` (fsync'd)
    only if the block succeeds; deleted otherwise. A failed write is an ``OutputError``."""
    path = Path(path)
    tmp, lock = create_part(path, path.suffix)
    try:
        yield tmp
        move_into_place(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            kept = "the existing file is unchanged" if path.exists() else "nothing was written"
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}; {kept}") from None
        raise
    finally:
        _OWN.discard(os.path.abspath(tmp))
        if lock is not None:
            os.close(lock)
    fsync_folder(path.parent)


def remove_stale_parts(folder: str | Path) -> list[Path]:
    """Delete the temporary files in ``folder`` left by writers that were killed outright.

    A file is stale when the process named in it is gone (or is this process, which is not
    writing it) and nobody holds its lock. Returns the paths removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _PART.fullmatch(entry.name)
        if match is None or os.path.abspath(entry.path) in _OWN:
            continue
        pid = int(match["pid"])
        if pid != os.getpid() and _alive(pid):
            continue
        if _unlink_unlocked(entry.path):
            removed.append(Path(entry.path))
    return removed


def create_part(path: Path, suffix: str) -> tuple[Path, int | None]:
    """Create and lock a fresh temporary file beside ``path``: (its path, the lock's fd)."""
    remove_stale_parts(path.parent)
    stem = path.stem[:TMP_STEM_CHARS]
    while True:
        tmp = path.parent / f".{stem}.mlviz-{os.getpid()}-{secrets.token_hex(4)}.part{suffix}"
        key = os.path.abspath(tmp)
        _OWN.add(key)  # before it exists: another writer here must not take it for stale
        try:
            handle = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            _OWN.discard(key)
            continue
        except OSError as exc:
            _OWN.discard(key)
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                return tmp, handle
            except OSError:  # a file system without locks: the pid in the name still guards it
                pass
        os.close(handle)
        return tmp, None


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a zombie counts: it may not be reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _unlink_unlocked(path: str) -> bool:
    """Delete the regular file ``path`` if no process holds its lock; whether it was."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        opened, current = os.fstat(handle), os.lstat(path)
        if not stat.S_ISREG(opened.st_mode) or \
                (opened.st_dev, opened.st_ino) != (current.st_dev, current.st_ino):
            return False
        os.unlink(path)
        return True
    except OSError:  # locked: a writer is still at work; or gone meanwhile
        return False
    finally:
        os.close(handle)


def fsync_folder(folder: Path) -> None:
    """Make a rename durable (best effort: not every file system can sync a folder)."""
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def release_part(tmp: Path, lock: int | None) -> None:
    """Forget the temporary file ``tmp`` (finished or deleted) and release its lock."""
    _OWN.discard(os.path.abspath(tmp))
    if lock is not None:
        os.close(lock)
