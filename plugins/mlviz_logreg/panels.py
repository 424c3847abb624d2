"""Logistic-regression panels: the probability surface in 3D and the decision boundary in 2D."""

from __future__ import annotations

import functools

import numpy as np

from mlviz import Panel
from mlviz.panels import LossCurvePanel

from .trainer import sigmoid

LIMITS = (-0.03, 1.03)  # features are min-max scaled to [0, 1]
TINT = 0.35  # share of the probability colour in the 2D background (the rest: background)
SHADE_GRID = 240  # the 2D background's resolution (smooth shading, drawn bilinear)
#: The labelled lines of equal probability on the 2D panel (0.5: the decision boundary).
P_LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)
SURFACE_ALPHA = 0.55  # the probability surface's opacity (its grid lines: the muted colour)
LABEL_PAD = 30  # the 3D feature labels' distance from their tick labels (points)


def scaled_name(name: str, gap: str = " ") -> str:
    """A feature's axis label: every logistic-regression feature is min-max scaled."""
    return f"{name}{gap}(scaled 0–1)"


def logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def probability_colors(p: np.ndarray, theme) -> np.ndarray:
    """RGB for probabilities on the theme's two-class map: the negative colour at 0, the
    neutral middle at 0.5, the positive colour at 1."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    return theme.class_cmap()(p)[..., :3]


def class_style(theme, label: int) -> dict:
    """Colour and marker of class ``label`` (0 or 1): the marker is a second channel, so
    the classes read in grey print and for colour-blind readers."""
    return {"color": theme.class_color(label), "marker": theme.marker(int(label > 0))}


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
        from matplotlib.lines import Line2D

        from mlviz.panels.landscape import quad_surface_class

        theme = self.theme
        X, y = run.dataset.X, run.dataset.y
        self.X = X
        names = run.dataset.feature_names
        negative, positive = class_names(run)
        n = run.config.grid
        g = np.linspace(0.0, 1.0, n)
        self.gx, self.gy = np.meshgrid(g, g)
        ax.computed_zorder = False  # the order below holds in every frame
        ax.view_init(elev=20, azim=-35)
        ax.set_box_aspect(None, zoom=0.85)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_zlim(0, 1)
        # few tick labels, clear of the long feature labels (which sit under the middle of
        # their axes) and of each other at the corners (x = 1 meets y = 0, y = 1 meets z = 0)
        ax.set_xticks([0.0, 0.25, 1.0])
        ax.set_yticks([0.25, 0.75])
        ax.set_xlabel(scaled_name(names[0], "\n"), labelpad=LABEL_PAD)
        ax.set_ylabel(scaled_name(names[1], "\n"), labelpad=LABEL_PAD)
        ax.set_zlabel(f"p({positive})", labelpad=-3)
        ax.set_title(f"Predicted probability p({positive})")
        ax.tick_params(labelsize=theme.fontsize(7), pad=0)
        # A Poly3DCollection whose depth sort is vectorized (mplot3d sorts polygon by polygon)
        self.surface = quad_surface_class()(np.zeros(((n - 1) ** 2, 4, 3)),
                                            edgecolors=theme.muted, linewidths=0.25,
                                            alpha=SURFACE_ALPHA, zorder=1)
        # opaque grid lines: alpha applies to the faces (mplot3d's set_alpha never reached
        # the edges of a Poly3DCollection, and the pictures were made that way)
        self.edges = to_rgba_array([theme.muted] * (n - 1) ** 2)
        ax.add_collection3d(self.surface)
        self.truth = [ax.scatter(X[y == label, 0], X[y == label, 1],
                                 np.full((y == label).sum(), float(label)), s=9, alpha=0.6,
                                 linewidths=0, depthshade=False, zorder=2,
                                 **class_style(theme, label))
                      for label in (0, 1)]
        self.predicted = ax.scatter(X[:, 0], X[:, 1], np.zeros(len(X)), c=theme.ink, s=4,
                                    linewidths=0, depthshade=False, zorder=3)
        handles = [
            Line2D([], [], ls="", markeredgewidth=0, label=f"{negative} (z = 0)",
                   **class_style(theme, 0)),
            Line2D([], [], ls="", markeredgewidth=0, label=f"{positive} (z = 1)",
                   **class_style(theme, 1)),
            Line2D([], [], ls="", marker="o", color=theme.ink, markersize=3,
                   label="predicted p"),
        ]
        # above the cube's reach, so the moving surface never covers it (and it stays static)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(-0.08, 0.97),
                  fontsize=theme.fontsize(7.5))

    def update(self, snapshot):
        from matplotlib.colors import to_rgba_array

        w, b = snapshot.params["w"], float(snapshot.params["b"])
        z = sigmoid(w[0] * self.gx + w[1] * self.gy + b)
        grid = np.stack([self.gx, self.gy, z], axis=-1)
        quads = np.stack([grid[:-1, :-1], grid[:-1, 1:], grid[1:, 1:], grid[1:, :-1]], axis=2)
        centres = 0.25 * (z[:-1, :-1] + z[:-1, 1:] + z[1:, 1:] + z[1:, :-1])
        faces = to_rgba_array(probability_colors(centres.ravel(), self.theme), SURFACE_ALPHA)
        self.surface.set_quads(quads.reshape(-1, 4, 3), faces, self.edges)
        p = sigmoid(self.X @ w + b)
        self.predicted._offsets3d = (self.X[:, 0], self.X[:, 1], p)
        return [self.surface, *self.truth, self.predicted]


def probability_colourbar(ax, theme, positive: str):
    """A slim colour bar right of ``ax`` for the 2D panel's tint: which shade is which p."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize, to_rgb

    p = np.linspace(0.0, 1.0, 256)
    backdrop = np.array(to_rgb(theme.background))
    tint = backdrop + TINT * (probability_colors(p, theme) - backdrop)
    holder = ax.inset_axes((1.03, 0.0, 0.035, 1.0))
    bar = ax.figure.colorbar(ScalarMappable(norm=Normalize(0.0, 1.0),
                                            cmap=ListedColormap(tint)), cax=holder)
    bar.set_ticks([0.0, *P_LEVELS, 1.0])
    bar.ax.set_yticklabels([f"{v:g}" for v in (0.0, *P_LEVELS, 1.0)])
    bar.outline.set_visible(False)
    holder.tick_params(labelsize=theme.fontsize(7.5), length=2, pad=3)  # apart: no "−"
    bar.set_label(f"p({positive})", fontsize=theme.fontsize(8.5), labelpad=2)
    return bar


class DecisionBoundaryPanel(Panel):
    """The data, the predicted probability as a smooth background tint (a colour bar says
    which p), labelled lines of equal p (straight: p = c where w·x + b = logit c) and the
    p = 0.5 line, the decision boundary."""

    name = "logreg-boundary"
    fields = ("params.w", "params.b", "accuracy")

    def setup(self, ax, run) -> None:
        from matplotlib.colors import to_rgb

        theme = self.theme
        X, y = run.dataset.X, run.dataset.y
        names = run.dataset.feature_names
        negative, positive = class_names(run)
        lo, hi = LIMITS
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        self.backdrop = np.array(to_rgb(theme.background))
        ax.set_xlabel(scaled_name(names[0]))
        ax.set_ylabel(scaled_name(names[1]))
        g = np.linspace(lo, hi, SHADE_GRID)
        self.gx, self.gy = np.meshgrid(g, g)
        self.background = ax.imshow(np.ones((SHADE_GRID, SHADE_GRID, 3)),
                                    extent=(lo, hi, lo, hi), origin="lower", aspect="auto",
                                    interpolation="bilinear", zorder=0)
        probability_colourbar(ax, theme, positive)
        self.dots = [ax.scatter(X[y == label, 0], X[y == label, 1], s=10, alpha=0.75,
                                linewidths=0, zorder=2, label=name, **class_style(theme, label))
                     for label, name in ((0, negative), (1, positive))]
        self.levels = []
        self.level_labels = []
        for level in P_LEVELS:
            boundary = level == 0.5
            (line,) = ax.plot([], [], color=theme.ink if boundary else theme.muted,
                              lw=1.8 if boundary else 0.9, ls="-" if boundary else "--",
                              zorder=3)
            label = level_label_class()(level, fontsize=theme.fontsize(7.5), ha="center",
                               va="center", color=theme.ink if boundary else theme.muted,
                               rotation_mode="anchor", transform_rotates_text=True, zorder=4,
                               bbox={"boxstyle": "round,pad=0.15", "fc": theme.halo,
                                     "ec": "none", "alpha": 0.8})
            ax.add_artist(label)
            label.set_in_layout(False)
            self.levels.append(line)
            self.level_labels.append(label)
        self.line = self.levels[P_LEVELS.index(0.5)]
        ax.set_title("Decision boundary")  # short: it must fit the panel at large fonts
        not_linear = getattr(run.config, "dataset", "") in ("circles", "xor") \
            and run.dataset.name in ("circles", "xor")
        self.note = "\nno straight line separates\nthese classes" if not_linear else ""
        self.caption = ax.text(0.03, 0.03, "", transform=ax.transAxes,
                               fontsize=theme.fontsize(8.5), zorder=5,
                               bbox={"boxstyle": "round,pad=0.25", "fc": theme.halo,
                                     "ec": "none", "alpha": 0.85})
        for label in self.level_labels:
            label.avoid = self.caption

    def update(self, snapshot):
        w, b = snapshot.params["w"], float(snapshot.params["b"])
        p = sigmoid(w[0] * self.gx + w[1] * self.gy + b)
        tint = self.backdrop + TINT * (probability_colors(p, self.theme) - self.backdrop)
        self.background.set_data(tint)
        self.caption.set_text(f"accuracy {snapshot.accuracy:.1%}{self.note}")
        for level, line, label in zip(P_LEVELS, self.levels, self.level_labels):
            segment = boundary_segment(w, b - logit(level), *LIMITS)
            line.set_data(segment[:, 0], segment[:, 1])
            label.segment = segment
            label.stale = True
        return [self.background, *self.dots, *self.levels, *self.level_labels, self.caption]


@functools.cache
def level_label_class() -> type:
    """:class:`LevelLabel`'s class, built on first use (matplotlib is imported then, not
    when the plugin registers)."""
    from matplotlib.text import Text

    class LevelLabel(Text):
        """``p = level`` on its line of equal p (``segment``, data units), turned with
        it. Placed when drawn, once the panel's size is known (a frame is the same whether
        it is drawn first or after others): staggered along the line (the levels' lines
        lie close together; the lowest p's label nearest the left), whole inside the panel
        and off the ``avoid`` text's box. A line too short to carry it goes unlabelled."""

        def __init__(self, level: float, **kwargs) -> None:
            super().__init__(0.0, 0.0, "", **kwargs)
            self.level = level
            self.segment = np.empty((0, 2))
            self.avoid: Text | None = None

        def draw(self, renderer) -> None:
            self.place(renderer)
            super().draw(renderer)

        def place(self, renderer) -> None:
            """Position, angle and text for the current ``segment`` and panel size."""
            self.set_text("")
            if len(self.segment) < 2 or self.axes is None:
                return
            a, b = self.segment
            if a[0] > b[0]:
                a, b = b, a
            text = f"p = {self.level:g}"
            ends = self.axes.transData.transform([a, b])
            along = ends[1] - ends[0]
            length = max(float(np.hypot(*along)), 1e-9)
            width, height, _ = renderer.get_text_width_height_descent(
                text, self.get_fontproperties(), ismath=False)
            margin = (0.5 * width + height) / length  # clear of the panel's edges
            if margin >= 0.5:
                return
            wanted = 0.1 + 0.8 * P_LEVELS.index(self.level) / (len(P_LEVELS) - 1)
            place = float(np.clip(wanted, margin, 1.0 - margin))
            if self.avoid is not None and self.avoid.get_text():
                box = self.avoid.get_window_extent(renderer).padded(4)
                cos, sin = abs(along[0]) / length, abs(along[1]) / length
                half = np.array([0.5 * width * cos + 0.5 * height * sin + 2,
                                 0.5 * width * sin + 0.5 * height * cos + 2])
                centre = ends[0] + place * along
                if np.all(np.abs(centre - np.array([box.x0 + box.x1, box.y0 + box.y1]) / 2)
                          < half + np.array([box.width, box.height]) / 2):
                    return
            # in data units: the text turns with the axes' transform (transform_rotates_text)
            self.set_position(tuple(a + place * (b - a)))
            self.set_rotation(float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0]))))
            self.set_text(text)

    return LevelLabel
