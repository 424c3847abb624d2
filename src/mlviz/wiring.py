"""Where lower layers find what a higher one provides: the current session's registry.

A module low in mlviz's layers (the theme resolving ``--theme NAME``, a writer lookup) may
need every installed plugin, but may not import the session, which sits above it. The
package installs the source here when it is imported (``mlviz/__init__.py``), so asking
:func:`default_registry` always reaches :func:`mlviz.session.current`. This module imports
nothing: ``import mlviz`` stays instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .registry import Registry

_SOURCE: Callable[[], Registry] | None = None


def set_default_source(source: Callable[[], Registry]) -> None:
    """Where :func:`default_registry` gets the registry (``mlviz`` installs the session's)."""
    global _SOURCE
    _SOURCE = source


def default_registry() -> Registry:
    """The registry of the current session (every installed plugin, loaded once)."""
    if _SOURCE is None:  # pragma: no cover - the package installs it on import
        raise RuntimeError("mlviz.wiring: no default registry source installed")
    return _SOURCE()
