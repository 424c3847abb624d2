"""Perceptron panels: criterion and mistakes, signed distances, and the planes in 3D."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.style import LOSS, NEGATIVE, POSITIVE

from .trainer import misclassified, signed_distances

TARGET, LEARNED = "#2ca02c", "#7b3fa0"  # plane colours, distinct from the class colours
MISTAKES = "#555555"
CUBE = (-1.0, 1.0)


def class_colors(y: np.ndarray) -> np.ndarray:
    return np.where(y > 0, POSITIVE, NEGATIVE)


class CriterionPanel(Panel):
    """Mean perceptron criterion per epoch (left axis) and misclassified points (right).

    Reads the traces ``loss`` and ``misclassified`` (every epoch, whatever is drawn).
    """

    name = "perceptron-criterion"
    fields = ("misclassified",)
    traces = ("loss", "misclassified")

    def setup(self, ax, run) -> None:
        self.run = run
        last = max(int(run.epochs[-1]), 1)
        losses, counts = run.trace("loss"), run.trace("misclassified")
        most = int(counts.max())
        ax.set_title("Perceptron criterion")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean max(0, −y·(w·x + b))", color=LOSS)
        ax.tick_params(axis="y", colors=LOSS)
        ax.set_xlim(-0.02 * last, last * 1.02)
        top = float(np.nanmax(losses))
        ax.set_ylim(-0.04 * top, top * 1.08 if top > 0 else 1.0)
        ax.grid(True)
        twin = ax.twinx()
        twin.spines["right"].set_visible(True)
        twin.set_ylabel("misclassified points", color=MISTAKES)
        twin.tick_params(axis="y", colors=MISTAKES)
        twin.set_ylim(-0.04 * most, most * 1.08 if most else 1.0)
        twin.yaxis.get_major_locator().set_params(integer=True)
        (self.line,) = ax.plot([], [], color=LOSS, zorder=3)
        (self.marker,) = ax.plot([], [], "o", color=LOSS, markersize=5, zorder=3)
        (self.steps,) = twin.plot([], [], color=MISTAKES, lw=1.3, ls="--", drawstyle="steps-post")
        self.label = ax.text(0.97, 0.95, "", transform=ax.transAxes, ha="right", va="top",
                             fontsize=8.5, family="DejaVu Sans Mono", zorder=4)

    def update(self, snapshot):
        epochs, losses = self.run.history("loss", until=snapshot.epoch)
        self.line.set_data(epochs, losses)
        self.marker.set_data([snapshot.epoch], [snapshot.loss])
        self.steps.set_data(epochs, self.run.trace("misclassified", until=snapshot.epoch))
        self.label.set_text(f"epoch {snapshot.epoch}\ncriterion {snapshot.loss:.4f}\n"
                            f"misclassified {snapshot.misclassified}")
        return [self.line, self.marker, self.steps, self.label]


class DistanceStripPanel(Panel):
    """Each point's signed distance to the learned plane, one column per true label."""

    name = "perceptron-distances"
    fields = ("params.w", "params.b")
    traces = ("params.w", "params.b")  # the farthest any point gets, over the whole run

    def setup(self, ax, run) -> None:
        X, y = run.dataset.X, np.asarray(run.dataset.y, dtype=float)
        self.X, self.y = X, y
        w, b = run.trace("params.w"), run.trace("params.b")
        reach = float(np.abs((X @ w.T + b) / np.linalg.norm(w, axis=1)).max())
        jitter = np.random.default_rng(0).uniform(-0.28, 0.28, len(y))
        self.columns = np.where(y > 0, 1.0, 0.0) + jitter
        ax.set_ylim(-reach * 1.05, reach * 1.05)
        ax.set_xlim(-0.5, 1.5)
        ax.set_xticks([0, 1], ["y = −1", "y = +1"])
        ax.set_ylabel("signed distance to learned plane")
        ax.set_title("Distances")
        ax.axhspan(0, reach * 2, color=POSITIVE, alpha=0.07, lw=0, zorder=0)
        ax.axhspan(-reach * 2, 0, color=NEGATIVE, alpha=0.07, lw=0, zorder=0)
        ax.axhline(0.0, color="black", lw=1.0, zorder=1)
        self.dots = ax.scatter(self.columns, np.zeros(len(y)), c=class_colors(y), s=14,
                               alpha=0.85, linewidths=0, zorder=2)
        self.rings = ax.scatter([], [], s=42, facecolors="none", edgecolors="black",
                                linewidths=0.9, zorder=3)

    def update(self, snapshot):
        w, b = snapshot.params["w"], float(snapshot.params["b"])
        d = signed_distances(self.X, w, b)
        self.dots.set_offsets(np.column_stack([self.columns, d]))
        wrong = misclassified(self.X, self.y, w, b)
        self.rings.set_offsets(np.column_stack([self.columns[wrong], d[wrong]]).reshape(-1, 2))
        return [self.dots, self.rings]


def plane_polygon(w: np.ndarray, b: float, lo: float = CUBE[0], hi: float = CUBE[1]) -> np.ndarray:
    """Vertices, in order, of the plane w·x + b = 0 cut by the cube [lo, hi]³ (maybe empty)."""
    corners = np.array([[x, y, z] for x in (lo, hi) for y in (lo, hi) for z in (lo, hi)])
    edges = [(i, j) for i in range(8) for j in range(i + 1, 8)
             if np.count_nonzero(corners[i] != corners[j]) == 1]
    f = corners @ w + b
    points = []
    for i, j in edges:
        if f[i] == f[j]:
            if f[i] == 0:
                points += [corners[i], corners[j]]
            continue
        t = f[i] / (f[i] - f[j])
        if 0.0 <= t <= 1.0:
            points.append(corners[i] + t * (corners[j] - corners[i]))
    if len(points) < 3:
        return np.empty((0, 3))
    points = np.unique(np.round(np.array(points), 12), axis=0)
    centre = points.mean(axis=0)
    u, v = _basis(w)
    angles = np.arctan2((points - centre) @ v, (points - centre) @ u)
    return points[np.argsort(angles)]


def _basis(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors orthogonal to ``n`` and to each other."""
    n = n / np.linalg.norm(n)
    helper = np.eye(3)[int(np.argmin(np.abs(n)))]
    u = np.cross(n, helper)
    u /= np.linalg.norm(u)
    return u, np.cross(n, u)


def arrow_segments(origin: np.ndarray, direction: np.ndarray, length: float = 0.75) -> np.ndarray:
    """A 3D arrow as line segments: the shaft and four barbs of the head."""
    n = direction / np.linalg.norm(direction)
    tip = origin + length * n
    u, v = _basis(n)
    back = tip - 0.2 * length * n
    barbs = [back + 0.09 * length * s * e for e in (u, v) for s in (1, -1)]
    return np.array([[origin, tip], *[[tip, p] for p in barbs]])


class PlanesPanel(Panel):
    """The grid points, the target plane and the learned plane, each with its normal."""

    name = "perceptron-planes"
    projection = "3d"
    fields = ("params.w", "params.b")

    def setup(self, ax, run) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

        X, y = run.dataset.X, np.asarray(run.dataset.y, dtype=float)
        self.X, self.y = X, y
        ax.computed_zorder = False
        ax.view_init(elev=20, azim=-35)
        ax.set_box_aspect(None, zoom=0.84)
        for setter, ticks in ((ax.set_xlim, ax.set_xticks), (ax.set_ylim, ax.set_yticks),
                              (ax.set_zlim, ax.set_zticks)):
            setter(*CUBE)
            ticks([-1, 0, 1])
        ax.set_xlabel("x", labelpad=-6)
        ax.set_ylabel("y", labelpad=-6)
        ax.set_zlabel("z", labelpad=-6)
        ax.tick_params(labelsize=7.5, pad=-2)
        ax.set_title("Target and learned planes")
        self.points = ax.scatter(X[:, 0], X[:, 1], X[:, 2], c=class_colors(y), s=12,
                                 alpha=0.9, linewidths=0, depthshade=False, zorder=2)
        normal = run.dataset.extra.get("normal")
        handles = []
        if normal is not None:
            offset = float(run.dataset.extra.get("offset", 0.0))
            polygon = plane_polygon(normal, offset)
            ax.add_collection3d(Poly3DCollection([polygon], facecolor=TARGET, alpha=0.22,
                                                 edgecolor=TARGET, linewidths=0.8, zorder=1))
            ax.add_collection3d(Line3DCollection(arrow_segments(polygon.mean(0), normal),
                                                 colors=TARGET, linewidths=1.8, zorder=4))
            handles.append(Patch(color=TARGET, alpha=0.5, label="target plane and normal"))
        self.plane = Poly3DCollection([np.zeros((3, 3))], facecolor=LEARNED, alpha=0.25,
                                      edgecolor=LEARNED, linewidths=0.8, zorder=1)
        ax.add_collection3d(self.plane)
        self.normal = Line3DCollection(np.zeros((5, 2, 3)), colors=LEARNED, linewidths=1.8,
                                       zorder=4)
        ax.add_collection3d(self.normal)
        self.rings = ax.scatter([], [], [], s=40, facecolors="none", edgecolors="black",
                                linewidths=0.9, depthshade=False, zorder=3)
        handles += [Patch(color=LEARNED, alpha=0.5, label="learned plane and normal"),
                    Line2D([], [], ls="", marker="o", mfc="none", mec="black",
                           label="misclassified")]
        # above the cube, which holds everything that moves: the legend can stay static
        ax.legend(handles=handles, loc="upper left", fontsize=7.5)
        self.static = [c for c in ax.collections if c not in (self.plane, self.normal,
                                                               self.rings)]

    def update(self, snapshot):
        w, b = snapshot.params["w"], float(snapshot.params["b"])
        polygon = plane_polygon(w, b)
        visible = len(polygon) >= 3
        self.plane.set_visible(visible)
        self.normal.set_visible(visible)
        if visible:
            self.plane.set_verts([polygon])
            self.normal.set_segments(arrow_segments(polygon.mean(0), w))
        wrong = misclassified(self.X, self.y, w, b)
        self.rings._offsets3d = tuple(self.X[wrong].T)
        return [self.plane, *self.static, self.rings, self.normal]
