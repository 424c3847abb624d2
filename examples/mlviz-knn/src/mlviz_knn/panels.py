"""The panels of ``knn``: error against k, and the decision regions of the current k.

Like every mlviz panel they import matplotlib only inside their methods, so that
``mlviz list`` never pays for it.
"""

from __future__ import annotations

import numpy as np

from mlviz import Panel, RedrawPanel
from mlviz.style import CATEGORICAL, LOSS

from .model import neighbour_labels, predict
from .trainer import class_count, split

TRAIN_COLOR = "#555555"
REGION_TINT = 0.3  # how much of a class colour shows in its region (the rest is white)
GRID_WIDTH = 320  # decision-region grid cells across; the height follows the axes' aspect


def class_colors(n: int) -> np.ndarray:
    """RGB colours of ``n`` classes (mlviz's categorical palette)."""
    from matplotlib.colors import to_rgb

    if n > len(CATEGORICAL):
        raise ValueError(f"at most {len(CATEGORICAL)} classes can be coloured, got {n}")
    return np.array([to_rgb(c) for c in CATEGORICAL[:n]])


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
        ax.plot(ks, test, color=LOSS, alpha=0.18, linewidth=1.2)
        ax.plot(ks, train, color=TRAIN_COLOR, alpha=0.18, linewidth=1.2)
        # Moving: the curves up to the current k and its two points.
        (self.test_line,) = ax.plot([], [], color=LOSS, label="held-out error")
        (self.train_line,) = ax.plot([], [], color=TRAIN_COLOR, label="training error")
        (self.test_dot,) = ax.plot([], [], "o", color=LOSS, markersize=6)
        (self.train_dot,) = ax.plot([], [], "o", color=TRAIN_COLOR, markersize=5)
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
    """Decision regions of the current k over the training points; held-out mistakes circled."""

    name = "knn-regions"
    fields = ("k", "train_error", "test_predictions")

    def setup(self, ax, run) -> None:
        config, data = run.config, run.dataset
        X, y = data.X, data.y.astype(int)
        train, test = split(len(X), config.test_fraction, config.seed)
        self.n_classes = class_count(data)
        colors = class_colors(self.n_classes)
        self.tints = 1.0 - REGION_TINT * (1.0 - colors)
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

        self.regions = ax.imshow(np.ones((height, GRID_WIDTH, 3)),
                                 extent=(lo[0], hi[0], lo[1], hi[1]), origin="lower",
                                 interpolation="nearest", aspect=ax.get_aspect(), zorder=0)
        # Static points (and the legend) above a moving image: update() returns them too, so
        # the renderer draws them over the new regions every frame.
        self.train_dots = ax.scatter(X[train, 0], X[train, 1], s=16, c=colors[y[train]],
                                     edgecolors="white", linewidths=0.5, zorder=2)
        self.test_dots = ax.scatter(self.X_test[:, 0], self.X_test[:, 1], s=26, marker="s",
                                    c=colors[self.y_test], edgecolors="black", linewidths=0.6,
                                    zorder=3)
        self.mistakes = ax.scatter([], [], s=150, facecolors="none", edgecolors="black",
                                   linewidths=1.5, zorder=4)
        self.legend = ax.legend(handles=_legend_handles(), loc="upper left", fontsize=7.5,
                                framealpha=0.85, frameon=True)
        self.caption = ax.set_title(" ")

    def update(self, snapshot):
        cells = predict(self.grid_neighbours, snapshot.k, self.n_classes)
        self.regions.set_data(self.tints[cells].reshape(*self.grid_shape, 3))
        wrong = snapshot.test_predictions != self.y_test
        self.mistakes.set_offsets(self.X_test[wrong].reshape(-1, 2))
        self.caption.set_text(f"k = {snapshot.k}  ·  held-out error {snapshot.loss:.1%}"
                              f"  ·  training error {snapshot.train_error:.1%}")
        return [self.regions, self.train_dots, self.test_dots, self.mistakes, self.legend,
                self.caption]


class ErrorBarsPanel(RedrawPanel):
    """Held-out error of every k so far as bars: a full-redraw panel (simple, slower)."""

    name = "knn-error-bars"
    fields = ("k",)
    traces = ("k",)

    def draw(self, ax, run, snapshot) -> None:
        ks, errors = run.trace("k", until=snapshot.epoch), run.trace("loss", until=snapshot.epoch)
        top = float(run.trace("loss").max())
        ax.bar(ks, errors, color=LOSS, alpha=0.7, width=0.8)
        ax.set_xlim(0, int(run.trace("k")[-1]) + 1)
        ax.set_ylim(0, max(0.05, top * 1.15))
        ax.yaxis.set_major_formatter(_percent())
        ax.set_title(f"Held-out error, k = {snapshot.k}")
        ax.set_xlabel("k (neighbours that vote)")


def _legend_handles():
    """Grey stand-ins for the point markers (the real ones are coloured by class)."""
    from matplotlib.lines import Line2D

    grey = "#888888"
    return [
        Line2D([], [], marker="o", linestyle="none", color=grey, markeredgecolor="white",
               markersize=5, label="training points"),
        Line2D([], [], marker="s", linestyle="none", color=grey, markeredgecolor="black",
               markersize=6, label="held-out points"),
        Line2D([], [], marker="o", linestyle="none", markerfacecolor="none",
               markeredgecolor="black", markersize=11, markeredgewidth=1.5,
               label="misclassified"),
    ]


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)
