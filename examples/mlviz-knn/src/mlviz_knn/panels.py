"""The panels of ``knn``: error against k, and the decision regions of the current k.

Like every mlviz panel they import matplotlib only inside their methods, so that
``mlviz list`` never pays for it, and they name no colour: every colour, marker and line
style comes from ``self.theme`` (set by the renderer before ``setup``), so the panels
follow ``--theme`` (light, dark, ...) and ``--font-scale``.
"""

from __future__ import annotations

import numpy as np

from mlviz import Panel, RedrawPanel

from .model import neighbour_labels, predict
from .trainer import class_count, split

REGION_TINT = 0.3  # how much of a class colour shows in its region (the rest is background)
GRID_WIDTH = 320  # decision-region grid cells across; the height follows the axes' aspect


def class_colors(theme, n: int) -> np.ndarray:
    """RGB colours of ``n`` classes: the theme's categorical colours, in order. Past the
    palette's end colours repeat, but ``theme.marker(c)`` keeps every class apart."""
    from matplotlib.colors import to_rgb

    return np.array([to_rgb(c) for c in theme.colors(n)])


def region_tints(theme, colors: np.ndarray) -> np.ndarray:
    """Each class colour mixed into the background, ``REGION_TINT`` of it showing: pale
    on a light theme, deep on a dark one."""
    from matplotlib.colors import to_rgb

    background = np.array(to_rgb(theme.background))
    return background + REGION_TINT * (colors - background)


class ErrorCurvePanel(Panel):
    """Training and held-out error for every k so far; the whole curves show faintly.

    Reads the run's traces ``k``, ``loss`` (held-out error) and ``train_error``, so it
    draws the same curves however many frames are drawn.
    """

    name = "knn-error"
    fields = ("k", "train_error")
    traces = ("k", "train_error")

    def setup(self, ax, run) -> None:
        self.run = run
        ks, train, test = run.trace("k"), run.trace("train_error"), run.trace("loss")
        # Static: titles, limits fixed from the whole run, and the full curves in light grey.
        ax.set_title("Error rate against k")
        ax.set_xlabel("k (neighbours that vote)")
        ax.set_ylabel("misclassified share")
        ax.set_xlim(0, ks.max() + 1)
        ax.set_ylim(0, max(0.05, float(max(train.max(), test.max())) * 1.15))
        ax.yaxis.set_major_formatter(_percent())
        ax.grid(True)
        # Two series: the held-out error in the loss colour, the training error muted; each
        # with its own line style and marker too, so they stay apart in grey.
        theme = self.theme
        test_style = {"color": theme.loss, "linestyle": theme.linestyle(0)}
        train_style = {"color": theme.muted, "linestyle": theme.linestyle(1)}
        ax.plot(ks, test, alpha=0.25, linewidth=1.2, **test_style)
        ax.plot(ks, train, alpha=0.25, linewidth=1.2, **train_style)
        # Moving: the curves up to the current k and its two points.
        (self.test_line,) = ax.plot([], [], label="held-out error", **test_style)
        (self.train_line,) = ax.plot([], [], label="training error", **train_style)
        (self.test_dot,) = ax.plot([], [], linestyle="none", marker=theme.marker(0),
                                   color=theme.loss, markersize=6)
        (self.train_dot,) = ax.plot([], [], linestyle="none", marker=theme.marker(1),
                                    color=theme.muted, markersize=5)
        ax.legend(loc="lower right")

    def update(self, snapshot):
        run, epoch = self.run, snapshot.epoch
        ks = run.trace("k", until=epoch)
        self.test_line.set_data(ks, run.trace("loss", until=epoch))
        self.train_line.set_data(ks, run.trace("train_error", until=epoch))
        self.test_dot.set_data([snapshot.k], [snapshot.loss])
        self.train_dot.set_data([snapshot.k], [snapshot.train_error])
        return [self.test_line, self.train_line, self.test_dot, self.train_dot]


class DecisionRegionPanel(Panel):
    """Decision regions of the current k over the training points; held-out mistakes circled.

    Class ``c`` is the theme's colour ``c`` and marker ``c`` (the shape keeps the classes
    apart in grey); training points are small with a thin halo, held-out points larger,
    outlined in the theme's ink, and the mistakes ringed in it.
    """

    name = "knn-regions"
    fields = ("k", "train_error", "test_predictions")

    def setup(self, ax, run) -> None:
        config, data = run.config, run.dataset
        X, y = data.X, data.y.astype(int)
        train, test = split(len(X), config.test_fraction, config.seed)
        self.n_classes = class_count(data)
        theme = self.theme
        colors = class_colors(theme, self.n_classes)
        self.tints = region_tints(theme, colors)
        self.X_test, self.y_test = X[test], y[test]

        lo, hi = X.min(axis=0), X.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        lo, hi = lo - 0.05 * span, hi + 0.05 * span
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ratio = (hi[1] - lo[1]) / (hi[0] - lo[0])
        if 0.25 <= ratio <= 4:
            ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(data.feature_names[0])
        ax.set_ylabel(data.feature_names[1])

        # The expensive part, once: every grid cell's nearest training labels, for all k.
        height = max(2, round(GRID_WIDTH * min(max(ratio, 0.25), 4.0)))
        gx, gy = np.linspace(lo[0], hi[0], GRID_WIDTH), np.linspace(lo[1], hi[1], height)
        grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
        self.grid_shape = (height, GRID_WIDTH)
        self.grid_neighbours = neighbour_labels(grid, X[train], y[train], config.k_max,
                                                config.metric)

        self.regions = ax.imshow(np.tile(self.tints[0], (height, GRID_WIDTH, 1)),
                                 extent=(lo[0], hi[0], lo[1], hi[1]), origin="lower",
                                 interpolation="nearest", aspect=ax.get_aspect(), zorder=0)
        # Static points (and the legend) above a moving image: update() returns them too, so
        # the renderer draws them over the new regions every frame. One scatter per class
        # and kind: a scatter has one marker, and each class has its own.
        self.points = []
        for c in range(self.n_classes):
            mine = y[train] == c
            self.points.append(ax.scatter(
                X[train][mine, 0], X[train][mine, 1], s=16, color=colors[c],
                marker=theme.marker(c), edgecolors=theme.halo, linewidths=0.5, zorder=2))
        for c in range(self.n_classes):
            mine = self.y_test == c
            self.points.append(ax.scatter(
                self.X_test[mine, 0], self.X_test[mine, 1], s=30, color=colors[c],
                marker=theme.marker(c), edgecolors=theme.ink, linewidths=0.8, zorder=3))
        self.mistakes = ax.scatter([], [], s=150, facecolors="none", edgecolors=theme.ink,
                                   linewidths=1.5, zorder=4)
        self.legend = ax.legend(handles=_legend_handles(theme), loc="upper left",
                                fontsize=theme.fontsize(7.5), framealpha=0.85, frameon=True)
        self.caption = ax.set_title(" ")

    def update(self, snapshot):
        cells = predict(self.grid_neighbours, snapshot.k, self.n_classes)
        self.regions.set_data(self.tints[cells].reshape(*self.grid_shape, 3))
        wrong = snapshot.test_predictions != self.y_test
        self.mistakes.set_offsets(self.X_test[wrong].reshape(-1, 2))
        self.caption.set_text(f"k = {snapshot.k}  ·  held-out error {snapshot.loss:.1%}"
                              f"  ·  training error {snapshot.train_error:.1%}")
        return [self.regions, *self.points, self.mistakes, self.legend, self.caption]


class ErrorBarsPanel(RedrawPanel):
    """Held-out error of every k so far as bars: a full-redraw panel (simple, slower)."""

    name = "knn-error-bars"
    fields = ("k",)
    traces = ("k",)

    def draw(self, ax, run, snapshot) -> None:
        ks, errors = run.trace("k", until=snapshot.epoch), run.trace("loss", until=snapshot.epoch)
        top = float(run.trace("loss").max())
        ax.bar(ks, errors, color=self.theme.loss, alpha=0.7, width=0.8)
        ax.set_xlim(0, int(run.trace("k")[-1]) + 1)
        ax.set_ylim(0, max(0.05, top * 1.15))
        ax.yaxis.set_major_formatter(_percent())
        ax.set_title(f"Held-out error, k = {snapshot.k}")
        ax.set_xlabel("k (neighbours that vote)")


def _legend_handles(theme):
    """Muted stand-ins for the kinds of point (the real ones have their class's colour and
    marker): training (small, halo), held out (larger, outlined), misclassified (ringed)."""
    from matplotlib.lines import Line2D

    def point(label, **style):
        return Line2D([], [], linestyle="none", label=label, **style)

    return [
        point("training points", marker="o", color=theme.muted, markeredgecolor=theme.halo,
              markeredgewidth=0.5, markersize=4.5),
        point("held-out points", marker="o", color=theme.muted, markeredgecolor=theme.ink,
              markeredgewidth=0.8, markersize=6),
        point("misclassified", marker="o", markerfacecolor="none",
              markeredgecolor=theme.ink, markersize=11, markeredgewidth=1.5),
    ]


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)
