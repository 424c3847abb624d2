"""Logistic-regression panels: the probability surface in 3D and the decision boundary in 2D."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels import LossCurvePanel
from mlviz.style import NEGATIVE, POSITIVE

from .trainer import sigmoid

LIMITS = (-0.03, 1.03)  # features are min-max scaled to [0, 1]
TINT = 0.35  # share of the probability colour in the 2D background (the rest is white)
BANDS = 10  # the 2D background shows p in bands of 0.1 (contour-like; small GIFs)
SURFACE_EDGE, SURFACE_ALPHA = "#555555", 0.55  # the probability surface's grid lines, opacity


def probability_colors(p: np.ndarray) -> np.ndarray:
    """RGB for probabilities: the negative colour at 0, white at 0.5, the positive at 1."""
    from matplotlib.colors import to_rgb

    neg, pos, white = np.array(to_rgb(NEGATIVE)), np.array(to_rgb(POSITIVE)), np.ones(3)
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)[..., None]
    low = white + (neg - white) * (1.0 - 2.0 * p)
    high = white + (pos - white) * (2.0 * p - 1.0)
    return np.where(p < 0.5, low, high)


def class_names(run) -> tuple[str, str]:
    return tuple(run.dataset.extra.get("classes", ("0", "1")))


def boundary_segment(w: np.ndarray, b: float, lo: float, hi: float) -> np.ndarray:
    """End points of the line w·x + b = 0 inside the square [lo, hi]²; empty if it misses."""
    w1, w2 = float(w[0]), float(w[1])
    points = []
    for x in (lo, hi):
        if w2 != 0.0:
            points.append((x, -(b + w1 * x) / w2))
    for y in (lo, hi):
        if w1 != 0.0:
            points.append((-(b + w2 * y) / w1, y))
    tol = 1e-9 * (hi - lo)
    inside = np.array([p for p in points
                       if lo - tol <= p[0] <= hi + tol and lo - tol <= p[1] <= hi + tol])
    if len(inside) < 2:
        return np.empty((0, 2))
    gaps = np.linalg.norm(inside[:, None] - inside[None], axis=-1)
    i, j = np.unravel_index(np.argmax(gaps), gaps.shape)
    return inside[[i, j]]


class BCECurvePanel(LossCurvePanel):
    """The mean binary cross-entropy per epoch, on a symlog epoch axis (frames are log-spaced)."""

    name = "logreg-bce"

    def __init__(self) -> None:
        super().__init__(ylabel="mean BCE", title="Binary cross-entropy")

    def setup(self, ax, run) -> None:
        super().setup(ax, run)
        last = max(int(run.epochs[-1]), 1)
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.6)
        ax.set_xlim(0, last * 1.25)
        ticks = [0] + [10**k for k in range(0, len(str(last)))]
        ax.set_xticks(ticks, [_short(t) for t in ticks])
        ax.set_xticks([], minor=True)
        ax.set_xlabel("epoch (log scale)")


def _short(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)


class ProbabilitySurfacePanel(Panel):
    """p(class 1 | x) over the feature plane, with each point at its label and its prediction."""

    name = "logreg-surface"
    projection = "3d"
    fields = ("params.w", "params.b")

    def setup(self, ax, run) -> None:
        from matplotlib.colors import to_rgba_array

        from mlviz.panels.landscape import quad_surface_class

        X, y = run.dataset.X, run.dataset.y
        self.X = X
        names = run.dataset.feature_names
        negative, positive = class_names(run)
        n = run.config.grid
        g = np.linspace(0.0, 1.0, n)
        self.gx, self.gy = np.meshgrid(g, g)
        ax.computed_zorder = False  # the order below holds in every frame
        ax.view_init(elev=20, azim=-35)
        ax.set_box_aspect(None, zoom=0.88)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_zlim(0, 1)
        ax.set_xlabel(names[0], labelpad=2)
        ax.set_ylabel(names[1], labelpad=2)
        ax.set_title(f"Predicted probability p({positive})")
        ax.tick_params(labelsize=7, pad=0)
        # A Poly3DCollection whose depth sort is vectorized (mplot3d sorts polygon by polygon)
        self.surface = quad_surface_class()(np.zeros(((n - 1) ** 2, 4, 3)),
                                            edgecolors=SURFACE_EDGE, linewidths=0.25,
                                            alpha=SURFACE_ALPHA, zorder=1)
        # opaque grid lines: alpha applies to the faces (mplot3d's set_alpha never reached
        # the edges of a Poly3DCollection, and the pictures were made that way)
        self.edges = to_rgba_array([SURFACE_EDGE] * (n - 1) ** 2)
        ax.add_collection3d(self.surface)
        colors = np.where(y == 1, POSITIVE, NEGATIVE)
        self.truth = ax.scatter(X[:, 0], X[:, 1], y.astype(float), c=colors, s=9, alpha=0.6,
                                linewidths=0, depthshade=False, zorder=2)
        self.predicted = ax.scatter(X[:, 0], X[:, 1], np.zeros(len(X)), c="#222222", s=4,
                                    linewidths=0, depthshade=False, zorder=3)
        from matplotlib.lines import Line2D

        handles = [
            Line2D([], [], ls="", marker="o", color=NEGATIVE, label=f"{negative} (z = 0)"),
            Line2D([], [], ls="", marker="o", color=POSITIVE, label=f"{positive} (z = 1)"),
            Line2D([], [], ls="", marker="o", color="#222222", markersize=3,
                   label="predicted p"),
        ]
        # above the cube's reach, so the moving surface never covers it (and it stays static)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(-0.08, 0.97), fontsize=7.5)

    def update(self, snapshot):
        from matplotlib.colors import to_rgba_array

        w, b = snapshot.params["w"], float(snapshot.params["b"])
        z = sigmoid(w[0] * self.gx + w[1] * self.gy + b)
        grid = np.stack([self.gx, self.gy, z], axis=-1)
        quads = np.stack([grid[:-1, :-1], grid[:-1, 1:], grid[1:, 1:], grid[1:, :-1]], axis=2)
        centres = 0.25 * (z[:-1, :-1] + z[:-1, 1:] + z[1:, 1:] + z[1:, :-1])
        faces = to_rgba_array(probability_colors(centres.ravel()), SURFACE_ALPHA)
        self.surface.set_quads(quads.reshape(-1, 4, 3), faces, self.edges)
        p = sigmoid(self.X @ w + b)
        self.predicted._offsets3d = (self.X[:, 0], self.X[:, 1], p)
        return [self.surface, self.truth, self.predicted]


class DecisionBoundaryPanel(Panel):
    """The data, the predicted probability as background tint, and the p = 0.5 line."""

    name = "logreg-boundary"
    fields = ("params.w", "params.b", "accuracy")

    def setup(self, ax, run) -> None:
        X, y = run.dataset.X, run.dataset.y
        names = run.dataset.feature_names
        negative, positive = class_names(run)
        lo, hi = LIMITS
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        size = 160
        g = np.linspace(lo, hi, size)
        self.gx, self.gy = np.meshgrid(g, g)
        self.background = ax.imshow(np.ones((size, size, 3)), extent=(lo, hi, lo, hi),
                                    origin="lower", zorder=0)
        ax.scatter(X[y == 0, 0], X[y == 0, 1], s=10, color=NEGATIVE, alpha=0.75,
                   linewidths=0, zorder=2, label=negative)
        ax.scatter(X[y == 1, 0], X[y == 1, 1], s=10, color=POSITIVE, alpha=0.75,
                   linewidths=0, zorder=2, label=positive)
        self.dots = ax.collections[-2:]
        (self.line,) = ax.plot([], [], color="black", lw=1.8, zorder=3)
        ax.set_title("Decision boundary (p = 0.5)")
        self.caption = ax.text(0.03, 0.03, "", transform=ax.transAxes, fontsize=8.5, zorder=4,
                               bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none",
                                     "alpha": 0.85})

    def update(self, snapshot):
        w, b = snapshot.params["w"], float(snapshot.params["b"])
        p = sigmoid(w[0] * self.gx + w[1] * self.gy + b)
        p = (np.minimum(np.floor(p * BANDS), BANDS - 1) + 0.5) / BANDS
        self.background.set_data(1.0 - TINT * (1.0 - probability_colors(p)))
        segment = boundary_segment(w, b, *LIMITS)
        self.line.set_data(segment[:, 0], segment[:, 1])
        self.caption.set_text(f"accuracy {snapshot.accuracy:.1%}")
        return [self.background, *self.dots, self.line, self.caption]
