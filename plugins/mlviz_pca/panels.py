"""The PCA panels: principal axes and the kept span, the reconstruction, explained variance."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.style import CATEGORICAL

from .trainer import drawn_data, fit_pca

PC_COLORS = (CATEGORICAL[3], CATEGORICAL[2], CATEGORICAL[0])  # PC1 red, PC2 green, PC3 blue
DATA_COLOR = "#4a6fa5"
RECON_COLOR = CATEGORICAL[1]
DROPPED = "#d9d9d9"
ARROW_SIGMAS = 2.0  # arrows are this many standard deviations long
VIEW = {"elev": 18, "azim": -62}


def _setup_cube(ax, run):
    """Common 3D set-up: equal, fixed limits around the drawn data; returns (X, fit)."""
    from matplotlib.ticker import MaxNLocator

    X = drawn_data(run.dataset, run.config.standardize)
    fit = fit_pca(X)
    center = (X.max(axis=0) + X.min(axis=0)) / 2
    half = 0.55 * float(np.max(X.max(axis=0) - X.min(axis=0))) or 1.0
    ax.set_xlim(center[0] - half, center[0] + half)
    ax.set_ylim(center[1] - half, center[1] + half)
    ax.set_zlim(center[2] - half, center[2] + half)
    ax.set_box_aspect((1, 1, 1))
    suffix = " (z-scored)" if run.config.standardize else ""
    names = [f"{name}{suffix}" for name in run.dataset.feature_names]
    ax.set_xlabel(names[0], labelpad=-4)
    ax.set_ylabel(names[1], labelpad=-4)
    ax.set_zlabel(names[2], labelpad=-4)
    ax.tick_params(labelsize=7, pad=-2)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(4))
    ax.view_init(**VIEW)
    return X, fit


def _span_shapes(fit, extent: np.ndarray, k: int):
    """The span of the first k components through the mean, as far as the data reaches
    along each (``extent``: (low, high) scores per component): (line or None, plane or None)."""
    m, v = fit.mean, fit.components
    (a0, a1), (b0, b1) = extent[0], extent[1] if len(extent) > 1 else (0.0, 0.0)
    if k == 1:
        return np.array([m + a0 * v[0], m + a1 * v[0]]), None
    if k == 2:
        corners = [(a0, b0), (a1, b0), (a1, b1), (a0, b1)]
        return None, np.array([m + a * v[0] + b * v[1] for a, b in corners])
    return None, None


def _describe(k: int, d: int) -> str:
    shape = {0: "the mean alone", 1: "a line", 2: "a plane"}.get(
        k, "all of the space" if k == d else f"a {k}-dimensional subspace")
    return f"span of the kept components (k = {k}): {shape}"


class AxesPanel(Panel):
    """The data with its principal axes (arrows of 2 standard deviations) and the span of
    the kept components (a line, then a plane)."""

    name = "pca-axes"
    projection = "3d"
    fields = ("k",)

    def setup(self, ax, run) -> None:
        from mpl_toolkits.mplot3d.art3d import Poly3DCollection

        X, fit = _setup_cube(ax, run)
        ax.computed_zorder = False  # draw by zorder, as the blitting renderer does
        self.fit = fit
        self.d = X.shape[1]
        scores = (X - fit.mean) @ fit.components.T
        self.extent = np.percentile(scores, [2, 98], axis=0).T
        ax.set_title("Data and principal axes")
        ax.scatter(*X.T, s=7, color=DATA_COLOR, alpha=0.45, depthshade=False, linewidths=0)
        self.arrows = []  # static, but returned every frame: they stay above the moving span
        for j in range(min(3, self.d)):
            tip = ARROW_SIGMAS * fit.std[j] * fit.components[j]
            self.arrows.append(ax.quiver(*fit.mean, *tip, color=PC_COLORS[j], linewidth=2.2,
                                         arrow_length_ratio=0.18, zorder=4))
            end = fit.mean + tip * 1.2
            self.arrows.append(ax.text(*end, f"PC{j + 1}", color=PC_COLORS[j], fontsize=8,
                                       fontweight="bold", zorder=5))
        self.plane = Poly3DCollection([np.zeros((4, 3))], facecolor=PC_COLORS[1], alpha=0.22,
                                      edgecolor=PC_COLORS[1], linewidths=0.8, zorder=2)
        ax.add_collection3d(self.plane, autolim=False)
        (self.line,) = ax.plot([], [], [], color=PC_COLORS[0], lw=1.4, alpha=0.8)
        (self.center,) = ax.plot([], [], [], "o", color="black", ms=6)
        self.caption = ax.text2D(0.5, 1.0, "", transform=ax.transAxes, ha="center",
                                 va="top", fontsize=8.5)

    def update(self, snapshot):
        line, plane = _span_shapes(self.fit, self.extent, snapshot.k)
        self.line.set_data_3d(*(line.T if line is not None else ([], [], [])))
        self.plane.set_visible(plane is not None)
        if plane is not None:
            self.plane.set_verts([plane])
        m = self.fit.mean
        self.center.set_data_3d(*(([m[0]], [m[1]], [m[2]]) if snapshot.k == 0 else ([], [], [])))
        self.caption.set_text(_describe(snapshot.k, self.d))
        return [self.plane, self.line, self.center, *self.arrows, self.caption]


class ReconstructionPanel(Panel):
    """Each point projected onto the span of the kept components (orange), joined to the
    original point (faint) by its residual."""

    name = "pca-reconstruction"
    projection = "3d"
    fields = ("k", "reconstruction", "loss")

    def setup(self, ax, run) -> None:
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        X, _ = _setup_cube(ax, run)
        self.X = X
        ax.set_title("Reconstruction from k components")
        ax.scatter(*X.T, s=6, color=DATA_COLOR, alpha=0.2, depthshade=False, linewidths=0)
        self.residuals = Line3DCollection([], colors="#888888", linewidths=0.5, alpha=0.5)
        ax.add_collection3d(self.residuals, autolim=False)
        (self.points,) = ax.plot([], [], [], "o", color=RECON_COLOR, ms=2.6, alpha=0.9)
        self.caption = ax.text2D(0.5, 1.0, "", transform=ax.transAxes, ha="center",
                                 va="top", fontsize=8.5, family="DejaVu Sans Mono")

    def update(self, snapshot):
        recon = snapshot.reconstruction
        self.points.set_data_3d(*recon.T)
        self.residuals.set_segments(np.stack([self.X, recon], axis=1))
        self.caption.set_text(f"k = {snapshot.k}   reconstruction MSE {snapshot.loss:.4f}")
        return [self.residuals, self.points, self.caption]


class VariancePanel(Panel):
    """Share of the variance along each principal component; the kept ones in colour,
    with their running total."""

    name = "pca-variance"
    fields = ("k", "weights", "explained_variance_ratio")
    traces = ("explained_variance_ratio",)

    def setup(self, ax, run) -> None:
        ratio = run.trace("explained_variance_ratio")[-1]
        d = len(ratio)
        self.colors = [PC_COLORS[j % len(PC_COLORS)] for j in range(d)]
        positions = np.arange(1, d + 1)
        self.bars = ax.bar(positions, ratio, width=0.6, color=DROPPED, edgecolor="#555555",
                           linewidth=0.8, zorder=2)
        for x, r in zip(positions, ratio):
            ax.text(x, r + 0.015, f"{100 * r:.1f}%", ha="center", va="bottom", fontsize=8.5)
        self.cumulative = np.cumsum(ratio)
        ax.set_xticks(positions, [f"PC{j}" for j in positions])
        ax.set_xlim(0.4, d + 0.6)
        ax.set_ylim(0, 1.2)
        ax.set_title("Explained variance ratio")
        ax.grid(True, axis="y")
        (self.total,) = ax.plot([], [], "o-", color="black", lw=1.2, ms=4, zorder=3,
                                label="cumulative, kept")
        ax.legend(loc="center right")
        self.label = ax.text(0.03, 0.98, "", transform=ax.transAxes, ha="left", va="top",
                             fontsize=8.5)

    def update(self, snapshot):
        from matplotlib.colors import to_rgb

        grey = np.array(to_rgb(DROPPED))
        for bar, color, weight in zip(self.bars, self.colors, snapshot.weights):
            bar.set_facecolor(tuple(grey + weight * (np.array(to_rgb(color)) - grey)))
        kept = float(np.sum(snapshot.weights**2 * snapshot.explained_variance_ratio))
        totals = [*self.cumulative[: max(snapshot.k - 1, 0)], kept][: snapshot.k]
        self.total.set_data(np.arange(1, snapshot.k + 1), totals)
        self.label.set_text(f"kept {snapshot.k} of {len(self.bars)} components\n"
                            f"reconstruction keeps {100 * kept:.1f}%\nof the variance")
        return [*self.bars, self.total, self.label]
