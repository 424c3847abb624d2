"""The metric curve: any per-epoch trace of the run, drawn up to the current epoch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

from ..panel import Panel
from .placement import first_free, legend_loc, places_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..snapshot import Snapshot
    from ..trainer import Run

#: Where the readout may go, in order of preference: (x, y, ha, va) in axes fractions.
READOUT_PLACES = places_of("upper right", "upper left", "lower right", "lower left",
                           "center right", "center left", margin=(0.03, 0.05), middle=0.55)
#: Where it goes when every place is taken: above the panel, at its right.
ABOVE = (1.0, 1.02, "right", "bottom")
#: The room the readout takes, in axes fractions (width, height), for placing it.
READOUT_BOX = (0.40, 0.24)


class MetricCurvePanel(Panel):
    """Any per-epoch trace (loss, accuracy, …) up to the current epoch, with a readout.

    Needs the trace ``trace`` (``"loss"`` is always recorded). ``log`` draws a log scale
    (non-positive values are left out); ``higher_is_better`` marks the best value so far
    as the highest, not the lowest; ``references`` draws labelled horizontal lines (e.g.
    the least-squares loss) and keeps them in view. The readout (epoch, value, best) goes
    in the first corner the whole curve never enters, or above the panel if none is free;
    ``readout_label`` names the value there (default: ``label``). ``x`` plots the trace
    against another trace instead of the epoch (e.g. ``x="n_trees"``; the x label
    defaults to its name): the readout then gives ``x``'s current value.

    In a sweep (:mod:`mlviz.sweep`) it can draw several runs on one axis
    (:meth:`setup_overlay`, :meth:`update_overlay`): one curve per run, each in its colour
    and line style, with a legend of the runs' labels instead of the readout.

    Colours come from ``self.theme``: the curve is ``theme.loss`` unless ``color`` is
    given, reference lines and their labels ``theme.muted``.
    """

    name = "metric-curve"

    def __init__(
        self,
        trace: str = "loss",
        *,
        label: str | None = None,
        title: str | None = None,
        log: bool = False,
        higher_is_better: bool = False,
        references: Mapping[str, float] | Sequence[tuple[str, float]] = (),
        xlabel: str | None = None,
        color: str | None = None,
        fmt: str = ".4g",
        x: str = "epoch",
        readout_label: str | None = None,
    ) -> None:
        self.trace = trace
        self.x = x
        self.readout_label = readout_label
        self.label = label or trace
        self.title = self.label.capitalize() if title is None else title
        self.log = log
        self.higher_is_better = higher_is_better
        items = references.items() if isinstance(references, Mapping) else references
        self.references = [(str(name), float(value)) for name, value in items]
        self.xlabel = x if xlabel is None else xlabel
        self.color = color  # None: the theme's loss colour, chosen in setup()
        self.fmt = fmt

    def requires(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (), (self.trace,) if self.x == "epoch" else (self.trace, self.x)

    def _xs(self, run: Run, until: int | None = None) -> np.ndarray:
        """The x values of ``run``'s curve (up to epoch ``until``), as floats."""
        xs = np.asarray(run.trace(self.x, until), dtype=float)
        return xs.reshape(len(xs), -1)[:, 0]

    def _set_xlim(self, ax: Axes, runs: Sequence[Run]) -> None:
        if self.x == "epoch":
            last = max(max(float(run.epochs[-1]) for run in runs), 1.0)
            ax.set_xlim(-0.02 * last, last * 1.02)
            return
        ranges = [run.trace_range(self.x) for run in runs]
        lo = min((r[0] for r in ranges if np.isfinite(r[0])), default=0.0)
        hi = max((r[1] for r in ranges if np.isfinite(r[1])), default=1.0)
        pad = 0.02 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
        ax.set_xlim(lo - pad, hi + pad)

    def setup(self, ax: Axes, run: Run) -> None:
        self.ax = ax
        self.run = run
        epochs = self._xs(run)
        values = self._shown(run.trace(self.trace))
        ax.set_title(self.title)
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.label)
        ax.grid(True)
        self._set_xlim(ax, [run])
        lo, hi = self._limits(values)
        if self.log:
            ax.set_yscale("log")
        ax.set_ylim(lo, hi)
        self._draw_references(ax)
        color = self.color or self.theme.loss
        (self.line,) = ax.plot([], [], color=color, zorder=3)
        (self.marker,) = ax.plot([], [], "o", color=color, markersize=5, zorder=4)
        x, y, ha, va = self._readout_place(ax, epochs, values)
        self.readout = ax.text(x, y, "", transform=ax.transAxes, ha=ha, va=va,
                               fontsize=self.theme.fontsize(9), family="DejaVu Sans Mono",
                               zorder=5)
        if va == "bottom" and y > 1:  # above the panel: keep the title out of its way
            ax.set_title(self.title, loc="left")

    def update(self, snapshot: Snapshot):
        values = self.run.trace(self.trace, until=snapshot.epoch)
        shown = self._shown(values)
        if self.x == "epoch":
            epochs = self.run.trace("epoch", until=snapshot.epoch)
            where, first = float(snapshot.epoch), f"{self.xlabel} {snapshot.epoch}"
        else:
            epochs = self._xs(self.run, until=snapshot.epoch)
            where = float(epochs[-1]) if len(epochs) else float("nan")
            first = f"{self.xlabel} {where:{self.fmt}}"
        self.line.set_data(epochs, shown)
        current = float(shown[-1]) if len(shown) else float("nan")
        self.marker.set_data([where], [current])
        name = self.label if self.readout_label is None else self.readout_label
        lines = [first, f"{name} {current:{self.fmt}}"]
        finite = shown[np.isfinite(shown)]
        if self.higher_is_better and finite.size:
            lines.append(f"best {finite.max():{self.fmt}}")
        self.readout.set_text("\n".join(lines))
        return [self.line, self.marker, self.readout]

    def setup_overlay(self, ax: Axes, runs: Sequence[Run], labels: Sequence[str],
                      colors: Sequence[str]) -> None:
        """Set up one curve per run of a sweep, labelled and coloured, on one axis.

        Run ``i`` is drawn in ``colors[i]`` with the theme's line style ``i`` (the sweep
        hands out ``theme.colors(n)``), so the runs stay apart in grey too.
        The axis limits hold every run but those that diverged (``Run.stopped ==
        "diverged"``), which are clipped to them: their marker waits on the edge it left
        by (a triangle pointing the way). The legend goes in the first corner no curve
        enters.
        """
        self.ax = ax
        self.runs = list(runs)
        curves = [(self._xs(run), self._shown(run.trace(self.trace))) for run in self.runs]
        kept = [curve for run, curve in zip(self.runs, curves) if run.stopped != "diverged"]
        ax.set_title(self.title)
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.label)
        ax.grid(True)
        self._set_xlim(ax, self.runs)
        if self.log:
            ax.set_yscale("log")
        ax.set_ylim(*self._limits(np.concatenate([values for _, values in kept or curves])))
        self._draw_references(ax)
        self.lines, self.markers = [], []
        for i, (label, color) in enumerate(zip(labels, colors)):
            (line,) = ax.plot([], [], color=color, linestyle=self.theme.linestyle(i),
                              label=label, zorder=3)
            (marker,) = ax.plot([], [], "o", color=color, markersize=5, zorder=4)
            self.lines.append(line)
            self.markers.append(marker)
        # The legend's size in axes fractions, from its text (8 pt, scaled) and the axes' size.
        scale = self.theme.font_scale
        box = ax.get_position()
        figure = cast("Figure", ax.figure)  # panels sit on a Figure, not a SubFigure
        width_pt = box.width * figure.get_figwidth() * 72
        height_pt = box.height * figure.get_figheight() * 72
        chars = max(len(label) for label in labels)
        width = min(0.9, scale * (4.8 * chars + 40) / max(width_pt, 1.0))
        height = min(0.6, scale * (12 * len(self.runs) + 12) / max(height_pt, 1.0))
        x, y, ha, va = self._free_place(ax, curves, (width, height))
        if va == "bottom" and y > 1:  # no corner is free: raise the top to make one
            lo, hi = ax.get_ylim()
            share = 1.0 - height - 0.06  # of the height, what the curves keep
            if self.log:
                hi = lo * (hi / lo) ** (1.0 / share)
            else:
                hi = lo + (hi - lo) / share
            ax.set_ylim(lo, hi)
            ha, va = "right", "top"
        ax.legend(handles=self.lines, loc=legend_loc((x, y, ha, va)),
                  fontsize=self.theme.fontsize(8),
                  frameon=True, framealpha=0.85, edgecolor="none")

    def update_overlay(self, snapshots: Sequence[Snapshot]):
        """Each run's curve up to its snapshot's epoch (one snapshot per run, in order)."""
        lo, hi = self.ax.get_ylim()
        for run, snapshot, line, marker in zip(self.runs, snapshots, self.lines, self.markers):
            values = run.trace(self.trace, until=snapshot.epoch)
            epochs = self._xs(run, until=snapshot.epoch)
            shown = self._shown(values)
            line.set_data(epochs, shown)
            current = float(shown[-1]) if len(shown) else float("nan")
            style = "o"
            if current > hi or (run.stopped == "diverged" and not np.isfinite(current)
                                and len(values)):
                current, style = hi, "^"  # left the axis upwards (or overflowed): on its edge
            elif current < lo:
                current, style = lo, "v"
            marker.set_marker(style)
            where = snapshot.epoch if self.x == "epoch" else \
                (float(epochs[-1]) if len(epochs) else float("nan"))
            marker.set_data([where], [current])
        return [*self.lines, *self.markers]

    def _draw_references(self, ax: Axes) -> None:
        """The reference lines, dashed and labelled, in the theme's muted colour."""
        muted = self.theme.muted
        for name, value in self.references:
            ax.axhline(value, color=muted, linestyle="--", linewidth=1.0, zorder=1)
            ax.annotate(name, (0.01, value), xycoords=("axes fraction", "data"),
                        xytext=(0, 2), textcoords="offset points",
                        fontsize=self.theme.fontsize(8), color=muted)

    def _shown(self, values: np.ndarray) -> np.ndarray:
        """The values as drawn: floats, NaN where they cannot be (non-positive on a log scale)."""
        values = np.asarray(values, dtype=float).reshape(len(values), -1)[:, 0]
        if self.log:
            values = np.where(values > 0, values, np.nan)
        return values

    def _limits(self, values: np.ndarray) -> tuple[float, float]:
        finite = values[np.isfinite(values)]
        finite = np.concatenate([finite, [v for _, v in self.references
                                          if np.isfinite(v) and (v > 0 or not self.log)]])
        if not finite.size:
            return (0.1, 10.0) if self.log else (0.0, 1.0)
        lo, hi = float(finite.min()), float(finite.max())
        if self.log:
            return lo / 1.5, hi * 1.5
        pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
        return lo - pad, hi + pad

    def _readout_place(self, ax: Axes, epochs: np.ndarray, values: np.ndarray):
        """The first readout place whose box the whole curve and the reference lines never enter."""
        return self._free_place(ax, [(epochs, values)], READOUT_BOX)

    def _free_place(self, ax: Axes, curves: Sequence[tuple[np.ndarray, np.ndarray]],
                    box: tuple[float, float]):
        """The first of :data:`READOUT_PLACES` whose ``box`` (axes fractions) no curve
        ``(epochs, values)`` and no reference line enters (sampled along x: 801 points
        across the panel); :data:`ABOVE` if none."""
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        grid = np.linspace(0.0, 1.0, 801)
        parts = []
        for epochs, values in curves:
            ok = np.isfinite(values)
            if not ok.any():
                continue
            fx = (epochs[ok] - x0) / (x1 - x0)
            if self.log:
                fy = (np.log(values[ok]) - np.log(y0)) / (np.log(y1) - np.log(y0))
            else:
                fy = (values[ok] - y0) / (y1 - y0)
            # The line between points counts too: sample it densely along x.
            inside = (grid >= fx.min()) & (grid <= fx.max())
            parts += [np.column_stack([grid[inside], np.interp(grid[inside], fx, fy)]),
                      np.column_stack([fx, fy])]
        if not parts:
            return READOUT_PLACES[0]
        points = np.concatenate(parts)
        for _, value in self.references:  # reference lines run across the whole panel
            if np.isfinite(value) and (value > 0 or not self.log):
                level = (np.log(value) - np.log(y0)) / (np.log(y1) - np.log(y0)) if self.log \
                    else (value - y0) / (y1 - y0)
                points = np.concatenate([points, np.column_stack([grid, np.full_like(grid, level)])])
        return first_free(points, box, READOUT_PLACES) or ABOVE
