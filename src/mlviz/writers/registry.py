"""Finding the writer for a path: by its suffix, among the registered writers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MlvizError
from .atomic import check_folder
from .base import Writer

if TYPE_CHECKING:
    from ..plugins import Registry


def registered_writers(registry: Registry | None = None) -> dict[str, type[Writer]]:
    """The writers of ``registry`` (the installed plugins' when None), by suffix."""
    if registry is None:
        from ..session import registry as session_registry

        registry = session_registry()
    return registry.writers


def writer_class(path: str | Path, registry: Registry | None = None) -> type[Writer]:
    """The registered writer for ``path``'s suffix; :class:`MlvizError` for an unknown one,
    listing the registered suffixes."""
    writers = registered_writers(registry)
    suffix = Path(path).suffix.lower()
    if suffix not in writers:
        known = ", ".join(sorted(writers)) or "none (no writer is installed)"
        raise MlvizError(f"unknown output type '{suffix or Path(path).name}': use one of {known}")
    return writers[suffix]


def check_fps(path: str | Path, fps: float, registry: Registry | None = None) -> float:
    """``fps`` if the format ``path``'s suffix picks can store it (one-line error if not)."""
    return writer_class(path, registry).check_fps(fps)


def check_output_path(path: str | Path, registry: Registry | None = None) -> None:
    """Fail early, with a one-line error, if ``path`` cannot be written: an unknown suffix,
    a missing optional dependency of its format, or a folder that cannot take it."""
    writer_class(path, registry).check_available()
    check_folder(Path(path))


def open_writer(path: str | Path, fps: float = 5.0, *, hold: float = 0.0,
                captions: Sequence[str] | None = None,
                registry: Registry | None = None,
                chapters: Sequence[tuple[int, str, str]] | None = None) -> Writer:
    """The writer its suffix picks for ``path`` (from ``registry``), ready for frames.

    ``hold``: seconds the last frame stays on screen (at least one frame's time);
    ``captions``: one text per frame, for writers that can show it; ``chapters``:
    ``(first frame, title, sentence)`` per chapter, given only to writers that take them
    (a writer written for mlviz 0.2 does not).
    """
    cls = writer_class(path, registry)
    if chapters is not None and takes_chapters(cls):
        return cls(path, fps=fps, hold=hold, captions=captions, chapters=chapters)
    return cls(path, fps=fps, hold=hold, captions=captions)


def takes_chapters(cls: type[Writer]) -> bool:
    """Whether ``cls(...)`` accepts ``chapters=`` (mlviz 0.2 writers do not)."""
    import inspect

    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "chapters" or p.kind is p.VAR_KEYWORD for p in parameters)
