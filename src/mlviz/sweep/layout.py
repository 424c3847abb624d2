"""Where a sweep's panels go and how its figure is drawn (:class:`SweepLayout`)."""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..composition import figure_legend, fitted_title, updated_artists
from ..errors import plugin_step
from ..panels.metric import MetricCurvePanel
from ..scene import GROWTH_PER_CELL, Scene
from ..theme import Theme
from .declare import DIVERGED, MAX_SCALE, TARGET_ASPECT

#: The 16:9 figure a sweep's layout grows from, in inches (a third per panel column past
#: two and row past one, up to :data:`MAX_SCALE` times); the frame is then drawn at
#: :data:`FRAME_SIZE` pixels, so a larger layout has smaller text, not a larger frame.
BASE_FIGSIZE = (9.6, 5.4)
#: A sweep's frame in pixels unless a size is asked for: every default frame's.
FRAME_SIZE = (1280, 720)

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.text import Text

    from ..composition import Composition, Drawing
    from ..panel import Panel
    from ..trainer import Run
    from .runs import Sweep


def _ratios(scene: Scene) -> list[float]:
    """Each panel's width share: the scene's width ratios on one row, else equal."""
    if scene.mosaic is None and scene.rows == 1 and scene.width_ratios is not None:
        return [float(r) for r in scene.width_ratios]
    return [1.0] * len(scene.panels)


def _title(scenes: Sequence[Scene], keys: Sequence[str]) -> str:
    """The scenes' common title (cut at a word where they differ), and what is swept."""
    titles = [scene.title for scene in scenes]
    common = os.path.commonprefix(titles)
    if common != titles[0] or any(t != titles[0] for t in titles):
        common = common[:common.rfind(" ")] if " " in common else ""
    common = common.strip(" -–—,:;(")
    swept = " and ".join(keys)
    return f"{common} — by {swept}" if common else f"Compared by {swept}"


class SweepLayout:
    """Where a sweep's panels go: a block of panels per run, on a grid of blocks (rows of
    the first key, columns of the second; one key: whatever comes nearest well-shaped
    panels), and the overlaid panels beside it (a column each, spanning every row) or
    below it (a row each, spanning every column).

    A block holds a run's side-by-side panels in a row, or (``vertical``) in a column,
    whichever shape suits the frame. ``figsize`` grows with the grid, from 9.6 x 5.4 in
    by a third per column past two and row past one, to at most twice that; the frame is
    :data:`FRAME_SIZE` (1280 x 720 pixels) unless a size is asked for.
    """

    def __init__(self, sweep: Sweep) -> None:
        scenes, overlay, shape, keys = sweep.scenes, sweep.overlay, sweep.shape, sweep.keys
        self.sweep = sweep
        scene = scenes[0]
        count = len(scene.panels)
        self.overlay = tuple(overlay)
        self.side = tuple(i for i in range(count) if i not in self.overlay)
        ratios = _ratios(scene)
        mean = sum(ratios) / len(ratios)
        ratios = [r / mean for r in ratios]  # a panel of average width: 1
        self.side_ratios = [ratios[i] for i in self.side]
        self.blocks, self.vertical, self.below, columns, rows = self._arrange(shape)
        first_side = self.side[0] if self.side else count
        self.left: tuple[int, ...] = ()
        self.right: tuple[int, ...] = ()
        if self.below:
            pass
        else:
            self.left = tuple(i for i in self.overlay if i < first_side)
            self.right = tuple(i for i in self.overlay if i > first_side)
        block = 1.0 if self.vertical else sum(self.side_ratios)
        self.width_ratios = [*(max(ratios[i], 1.0) for i in self.left),
                             *([block] * self.blocks[1]),
                             *(max(ratios[i], 1.0) for i in self.right)] or [1.0]
        tall = len(self.side) if self.vertical else 1
        self.height_ratios = [*([tall] * self.blocks[0]),
                              *([1.0] * (len(self.overlay) if self.below else 0))]
        scale = _scale(columns, rows)
        self.figsize = (round(BASE_FIGSIZE[0] * scale, 3), round(BASE_FIGSIZE[1] * scale, 3))
        self.title = _title(scenes, keys)
        self.legend = scene.legend

    def _arrange(self, shape: Sequence[int]) -> tuple[tuple[int, int], bool, bool, int, int]:
        """((block rows, block columns), vertical blocks, overlays below, panel columns,
        panel rows) that bring the panels nearest :data:`TARGET_ASPECT` (an empty block
        slot costs)."""
        side, overlays = len(self.side), len(self.overlay)
        if not side:
            return (0, 0), False, False, overlays, 1
        runs = math.prod(shape)
        grids = [(shape[0], shape[1])] if len(shape) == 2 else \
            [(-(-runs // cols), cols) for cols in range(1, runs + 1)]
        best = None
        for rows, cols in grids:
            empty = rows * cols - runs
            if len(shape) == 1 and empty >= cols:
                continue
            for vertical in ((False, True) if side > 1 else (False,)):
                for below in ((False, True) if overlays else (False,)):
                    columns = cols if vertical else cols * side
                    panel_rows = rows * side if vertical else rows
                    if below:
                        panel_rows += overlays
                    else:
                        columns += overlays
                    scale = _scale(columns, panel_rows)
                    # Inches a panel has, less what its labels, titles and ticks take.
                    width = BASE_FIGSIZE[0] * scale / columns - 0.6
                    height = BASE_FIGSIZE[1] * scale / panel_rows - 0.9
                    cost = abs(math.log(max(width, 0.1) / max(height, 0.1) / TARGET_ASPECT)) \
                        + 0.4 * empty
                    if best is None or cost < best[0] - 1e-9:
                        best = (cost, (rows, cols), vertical, below, columns, panel_rows)
        assert best is not None
        return best[1:]

    def place(self, r: int) -> tuple[int, int]:
        """Grid row and column of run ``r``'s block."""
        return divmod(r, self.blocks[1])


    @plugin_step("panel")
    def build(self, fig: Figure | SubFigure, composition: Composition, theme: Theme) -> Drawing:
        """Set up, per run, a copy of every side-by-side panel (the copies of one panel
        share the union of their limits) and one copy of every overlaid panel with all
        runs; see :class:`SweepDrawing`."""
        layout, sweep = self, self.sweep
        rows, cols = layout.blocks
        grid = fig.add_gridspec(max(len(layout.height_ratios), 1), len(layout.width_ratios),
                                width_ratios=layout.width_ratios,
                                height_ratios=layout.height_ratios or None)
        colors = theme.colors(sweep.n_runs)
        labels = sweep.labels
        side: list[list[Panel]] = []
        titles: list[Text | None] = []
        axes: dict[int, list[Any]] = {p: [] for p in layout.side}
        shared = [run for run in sweep.runs if run.stopped != DIVERGED] or list(sweep.runs)
        for r, (run, scene) in enumerate(zip(sweep.runs, sweep.scenes)):
            copies: list[Panel] = []
            if layout.side:
                row, col = layout.place(r)
                block = fig.add_subfigure(grid[row, len(layout.left) + col])
                inner = block.add_gridspec(len(layout.side), 1) if layout.vertical else \
                    block.add_gridspec(1, len(layout.side), width_ratios=layout.side_ratios)
                for j, p in enumerate(layout.side):
                    panel = copy.deepcopy(scene.panels[p])
                    panel.theme = run_theme(theme, colors[r])
                    ax = block.add_subplot(inner[j, 0] if layout.vertical else inner[0, j],
                                           projection=panel.projection)
                    if can_share(panel):
                        panel.share_runs(shared)  # type: ignore[attr-defined]
                    panel.setup(ax, run)
                    copies.append(panel)
                    axes[p].append(ax)
                longest = f"{labels[r]} — diverged at epoch {int(run.epochs[-1])}"
                titles.append(block.suptitle(longest, color=colors[r],
                                             fontsize=theme.fontsize(11.5), fontweight="bold"))
            else:
                titles.append(None)
            side.append(copies)
        keep = [run.stopped != DIVERGED for run in sweep.runs]
        for p in layout.side:
            share_limits(axes[p], keep)
            titled = [layout.place(r)[1] == 0 for r in range(sweep.n_runs)]
            once_per_row(axes[p], titled)
        overlays = []
        beside = (*layout.left, *layout.right)
        for k, p in enumerate(layout.overlay if layout.below else beside):
            if layout.below:
                where = grid[rows + k, :]
            else:
                where = grid[:, k if k < len(layout.left) else k + cols]
            panel = copy.deepcopy(sweep.scenes[0].panels[p])
            panel.theme = theme
            ax = fig.add_subplot(where, projection=panel.projection)
            logged = on_epochs(panel) and log_epochs(sweep.runs)
            if logged:
                ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
            panel.setup_overlay(ax, sweep.runs, labels, colors)  # type: ignore[attr-defined]
            if logged:
                from matplotlib.ticker import FuncFormatter

                last = max(float(run.epochs[-1]) for run in sweep.runs)
                ax.set_xlim(0, last * 1.25)  # room for the last markers on a log scale
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            overlays.append(panel)
        if layout.title:
            fitted_title(fig, layout.title)
        epoch = fig.text(0.995, 0.995, f"epoch {int(sweep.epochs[-1])}", ha="right",
                         va="top", fontsize=theme.fontsize(10), family="DejaVu Sans Mono",
                         color=theme.text)
        footer = None if layout.side else fig.text(0.5, 0.005, "", ha="center",
                                                   va="bottom", fontsize=theme.fontsize(9))
        if layout.legend:
            figure_legend(fig, layout.legend)  # fig.axes holds the blocks' axes too
        return SweepDrawing(sweep, side, overlays, titles, epoch, footer)


def _scale(columns: int, rows: int) -> float:
    """How much larger than 16:9 at 9.6 x 5.4 in a figure of this many panels is."""
    return min(MAX_SCALE, 1 + GROWTH_PER_CELL * max(0, columns - 2, rows - 1))


def _limits_of(ax) -> list[str]:
    return ["x", "y", "z"] if getattr(ax, "name", "") == "3d" else ["x", "y"]


def share_limits(axes: Sequence[Any], keep: Sequence[bool]) -> None:
    """Give every axis of ``axes`` the union of the limits of those ``keep`` marks (all if
    none); the others are clipped to it (3D artists too)."""
    kept = [ax for ax, k in zip(axes, keep) if k] or list(axes)
    for dim in _limits_of(axes[0]):
        limits = [getattr(ax, f"get_{dim}lim")() for ax in kept]
        lo = min(min(pair) for pair in limits)
        hi = max(max(pair) for pair in limits)
        for ax in axes:
            current = getattr(ax, f"get_{dim}lim")()
            getattr(ax, f"set_{dim}lim")((hi, lo) if current[0] > current[1] else (lo, hi))
    for ax, k in zip(axes, keep):
        if not k and getattr(ax, "name", "") == "3d":
            for artist in ax.get_children():
                if hasattr(artist, "_axlim_clip"):  # matplotlib ≥ 3.10: clip 3D artists
                    artist._axlim_clip = True  # no public setter: matplotlib sets it from
                    # the axlim_clip argument when an artist is made


class SweepDrawing:
    """A sweep figure's moving parts: each run's side-by-side panels, the overlaid panels,
    the blocks' titles (a run's label and how it ended), the epoch and the footer."""

    def __init__(self, sweep: Sweep, side: list[list[Panel]], overlays: list[Panel],
                 titles: list[Any], epoch: Text, footer: Text | None) -> None:
        self.sweep = sweep
        self.side, self.overlays, self.titles = side, overlays, titles
        self.epoch, self.footer = epoch, footer

    @plugin_step("panel")
    def update(self, index: int) -> tuple[list[Artist], bool]:
        """Every run to its snapshot for frame ``index``: (changed artists, full redraw)."""
        sweep, panels = self.sweep, self
        snapshots = [sweep.snapshot(r, index) for r in range(sweep.n_runs)]
        changed: list[Artist] = []
        full = False

        def add(artists: Sequence[Artist] | None) -> None:
            nonlocal full
            if artists is None:
                full = True
            else:
                changed.extend(artists)

        for copies, snapshot in zip(panels.side, snapshots):
            for panel in copies:
                add(updated_artists(panel, panel.update(snapshot)))
        for panel in panels.overlays:
            add(updated_artists(panel, panel.update_overlay(snapshots)))  # type: ignore[attr-defined]
        labels = sweep.labels
        endings = []
        for r, title in enumerate(panels.titles):
            status = sweep.status(r, index)
            if status:
                endings.append(f"{labels[r]} {status}")
            if title is not None:
                title.set_text(f"{labels[r]} — {status}" if status else labels[r])
                changed.append(title)
        panels.epoch.set_text(f"epoch {int(sweep.epochs[index])}")
        changed.append(panels.epoch)
        if panels.footer is not None:
            panels.footer.set_text(" · ".join(endings))
            changed.append(panels.footer)
        return changed, full


def can_share(panel: Panel) -> bool:
    """Whether ``panel`` takes the runs it is compared with (``share_runs(runs)``, called
    before ``setup``), to draw its static part over all of them: one loss surface over the
    union of the runs' extents, so that the same function looks the same in every run."""
    return callable(getattr(panel, "share_runs", None))


def run_theme(theme: Theme, color: str) -> Theme:
    """``theme`` with run colour ``color`` where a panel draws what is the run's own (its
    loss, its path, its current choice), so a run has one colour everywhere it is drawn."""
    return replace(theme, loss=color, accent=color)


def once_per_row(axes: Sequence[Any], titled: Sequence[bool]) -> None:
    """A title the same on every copy of a panel is kept on the copies ``titled`` marks
    (the first column's) and blanked on the others, which keep its room: the columns'
    titles then say only what differs (the run's label above each block)."""
    titles = [ax.get_title() for ax in axes]
    if len(axes) < 2 or not titles[0] or any(t != titles[0] for t in titles):
        return
    for ax, keep in zip(axes, titled):
        if not keep:
            ax.set_title(" ")


#: A run has converged once it has made this share of the way from its first loss to its
#: last; and the epoch axis turns logarithmic when one run takes this many times as many
#: epochs to get there as another.
CONVERGED_SHARE = 0.95
LOG_EPOCHS_RATIO = 10.0


def convergence_epoch(run: Run) -> float | None:
    """Epochs (from the run's first) until ``run``'s loss has come :data:`CONVERGED_SHARE`
    of the way from its first value to its last; ``None`` for a run that diverged or
    whose loss is not finite or never moves."""
    if run.stopped == DIVERGED:
        return None
    epochs = np.asarray(run.epochs, dtype=float)
    losses = np.asarray(run.losses, dtype=float)
    if len(losses) < 2 or not np.all(np.isfinite(losses)):
        return None
    first, last = losses[0], losses[-1]
    if first == last:
        return None
    remaining = np.abs(losses - last) / abs(first - last)
    reached = np.nonzero(remaining <= 1 - CONVERGED_SHARE)[0]
    at = int(reached[0]) if len(reached) else len(losses) - 1
    return float(epochs[at] - epochs[0])


def log_epochs(runs: Sequence[Run]) -> bool:
    """Whether the runs converge decades apart: the slowest takes at least
    :data:`LOG_EPOCHS_RATIO` times the epochs of the fastest (counted from 1)."""
    found = [e for e in map(convergence_epoch, runs) if e is not None]
    if len(found) < 2:
        return False
    return max(found) >= LOG_EPOCHS_RATIO * max(min(found), 1.0)


def on_epochs(panel: Panel) -> bool:
    """Whether ``panel`` draws against the epoch (a metric curve with an epoch axis)."""
    return isinstance(panel, MetricCurvePanel) and panel.xlabel == "epoch"
