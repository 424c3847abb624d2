"""A composition: what one animation draws, as cells (a run and its scene) laid out and
synchronised by epoch.

A single run is the one-cell case (:meth:`Composition.single`, drawn on its scene's grid by
:class:`SceneLayout`); a sweep (:mod:`mlviz.sweep`) is several cells and a layout of its
own. The :class:`~mlviz.Renderer` draws any composition the same way: it asks the layout
to set up a figure (:meth:`Layout.build`), then updates the returned :class:`Drawing` to
each frame.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .errors import plugin_step
from .scene import Scene, fit_figsize
from .snapshot import Snapshot
from .trainer import Run

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure, SubFigure

    from .panel import Panel
    from .theme import Theme


@dataclass(frozen=True)
class RunCell:
    """One run and the scene it is drawn with; ``label`` names it among several
    (a sweep's ``"lr=0.1"``; empty for a single run)."""

    run: Run
    scene: Scene
    label: str = ""


class Drawing(Protocol):
    """A figure a layout has set up: it moves every cell to a frame."""

    def update(self, index: int) -> tuple[list[Artist], bool]:
        """Show frame ``index``: (the artists that changed, whether to redraw it all)."""
        ...


class Layout(Protocol):
    """Where the cells of a composition go, and what is drawn around them."""

    def build(self, fig: Figure | SubFigure, composition: Composition, theme: Theme) -> Drawing:
        """Set up fresh copies of every panel on ``fig``; return what updates them."""
        ...


def _frozen(values: np.ndarray) -> np.ndarray:
    values = np.array(values)
    values.setflags(write=False)
    return values


@dataclass(frozen=True, repr=False)
class Composition:
    """The cells of one animation, the epoch of each frame, and their layout.

    Frame ``i`` shows, for every cell, snapshot ``rows[c, i]`` of its run: by default its
    latest drawn snapshot at or before ``epochs[i]`` (or its first). ``figsize`` is the
    figure's size in inches.
    """

    cells: tuple[RunCell, ...]
    epochs: np.ndarray
    layout: Layout
    figsize: tuple[float, float]
    rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not self.cells:
            raise ValueError("a composition needs at least one cell")
        for cell in self.cells:
            if cell.run.n_frames == 0:
                raise ValueError("the run has no snapshot to draw")
        epochs = _frozen(np.asarray(self.epochs, dtype=int))
        if epochs.ndim != 1 or not len(epochs):
            raise ValueError("a composition needs at least one frame epoch")
        object.__setattr__(self, "epochs", epochs)
        rows: Any = self.rows
        if rows is None:
            rows = [np.maximum(np.searchsorted([s.epoch for s in cell.run.snapshots],
                                               epochs, side="right") - 1, 0)
                    for cell in self.cells]
        rows = _frozen(np.asarray(rows, dtype=int).reshape(len(self.cells), len(epochs)))
        object.__setattr__(self, "rows", rows)

    @classmethod
    def single(cls, scene: Scene, run: Run) -> Composition:
        """One run drawn on its scene's grid, one frame per snapshot."""
        epochs = [s.epoch for s in run.snapshots] or [0]
        return cls((RunCell(run, scene),), np.asarray(epochs), SceneLayout(),
                   tuple(scene.figsize or (0.0, 0.0)),  # type: ignore[arg-type]
                   np.arange(run.n_frames)[None, :])

    def __repr__(self) -> str:
        return f"<Composition of {len(self.cells)} cell(s), {self.n_frames} frames>"

    @property
    def n_frames(self) -> int:
        return len(self.epochs)

    @property
    def runs(self) -> tuple[Run, ...]:
        return tuple(cell.run for cell in self.cells)

    def index(self, c: int, i: int) -> int:
        """Which of cell ``c``'s snapshots frame ``i`` shows."""
        assert self.rows is not None
        return int(self.rows[c, i])

    def snapshot(self, c: int, i: int) -> Snapshot:
        return self.cells[c].run.snapshots[self.index(c, i)]

    def check(self, algorithm: str = "") -> None:
        """Every cell's scene against its run (see :meth:`mlviz.Scene.check`)."""
        for cell in self.cells:
            cell.scene.check(cell.run, algorithm)

    def sized(self, width: int, height: int) -> tuple[Composition, float]:
        """This composition drawn ``width`` x ``height`` pixels: (composition, dpi); the
        figure keeps its area in inches (see :meth:`mlviz.Scene.sized`)."""
        figsize, dpi = fit_figsize(self.figsize, width, height)
        return replace(self, figsize=figsize), dpi


class SceneLayout:
    """The one-cell layout: the cell's panels on its scene's grid, the scene's title and
    figure legend."""

    @plugin_step("panel")
    def build(self, fig: Figure | SubFigure, composition: Composition, theme: Theme) -> Drawing:
        cell = composition.cells[0]
        scene = cell.scene
        grid = fig.add_gridspec(
            scene.rows, scene.cols or 1,
            width_ratios=scene.width_ratios, height_ratios=scene.height_ratios,
        )
        panels = [copy.deepcopy(panel) for panel in scene.panels]
        for panel in panels:
            panel.theme = theme
        for panel, where in zip(panels, scene.cells):
            ax = fig.add_subplot(grid[where.top:where.bottom, where.left:where.right],
                                 projection=panel.projection)
            panel.setup(ax, cell.run)
        if scene.title:
            fitted_title(fig, scene.title)
        if scene.legend:
            figure_legend(fig, scene.legend)
        return PanelsDrawing(composition, [panels])


class PanelsDrawing:
    """Updates each cell's panels to the cell's snapshot of the frame."""

    def __init__(self, composition: Composition, panels: Sequence[Sequence[Panel]]) -> None:
        self.composition = composition
        self.panels = panels

    @plugin_step("panel")
    def update(self, index: int) -> tuple[list[Artist], bool]:
        changed: list[Artist] = []
        full = False
        for c, panels in enumerate(self.panels):
            snapshot = self.composition.snapshot(c, index)
            for panel in panels:
                artists = updated_artists(panel, panel.update(snapshot))
                if artists is None:
                    full = True
                else:
                    changed.extend(artists)
        return changed, full


def updated_artists(panel: Panel, result: object) -> list[Artist] | None:
    """What a panel's ``update`` returned, as a list of artists (``None``: redraw it all);
    a :class:`~mlviz.errors.ContractError` naming the panel for anything else."""
    from matplotlib.artist import Artist

    if result is None:
        return None
    try:
        items = None if isinstance(result, (str, bytes)) else list(result)  # type: ignore[call-overload]
    except TypeError:
        items = None
    if items is None or not all(isinstance(item, Artist) for item in items):
        from .errors import ContractError

        name = type(panel).name or type(panel).__name__
        raise ContractError(f"panel {name}: update() must return a list of the artists it "
                            f"changed (or None to redraw everything), got {result!r:.80}")
    return items


def fitted_title(fig: Figure | SubFigure, text: str, **kwargs: Any) -> None:
    """The figure's title, broken into two lines (at the space nearest its middle) when one
    line would be wider than the frame, as a large font scale makes it."""
    title = fig.suptitle(text, **kwargs)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    if "\n" in text or title.get_window_extent(renderer).width <= 0.97 * fig.bbox.width:
        return
    spaces = [i for i, c in enumerate(text) if c == " "]
    if spaces:
        cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
        title.set_text(f"{text[:cut]}\n{text[cut + 1:]}")


def figure_legend(fig: Figure | SubFigure, place: str) -> None:
    """One legend for the whole figure: every labelled artist of every panel, once each."""
    handles: dict[str, Artist] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if not handles:
        return
    if place not in ("lower center", "upper center"):
        fig.legend(handles.values(), handles.keys(), loc=f"outside {place}", ncols=1)
        return
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    for rows in range(1, len(handles) + 1):  # one row if it fits the width, else more
        columns = -(-len(handles) // rows)
        legend = fig.legend(handles.values(), handles.keys(), loc=f"outside {place}",
                            ncols=columns)
        if columns == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return
        legend.remove()


__all__ = ["Composition", "Drawing", "Layout", "PanelsDrawing", "RunCell", "SceneLayout",
           "figure_legend", "fitted_title", "updated_artists"]
