"""Panels: one subplot of an animation each.

A panel draws what never changes once, in :meth:`Panel.setup`, and returns the artists it
changed from :meth:`Panel.update`; the renderer then blits only those. A panel that only
knows how to draw everything can subclass :class:`RedrawPanel` instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from .theme import Theme, current_theme

if TYPE_CHECKING:  # matplotlib is imported lazily, when a panel is drawn
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

    from .snapshot import Snapshot
    from .trainer import Run


class Panel:
    """Base class of panels.

    Subclasses set ``name`` (unique, for the ``mlviz_panels`` hook and ``mlviz info``),
    ``projection`` (``None`` for 2D, ``"3d"`` for 3D), and implement:

    * ``setup(ax, run)``: draw the static content once and fix the axis limits from the
      whole run: its traces (:meth:`mlviz.Run.trace`) hold every epoch, and
      :meth:`mlviz.Run.trace_range` gives the range of a trace or of any numeric snapshot
      field over every epoch. ``run.snapshots`` holds only the snapshots that will be drawn
      (``--frames`` changes them): never build a curve or a limit from them. Create the
      artists to animate.
    * ``update(snapshot)``: set the moving artists to this snapshot's state and return all
      of them. It must not depend on which frames came before. The renderer draws the
      returned artists, in z-order, over the static background; a static artist that must
      stay above moving ones (a legend) is passed to :meth:`keep_on_top` in ``setup``.

    A panel declares the data it reads, so a scene is checked before its first frame and
    the panel can be reused by other algorithms: ``fields`` names snapshot fields (or
    ``params.KEY``), ``traces`` names per-epoch traces of the run (see
    :meth:`mlviz.Run.trace`; ``"params"`` asks for every parameter at every epoch).
    Override :meth:`requires` when they depend on the instance.

    Each figure the renderer builds gets its own copy of the panel, so ``setup`` may keep
    state on ``self`` freely.

    Colours come from ``self.theme`` (a :class:`mlviz.theme.Theme`: ``theme.color(i)``,
    ``theme.marker(i)``, ``theme.loss``, ``theme.ink``, ...), never from literals, so the
    panel follows ``--theme``; the renderer sets it before ``setup``.
    """

    name: ClassVar[str] = ""
    projection: ClassVar[str | None] = None
    fields: ClassVar[tuple[str, ...]] = ()
    traces: ClassVar[tuple[str, ...]] = ()

    @property
    def theme(self) -> Theme:
        """The theme this panel is drawn with (the current one until the renderer sets it)."""
        return self.__dict__.get("_theme") or current_theme()

    @theme.setter
    def theme(self, theme: Theme) -> None:
        self.__dict__["_theme"] = theme

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        update = cls.__dict__.get("update")
        if update is not None and not getattr(update, "_adds_on_top", False):
            cls.update = _adding_on_top(update)  # type: ignore[method-assign]

    def keep_on_top(self, *artists: Artist) -> None:
        """Keep ``artists`` (a legend, say: static, drawn once in ``setup``) above every
        moving artist: they are drawn again after them on every frame. Call it at the end of
        ``setup``; their z-order is raised above every artist of their axes."""
        on_top = self.__dict__.setdefault("_on_top", [])
        for artist in artists:
            ax = artist.axes
            others = [a.get_zorder() for a in (ax.get_children() if ax is not None else [])
                      if a is not artist]
            artist.set_zorder(max([artist.get_zorder(), *others]) + 1)
            if artist not in on_top:
                on_top.append(artist)

    def requires(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(fields, traces)`` this panel reads: by default its class attributes."""
        return tuple(self.fields), tuple(self.traces)

    def setup(self, ax: Axes, run: Run) -> None:
        raise NotImplementedError

    def update(self, snapshot: Snapshot) -> Sequence[Artist] | None:
        raise NotImplementedError


def _adding_on_top(update: Callable[..., Any]) -> Callable[..., Any]:
    """``update`` returning also the artists kept on top (:meth:`Panel.keep_on_top`)."""

    @functools.wraps(update)
    def wrapped(self: Panel, snapshot: Snapshot) -> Any:
        artists = update(self, snapshot)
        on_top = self.__dict__.get("_on_top")
        if not on_top or artists is None:
            return artists
        artists = list(artists)
        return artists + [a for a in on_top if not any(a is b for b in artists)]

    wrapped._adds_on_top = True  # type: ignore[attr-defined]
    return wrapped


class RedrawPanel(Panel):
    """A panel that redraws everything each frame: simple to write, slower to render.

    Implement ``draw(ax, run, snapshot)``; the axes are cleared before each call.
    """

    def setup(self, ax: Axes, run: Run) -> None:
        self.ax = ax
        self.run = run

    def draw(self, ax: Axes, run: Run, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def update(self, snapshot: Snapshot) -> None:
        self.ax.cla()
        self.draw(self.ax, self.run, snapshot)
        return None
