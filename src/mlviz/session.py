"""The session: the installed plugins' registry, the theme and options, in one object.

Functions that once took an optional ``registry`` (and loaded every plugin again when given
none) ask the current session instead: :func:`current` returns it, loading the plugins the
first time its registry is needed, once per process. :func:`use` makes another session
current for a ``with`` block (a test's own registry, the CLI's command); its theme is the
one drawn with when none is given (``light`` when the session names none)::

    from mlviz.session import Session, use

    with use(Session(registry=my_registry, theme="dark")):
        mlviz.render("kmeans", "kmeans.gif")

A ``registry=`` argument given to a function still wins over the session's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .registry import Registry
from .theme import LIGHT, Theme, resolve_theme


class Session:
    """A registry (loaded on first use when not given), a theme (name, :class:`Theme` or
    ``None`` for ``light``) and free-form options (e.g. ``{"jobs": 2}``)."""

    def __init__(self, registry: Registry | None = None, theme: str | Theme | None = None,
                 options: Mapping[str, Any] | None = None) -> None:
        self._registry = registry
        self.theme = theme
        self.options: dict[str, Any] = dict(options or {})

    def __repr__(self) -> str:
        loaded = "loaded" if self._registry is not None else "not loaded yet"
        return f"Session(registry={loaded}, theme={self.theme!r}, options={self.options!r})"

    @property
    def registry(self) -> Registry:
        """The session's registry: every installed plugin, loaded the first time it is asked
        for (its warnings then go through :func:`warnings.warn`)."""
        if self._registry is None:
            from .plugins import load_registry

            self._registry = load_registry()
        return self._registry

    def resolve(self, registry: Registry | None = None) -> Registry:
        """``registry`` if given, else this session's."""
        return registry if registry is not None else self.registry

    def resolve_theme(self, theme: str | Theme | None = None,
                      font_scale: float | None = None) -> Theme:
        """``theme`` (or the session's) as a :class:`Theme`, looked up in its registry."""
        chosen = theme if theme is not None else self.theme
        if chosen is None:
            return resolve_theme(LIGHT, None, font_scale)
        registry = self.registry if isinstance(chosen, str) else None
        return resolve_theme(chosen, registry, font_scale)


_DEFAULT = Session()
_CURRENT: ContextVar[Session | None] = ContextVar("mlviz_session", default=None)


def current() -> Session:
    """The session in use: the one a :func:`use` block set, else the process's default."""
    return _CURRENT.get() or _DEFAULT


def registry(given: Registry | None = None) -> Registry:
    """``given``, or the current session's registry (loaded once)."""
    return current().resolve(given)


@contextmanager
def use(session: Session) -> Iterator[Session]:
    """Make ``session`` the current one within the block."""
    token = _CURRENT.set(session)
    try:
        yield session
    finally:
        try:
            _CURRENT.reset(token)
        except ValueError:  # closed from another context (a generator finalized late)
            pass


def reset() -> None:
    """Forget the default session's registry: the next use loads the plugins again (after
    installing or removing one in a running interpreter)."""
    global _DEFAULT
    _DEFAULT = Session()
