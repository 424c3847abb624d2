"""A cache of what ``mlviz list`` and ``mlviz info NAME`` print, so that they answer in a
blink instead of importing numpy and every plugin.

An answer is kept (stdout and stderr, plugin warnings included) only when the command
succeeded, under a fingerprint of everything it depends on: the Python running, ``sys.path``,
the installed distributions (the ``*.dist-info``, ``*.egg-info`` and ``*.pth`` names in
every folder on the path, so installing, upgrading or removing any package changes it), the
``mlviz`` entry points of each, and the size and modification time of every Python file of
mlviz and of each plugin's top-level package or module (so editing a plugin in an editable
install changes it too), and ``MLVIZ_DISABLE_PLUGINS``. Computing it imports nothing from mlviz or the plugins.

The cache is one JSON file, ``$MLVIZ_CACHE_DIR`` or ``$XDG_CACHE_HOME/mlviz`` (default
``~/.cache/mlviz``), written through the writers' atomic temporary file; it holds the
answers of the last :data:`KEEP` fingerprints. ``MLVIZ_NO_CACHE=1`` turns it off. Anything wrong with
it (unreadable, corrupt, unwritable) just means the command runs in full.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

#: Bump when what is stored changes meaning.
VERSION = 1
FILE_NAME = f"commands-v{VERSION}.json"
ENTRY_POINT_GROUP = "mlviz"
#: Fingerprints whose answers are kept (a few environments: venvs, PYTHONPATHs).
KEEP = 8


def cache_dir() -> Path | None:
    """The folder of the cache, or None when it is turned off."""
    if os.environ.get("MLVIZ_NO_CACHE", "").strip() not in ("", "0"):
        return None
    folder = os.environ.get("MLVIZ_CACHE_DIR")
    if folder:
        return Path(folder)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlviz"


def fingerprint() -> str:
    """A digest of everything ``mlviz list`` and ``mlviz info`` output depends on."""
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(repr(parts).encode("utf-8", "surrogateescape"))

    add(VERSION, sys.version, sys.executable, sys.path,
        os.environ.get("MLVIZ_DISABLE_PLUGINS", ""))  # plugins left out change the answer
    roots = {"mlviz"}
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info", ".pth", ".egg-link")):
                continue
            add(entry, name)
            text = _read(os.path.join(entry or ".", name, "entry_points.txt"))
            if text is not None:
                group = _group(text, ENTRY_POINT_GROUP)
                add(group)
                roots.update(_top_level(value) for value in group.values())
    for root in sorted(roots):
        add(root, _source_files(root))
    return digest.hexdigest()


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _group(text: str, group: str) -> dict[str, str]:
    """The ``name = value`` lines of section ``[group]`` of an ``entry_points.txt``."""
    section, found = None, {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line and not line.startswith(("#", ";")):
            name, _, value = line.partition("=")
            found[name.strip()] = value.strip()
    return found


def _top_level(value: str) -> str:
    """``pkg`` of an entry point value ``pkg.module:attr [extra]``."""
    return value.partition(":")[0].partition("[")[0].strip().partition(".")[0]


def python_files(root: str) -> tuple[list[str], str]:
    """Every Python file of the top-level module ``root``, found without importing it, and
    the folder they are relative to; ``([], "")`` when it is not installed."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(root)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return [], ""
    if not spec.submodule_search_locations:
        return ([spec.origin] if spec.origin else []), os.path.dirname(spec.origin or "")
    files = []
    for folder in spec.submodule_search_locations:
        for path, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            files += [os.path.join(path, n) for n in sorted(names) if n.endswith(".py")]
    return files, list(spec.submodule_search_locations)[0]


def _source_files(root: str) -> list[tuple[str, int, int]]:
    """(path, mtime in ns, size) of every Python file of top-level module ``root``."""
    out = []
    for file in python_files(root)[0]:
        try:
            info = os.stat(file)
        except OSError:
            continue
        out.append((file, info.st_mtime_ns, info.st_size))
    return out


def _command_key(args) -> str | None:
    if args.command == "list":
        return "list"
    if args.command == "info":
        return f"info {args.algorithm}"
    return None


def _load(path: Path) -> dict[str, dict]:
    """Fingerprint -> {command: answer}, oldest first (empty if unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION or \
            not isinstance(data.get("fingerprints"), dict):
        return {}
    return {k: v for k, v in data["fingerprints"].items() if isinstance(v, dict)}


def _store(path: Path, key: str, command: str, answer: dict) -> None:
    """Add one answer; the file keeps the answers of the last :data:`KEEP` fingerprints."""
    from .errors import MlvizError
    from .writers import atomic_output

    table = _load(path)
    answers = {**table.pop(key, {}), command: answer}
    table = dict(list(table.items())[-(KEEP - 1):]) if KEEP > 1 else {}
    table[key] = answers  # the newest last
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp:
            Path(tmp).write_text(json.dumps({"version": VERSION, "fingerprints": table}),
                                 encoding="utf-8")
    except (OSError, MlvizError):
        pass  # a cache that cannot be written is no cache: the answer was printed anyway


class _Tee(io.TextIOBase):
    """A text stream that writes to ``stream`` and keeps a copy of everything."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def cached_command(args, run: Callable[[], int]) -> int:
    """Answer ``mlviz list`` or ``mlviz info NAME`` from the cache, or ``run()`` it (the
    full command) and keep its answer if it succeeded; return the exit status."""
    folder = cache_dir()
    command = _command_key(args)
    if folder is None or command is None:
        return run()
    try:
        key = fingerprint()
    except Exception:  # never let the cache break the command
        return run()
    path = folder / FILE_NAME
    answer = _load(path).get(key, {}).get(command)
    if isinstance(answer, dict) and isinstance(answer.get("out"), str) and \
            isinstance(answer.get("err"), str):
        return _replay(answer["out"], answer["err"])
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(out), _Tee(err)
    try:
        status = run()
        copies = sys.stdout.copy.getvalue(), sys.stderr.copy.getvalue()
    finally:
        sys.stdout, sys.stderr = out, err
    if status == 0:
        _store(path, key, command, {"out": copies[0], "err": copies[1]})
    return status


def _replay(out: str, err: str) -> int:
    """Print a cached answer (already made printable when it was first printed)."""
    import signal

    if err:
        sys.stderr.write(err)
        sys.stderr.flush()
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # ``mlviz info x | head -1``: the reader went away
        from .terminal import discard_stdout

        discard_stdout()
        return 128 + getattr(signal, "SIGPIPE", 13)
    return 0
