"""Perceptron panels: criterion and mistakes, signed distances, and the planes in 3D."""

from __future__ import annotations

import numpy as np

from mlviz import Panel

from .trainer import misclassified, signed_distances

CUBE = (-1.0, 1.0)
#: The 3D panel's tick labels sit this many points out from the cube's edges, so the two
#: labels that meet at a corner (x = 1 and y = −1) stay apart.
TICK_PAD = 3.0
LABEL_PAD = 1.0  # and the axis names clear of them


def class_style(theme, label: float) -> dict:
    """Colour and marker of a class: −1 (negative) or +1 (positive); the marker is a second
    channel, so the classes read in grey print and for colour-blind readers."""
    positive = label > 0
    return {"color": theme.class_color(label), "marker": theme.marker(int(positive))}


def plane_colors(theme) -> tuple[str, str]:
    """(target, learned): apart from each other and from the two class colours."""
    return theme.good, theme.color(4)


class CriterionPanel(Panel):
    """Mean perceptron criterion per epoch (left axis) and misclassified points (right).

    Reads the traces ``loss`` and ``misclassified`` (every epoch, whatever is drawn).
    """

    name = "perceptron-criterion"
    fields = ("misclassified",)
    traces = ("loss", "misclassified")

    def setup(self, ax, run) -> None:
        theme = self.theme
        self.run = run
        last = max(int(run.epochs[-1]), 1)
        losses, counts = run.trace("loss"), run.trace("misclassified")
        most = int(counts.max())
        ax.set_title("Perceptron criterion")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean max(0, −y·(w·x + b))   (solid)", color=theme.loss)
        ax.tick_params(axis="y", colors=theme.loss)
        ax.set_xlim(-0.02 * last, last * 1.02)
        top = float(np.nanmax(losses))
        ax.set_ylim(-0.04 * top, top * 1.08 if top > 0 else 1.0)
        ax.grid(True)
        twin = ax.twinx()
        twin.spines["right"].set_visible(True)
        twin.set_ylabel("misclassified points   (dashed)", color=theme.muted)
        twin.tick_params(axis="y", colors=theme.muted)
        twin.set_ylim(-0.04 * most, most * 1.08 if most else 1.0)
        twin.yaxis.get_major_locator().set_params(integer=True)
        (self.line,) = ax.plot([], [], color=theme.loss, zorder=3)
        (self.marker,) = ax.plot([], [], marker="o", ls="none", color=theme.loss, markersize=5,
                                 zorder=3)
        (self.steps,) = twin.plot([], [], color=theme.muted, lw=1.3, ls="--",
                                  drawstyle="steps-post")
        self.label = ax.text(0.97, 0.95, "", transform=ax.transAxes, ha="right", va="top",
                             fontsize=theme.fontsize(8.5), family="DejaVu Sans Mono", zorder=4)

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
        theme = self.theme
        X, y = run.dataset.X, np.asarray(run.dataset.y, dtype=float)
        self.X, self.y = X, y
        w, b = run.trace("params.w"), run.trace("params.b")
        reach = float(np.abs((X @ w.T + b) / np.linalg.norm(w, axis=1)).max())
        jitter = np.random.default_rng(0).uniform(-0.28, 0.28, len(y))
        self.columns = np.where(y > 0, 1.0, 0.0) + jitter
        ax.set_ylim(-reach * 1.05, reach * 1.05)
        ax.set_xlim(-0.5, 1.5)
        ax.set_xticks([0, 1], ["y = −1", "y = +1"])
        # the last panel: its scale on the right, away from the panels to its left
        ax.yaxis.tick_right()
        ax.yaxis.set_label_position("right")
        ax.spines["right"].set_visible(True)
        ax.spines["left"].set_visible(False)
        ax.set_ylabel("signed distance to the learned plane")
        ax.set_title("Which side?")
        ax.text(0.5, 0.985, "+ side", transform=ax.transAxes, ha="center", va="top",
                fontsize=theme.fontsize(8), color=theme.ink)
        ax.text(0.5, 0.015, "− side", transform=ax.transAxes, ha="center", va="bottom",
                fontsize=theme.fontsize(8), color=theme.ink)
        ax.axhspan(0, reach * 2, color=theme.positive, alpha=0.08, lw=0, zorder=0)
        ax.axhspan(-reach * 2, 0, color=theme.negative, alpha=0.08, lw=0, zorder=0)
        ax.axhline(0.0, color=theme.ink, lw=1.0, zorder=1)
        # one scatter per class (its own marker); each keeps its points' columns
        self.classes = [y <= 0, y > 0]
        self.dots = [ax.scatter(self.columns[members], np.zeros(members.sum()), s=14,
                                alpha=0.85, linewidths=0, zorder=2, **class_style(theme, label))
                     for members, label in zip(self.classes, (-1.0, 1.0))]
        self.rings = ax.scatter([], [], s=46, facecolors="none", edgecolors=theme.ink,
                                linewidths=0.9, zorder=3)

    def update(self, snapshot):
        w, b = snapshot.params["w"], float(snapshot.params["b"])
        d = signed_distances(self.X, w, b)
        for dots, members in zip(self.dots, self.classes):
            dots.set_offsets(np.column_stack([self.columns[members], d[members]]))
        wrong = misclassified(self.X, self.y, w, b)
        self.rings.set_offsets(np.column_stack([self.columns[wrong], d[wrong]]).reshape(-1, 2))
        return [*self.dots, self.rings]


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
    vertices = np.unique(np.round(np.array(points), 12), axis=0)
    centre = vertices.mean(axis=0)
    u, v = _basis(w)
    angles = np.arctan2((vertices - centre) @ v, (vertices - centre) @ u)
    return vertices[np.argsort(angles)]


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
        from matplotlib.colors import to_rgba
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

        theme = self.theme
        target, learned = plane_colors(theme)
        X, y = run.dataset.X, np.asarray(run.dataset.y, dtype=float)
        self.X, self.y = X, y
        ax.computed_zorder = False
        ax.view_init(elev=20, azim=-35)
        ax.set_box_aspect(None, zoom=0.84)
        for setter, ticks in ((ax.set_xlim, ax.set_xticks), (ax.set_ylim, ax.set_yticks),
                              (ax.set_zlim, ax.set_zticks)):
            setter(*CUBE)
            ticks([-1, 0, 1])
        ax.set_xlabel("x", labelpad=LABEL_PAD)
        ax.set_ylabel("y", labelpad=LABEL_PAD)
        ax.set_zlabel("z", labelpad=LABEL_PAD)
        ax.tick_params(labelsize=theme.fontsize(7.5), pad=TICK_PAD)
        ax.set_title("Target and learned planes")
        for members, label in ((y <= 0, -1.0), (y > 0, 1.0)):
            ax.scatter(X[members, 0], X[members, 1], X[members, 2], s=12, alpha=0.9,
                       linewidths=0, depthshade=False, zorder=2, **class_style(theme, label))
        normal = run.dataset.extra.get("normal")
        handles: list = []
        if normal is not None:
            offset = float(run.dataset.extra.get("offset", 0.0))
            polygon = plane_polygon(normal, offset)
            ax.add_collection3d(Poly3DCollection([polygon], facecolor=target, alpha=0.22,
                                                 edgecolor=target, linewidths=0.8, zorder=1))
            ax.add_collection3d(Line3DCollection(arrow_segments(polygon.mean(0), normal),
                                                 colors=target, linewidths=1.8, zorder=4))
            handles.append(Patch(color=target, alpha=0.5, label="target plane and normal"))
        self.plane = Poly3DCollection([np.zeros((3, 3))], facecolor=learned, alpha=0.25,
                                      edgecolor=learned, linewidths=0.8, zorder=1)
        ax.add_collection3d(self.plane)
        self.normal = Line3DCollection(np.zeros((5, 2, 3)), colors=learned, linewidths=1.8,
                                       zorder=4)
        ax.add_collection3d(self.normal)
        self.rings = ax.scatter([], [], [], s=40, facecolors="none", edgecolors=theme.ink,
                                linewidths=0.9, depthshade=False, zorder=3)
        # each point's perpendicular to the learned plane, in the colour of the side it is
        # on (the class the plane predicts): a ring and a line of the other class's colour
        # mark a mistake; the lengths are the distances of the "Which side?" panel
        self.sides = np.array([to_rgba(theme.class_color(-1.0), 0.55),
                               to_rgba(theme.class_color(1.0), 0.55)])
        self.drops = Line3DCollection(np.zeros((0, 2, 3)), linewidths=0.8, zorder=1.5,
                                      axlim_clip=True)
        ax.add_collection3d(self.drops)
        handles += [Patch(color=learned, alpha=0.5, label="learned plane and normal"),
                    *(Line2D([], [], ls="", markeredgewidth=0, label=f"y = {name}",
                             **class_style(theme, label))
                      for label, name in ((-1.0, "−1"), (1.0, "+1"))),
                    Line2D([], [], ls="", marker="o", mfc="none", mec=theme.ink,
                           label="misclassified"),
                    Line2D([], [], color=theme.muted, lw=1.0,
                           label="to the learned plane, coloured by its side")]
        # above the cube, which holds everything that moves: the legend can stay static
        ax.legend(handles=handles, loc="upper left", fontsize=theme.fontsize(7.5))
        self.static = [c for c in ax.collections if c not in (self.plane, self.normal,
                                                               self.rings, self.drops)]

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
        distance = signed_distances(self.X, w, b)
        feet = self.X - distance[:, None] * (w / np.linalg.norm(w))
        self.drops.set_segments(np.stack([self.X, feet], axis=1))
        self.drops.set_color(self.sides[(distance > 0).astype(int)])
        return [self.drops, self.plane, *self.static, self.rings, self.normal]
