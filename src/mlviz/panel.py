"""Panels: one subplot of an animation each.

A panel draws what never changes once, in :meth:`Panel.setup`, and returns the artists it
changed from :meth:`Panel.update`; the renderer then blits only those. A panel that only
knows how to draw everything can subclass :class:`RedrawPanel` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

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
      whole run (every snapshot is in ``run.snapshots``); create the artists to animate.
    * ``update(snapshot)``: set the moving artists to this snapshot's state and return all
      of them. It must not depend on which frames came before. The renderer draws the
      returned artists, in z-order, over the static background; a static artist that must
      stay above moving ones is returned too.

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

    def requires(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(fields, traces)`` this panel reads: by default its class attributes."""
        return tuple(self.fields), tuple(self.traces)

    def setup(self, ax: Axes, run: Run) -> None:
        raise NotImplementedError

    def update(self, snapshot: Snapshot) -> Sequence[Artist] | None:
        raise NotImplementedError


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
