"""Where lower layers find what a higher one provides: the current session.

A module low in mlviz's layers (the theme resolving ``--theme NAME``, a writer lookup) may
need every installed plugin, or the session's theme, but may not import the session, which
sits above it. The package installs the source here when it is imported
(``mlviz/__init__.py``), so :func:`default_registry` and :func:`default_theme` always reach
:func:`mlviz.session.current`. This module imports nothing: ``import mlviz`` stays instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .registry import Registry


class SessionLike(Protocol):
    """What lower layers read of a session (:class:`mlviz.session.Session`)."""

    @property
    def registry(self) -> Registry: ...

    theme: Any


_SOURCE: Callable[[], SessionLike] | None = None


def set_session_source(source: Callable[[], SessionLike]) -> None:
    """Where the current session comes from (``mlviz`` installs :func:`mlviz.session.current`)."""
    global _SOURCE
    _SOURCE = source


def _session() -> SessionLike:
    if _SOURCE is None:  # pragma: no cover - the package installs it on import
        raise RuntimeError("mlviz.wiring: no session source installed")
    return _SOURCE()


def default_registry() -> Registry:
    """The registry of the current session (every installed plugin, loaded once)."""
    return _session().registry


def default_theme() -> Any:
    """The current session's theme: a name, a :class:`~mlviz.theme.Theme`, or ``None``."""
    return _session().theme
