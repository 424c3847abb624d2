"""Panels of the layer-transformations plugin: each layer's view of the points, the
predictions, and the per-layer gradient norms."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.style import NEGATIVE, POSITIVE


def _class_colors(labels: np.ndarray) -> np.ndarray:
    from matplotlib.colors import to_rgba

    return np.where(np.asarray(labels)[:, None] > 0, to_rgba(POSITIVE, 0.6), to_rgba(NEGATIVE, 0.6))


def _square(ax, points: np.ndarray) -> None:
    """Equal-aspect limits around ``points`` (..., 2): each axis centred on its own data,
    both with the larger of the two spans, so a cloud collapsed by deep layers stays visible."""
    low = points.reshape(-1, 2).min(axis=0)
    high = points.reshape(-1, 2).max(axis=0)
    half = max(float((high - low).max()) * 0.55, 1e-6)
    mid = (low + high) / 2
    ax.set_xlim(mid[0] - half, mid[0] + half)
    ax.set_ylim(mid[1] - half, mid[1] + half)
    ax.set_aspect("equal", adjustable="box")
    ax.tick_params(labelsize=7)


class LayerPointsPanel(Panel):
    """The points as one layer outputs them (layer 0: the input), coloured by class.

    Reads the field ``hidden`` and, for limits holding every epoch, the trace ``hidden_range``.
    """

    name = "layer-points"
    fields = ("hidden",)
    traces = ("hidden_range",)

    def __init__(self, index: int) -> None:
        self.index = index

    def setup(self, ax, run) -> None:
        ranges = run.trace("hidden_range")[:, self.index]  # (epochs, min|max, unit)
        if self.index == 0:
            ax.set_title("Input")
            names = run.dataset.feature_names
        else:
            ax.set_title(f"Layer {self.index}")
            names = (f"unit 1 of layer {self.index}", "unit 2")
        ax.set_xlabel(names[0], fontsize=8, labelpad=1)
        ax.set_ylabel(names[1], fontsize=8, labelpad=1)
        _square(ax, ranges)
        first = run.snapshots[0].hidden[self.index]
        self.dots = ax.scatter(first[:, 0], first[:, 1], s=5, c=_class_colors(run.dataset.y),
                               linewidths=0)

    def update(self, snapshot):
        if self.index == 0:  # the input never moves: drawn once, with the static content
            return []
        self.dots.set_offsets(snapshot.hidden[self.index])
        return [self.dots]


class OutputPanel(Panel):
    """The output unit: P(class 1) per point, each class in its own band, threshold at 0.5."""

    name = "layer-output"
    fields = ("proba",)

    def setup(self, ax, run) -> None:
        labels = np.asarray(run.dataset.y)
        rng = np.random.default_rng(0)
        self.height = np.where(labels > 0, 0.55, -0.55) + rng.uniform(-0.35, 0.35, len(labels))
        ax.set_title("Output")
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel("P(class 1)", fontsize=8, labelpad=1)
        ax.set_yticks([-0.55, 0.55], ["class 0", "class 1"], fontsize=7)
        ax.tick_params(labelsize=7)
        ax.axvline(0.5, color="#888888", linewidth=1, linestyle="--", zorder=0)
        ax.set_box_aspect(1)
        self.dots = ax.scatter(run.snapshots[0].proba, self.height, s=5,
                               c=_class_colors(labels), linewidths=0)

    def update(self, snapshot):
        self.dots.set_offsets(np.column_stack([snapshot.proba, self.height]))
        return [self.dots]


class PredictionPanel(Panel):
    """P(class 1) over the input square, with the data points and the accuracy."""

    name = "layer-predictions"
    fields = ("grid_proba", "accuracy")

    def setup(self, ax, run) -> None:
        from matplotlib.colors import LinearSegmentedColormap

        cmap = LinearSegmentedColormap.from_list("classes", [NEGATIVE, "#f7f7f7", POSITIVE])
        shape = run.snapshots[0].grid_proba.shape
        self.image = ax.imshow(np.zeros(shape), origin="lower", extent=(-1, 1, -1, 1), cmap=cmap,
                               vmin=0, vmax=1, alpha=0.75, zorder=0)
        points, labels = run.dataset.X, np.asarray(run.dataset.y)
        self.dots = ax.scatter(points[:, 0], points[:, 1], s=7, linewidths=0.3, zorder=2,
                               edgecolors="white",
                               c=np.where(labels > 0, POSITIVE, NEGATIVE))
        _square(ax, np.array([[-1.0, -1.0], [1.0, 1.0]]))
        names = run.dataset.feature_names
        ax.set_xlabel(names[0], fontsize=8, labelpad=1)
        ax.set_ylabel(names[1], fontsize=8, labelpad=1)
        self.caption = ax.set_title(" ")

    def update(self, snapshot):
        self.image.set_data(snapshot.grid_proba)
        self.caption.set_text(f"Predictions · {snapshot.accuracy:.0%}")
        return [self.image, self.dots, self.caption]


class GradientNormPanel(Panel):
    """‖∂loss/∂W‖ of every layer over the epochs (log scale): vanishing gradients made visible.

    Reads the trace ``grad_norms`` (one norm per Linear layer, every epoch).
    """

    name = "layer-gradient-norms"
    traces = ("grad_norms",)

    def setup(self, ax, run) -> None:
        import matplotlib

        self.run = run
        epochs, norms = run.history("grad_norms")  # (epochs,), (epochs, layers)
        positive = norms[norms > 0]
        low, high = (positive.min(), positive.max()) if positive.size else (1e-8, 1.0)
        ax.set_yscale("log")
        ax.set_ylim(low / 2, high * 2)
        ax.set_xlim(0, max(int(epochs[-1]), 1))
        ax.set_title("Gradient norms")
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel("‖∂loss/∂W‖", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True)
        count = norms.shape[1]
        cmap = matplotlib.colormaps["viridis"]
        self.lines = []
        for k in range(count):
            color = cmap(k / max(count - 1, 1) * 0.9)
            (line,) = ax.plot([], [], color=color, linewidth=1.3)
            self.lines.append(line)
        self.key = ax.text(0.98, 0.98, f"dark: layer 1 … light: layer {count}", transform=ax.transAxes,
                ha="right", va="top", fontsize=7, color="#333333",
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1}, zorder=5)

    def update(self, snapshot):
        epochs, norms = self.run.history("grad_norms", until=snapshot.epoch)
        for k, line in enumerate(self.lines):
            line.set_data(epochs, np.maximum(norms[:, k], 1e-30))
        return [*self.lines, self.key]
