"""The neural-network panels: the learned surface against the true saddle."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels.landscape import LossLandscapePanel, tidy_3d_axes

#: Tick labels this many points out from the box (tidy_3d_axes pulls them in to −2).
TICK_PAD = 2.0
LABEL_PAD = 3.0  # and the axis names clear of them
NETWORK_GRID_ALPHA = 0.35  # the network surface's grid lines (halo colour), opacity
NETWORK_ALPHA = 0.6  # the network surface's opacity (its legend patch shows the same)


def surface_colors(theme) -> tuple[str, str]:
    """(true, network): two categorical colours; the true surface is a wireframe, the
    network's a filled surface, so the two differ by more than colour."""
    return theme.color(1), theme.color(0)


class SurfacePanel(Panel):
    """The true surface (a fixed wireframe) and the network's predictions on the same grid
    (a filled surface).

    Reads the field ``predictions`` (dims × dims) and the trace ``prediction_range``
    (lowest and highest prediction of every epoch) for the z axis.
    """

    name = "nn-surface"
    projection = "3d"
    fields = ("predictions",)
    traces = ("prediction_range",)

    def setup(self, ax, run) -> None:
        from matplotlib.colors import to_rgba
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        theme = self.theme
        true_color, self.network_color = surface_colors(theme)
        self.grid_color = to_rgba(theme.halo, NETWORK_GRID_ALPHA)
        self.ax = ax
        dims = run.config.dims
        points = run.dataset.X
        self.gx = points[:, 0].reshape(dims, dims)
        self.gy = points[:, 1].reshape(dims, dims)
        truth = np.asarray(run.dataset.y, float).reshape(dims, dims)
        reach = run.trace("prediction_range")
        reach = reach[np.isfinite(reach)]  # a diverging run draws what it can
        low = min(truth.min(), reach.min(initial=truth.min()))
        high = max(truth.max(), reach.max(initial=truth.max()))
        pad = 0.05 * (high - low or 1.0)
        ax.set_xlim(self.gx.min(), self.gx.max())
        ax.set_ylim(self.gy.min(), self.gy.max())
        ax.set_zlim(low - pad, high + pad)
        ax.set_xlabel("x", labelpad=LABEL_PAD)
        ax.set_ylabel("y", labelpad=LABEL_PAD)
        ax.set_zlabel("z", labelpad=LABEL_PAD)
        tidy_3d_axes(ax, bins=3)  # −1, 0, 1: corner labels of x and y stay apart
        ax.tick_params(pad=TICK_PAD)  # the labels x = 1 and y = −1 meet at a corner
        ax.view_init(20, -35)
        ax.set_box_aspect(None, zoom=0.9)
        ax.set_title("Function approximation z(x, y)")
        ax.plot_wireframe(self.gx, self.gy, truth, color=true_color, linewidth=0.9,
                          rstride=1, cstride=1, zorder=1)
        ax.legend(handles=[Line2D([], [], color=true_color, linewidth=1.2,
                                  label="true  z = y² − x²  (wireframe)"),
                           Patch(facecolor=to_rgba(self.network_color, NETWORK_ALPHA),
                                 edgecolor=self.grid_color, label="network  (surface)")],
                  loc="upper left", bbox_to_anchor=(0.0, 1.0), fontsize=theme.fontsize(8))
        self.surface = None

    def update(self, snapshot):
        if self.surface is not None:
            self.surface.remove()
        self.surface = self.ax.plot_surface(
            self.gx, self.gy, snapshot.predictions, color=self.network_color,
            alpha=NETWORK_ALPHA,
            edgecolor=self.grid_color, linewidth=0.3, rstride=1, cstride=1, zorder=2)
        return [self.surface]


class PathPlaneLandscapePanel(LossLandscapePanel):
    """The MSE over one fixed plane through the final weights, along the two principal
    directions of the whole training path (PCA of every epoch's weights), with the path
    projected onto that plane: each point drawn at the MSE of its projected weights, so the
    path lies on the surface drawn.

    Why this plane: training moves the weights almost only within it (``captured``, the
    share of the path's squared distance from the final weights that the plane keeps, is
    above 99 % for the default run), so the projected weights are nearly the real ones and
    their MSE follows the loss curve; a plane of two chosen weights would hold the others at
    their final values and show, early on, a loss the network never had.
    """

    name = "nn-path-landscape"

    def __init__(self, loss, *, resolution: int = 25, margin: float = 0.2,
                 title: str = "MSE on the plane of the descent", **kwargs) -> None:
        super().__init__(loss, directions="pca", follow=False, resolution=resolution,
                         title=title, **kwargs)
        self.margin = margin

    def compute(self, run) -> None:
        from mlviz import landscape as ls

        loss = self.loss(run)
        epochs, losses = run.history("loss")
        self._flat_path = None  # a new run: no cached path
        self.epochs = epochs
        origin = run.snapshots[-1].params
        plane = self._plane(origin, run)
        xy = ls.project(self._path(run), origin, plane)
        offsets = self._path(run) - self._path(run)[-1]
        total = float(np.sum(offsets**2))
        self.captured = 1.0 if total == 0 else float(np.sum(xy**2)) / total
        finite = xy[np.all(np.isfinite(xy), axis=1)]
        low, high = finite.min(axis=0), finite.max(axis=0)
        pad = self.margin * (high - low) + 0.05 * float(np.max(high - low) or 1.0)
        alphas = np.linspace(low[0] - pad[0], high[0] + pad[0], self.resolution)
        betas = np.linspace(low[1] - pad[1], high[1] + pad[1], self.resolution)
        land = ls.evaluate(loss, origin, plane, alphas, betas)
        self.grids = {-1: (land.alphas, land.betas, land.losses)}
        self.path = np.column_stack([xy, on_plane_losses(loss, origin, plane, xy)])
        self.points = {}
        for snap in run.snapshots:
            x, y, z = self.path[np.searchsorted(epochs, snap.epoch)]
            self.points[snap.epoch] = (float(x), float(y), float(z))
        zs = np.concatenate([land.losses.ravel(), self.path[:, 2]])
        zs = zs[np.isfinite(zs)]
        zmin, zmax = (float(zs.min()), float(zs.max())) if zs.size else (0.0, 1.0)
        self.zrange = (zmin, zmax if zmax > zmin else zmin + 1.0)

    def setup(self, ax, run) -> None:
        super().setup(ax, run)
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            axis.labelpad = LABEL_PAD + 3  # clear of the tick labels at any font scale
        self.caption = ax.text2D(
            0.5, 1.0, f"α, β: the descent's two main directions ({100 * self.captured:.1f} % "
                      "of its travel)\nthe path at the MSE of its projection",
            transform=ax.transAxes, ha="center", va="top", fontsize=self.theme.fontsize(8))


def on_plane_losses(loss, origin, plane, xy: np.ndarray) -> np.ndarray:
    """The batched loss at the points ``origin + α·d₁ + β·d₂`` of the plane, one per row
    (α, β) of ``xy``."""
    d1, d2 = plane
    params = {}
    for name, value in origin.items():
        value = np.asarray(value, float)
        shape = (len(xy),) + (1,) * value.ndim
        params[name] = (value + xy[:, 0].reshape(shape) * np.asarray(d1[name], float)
                        + xy[:, 1].reshape(shape) * np.asarray(d2[name], float))
    return np.asarray(loss(params), dtype=float)
