"""The loss-landscape panel: loss over a plane through the parameters, as a surface or contours."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np

from .. import landscape as ls
from ..panel import Panel
from ..style import LOSS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..snapshot import Snapshot
    from ..trainer import Run

WeightRef = tuple[str, tuple[int, ...]]


def weight_label(ref: WeightRef) -> str:
    name, index = ref
    return f"{name}[{','.join(map(str, index))}]"


class LossLandscapePanel(Panel):
    """Loss over a 2D plane of parameter space, with the current point and the path to it.

    Args:
        loss: builds, from the run, a batched loss (:data:`mlviz.landscape.BatchedLoss`) that
            evaluates a whole grid of parameter sets at once.
        weights: two (parameter name, index) pairs: the plane is those two weights, w + δ,
            drawn in weight coordinates. ``None``: two directions chosen by ``directions``.
        directions: ``"random"`` (filter-normalized, Li et al. 2018) or ``"pca"`` (the first
            two principal directions of the training path).
        follow: recompute the landscape around each frame's parameters (the plane moves with
            training); otherwise one plane through the final parameters, with the training
            path projected onto it.
        style: ``"surface"`` (3D) or ``"contour"`` (2D, filled contours).
        span: the grid covers −span … +span along each direction; ``resolution`` points each.
    """

    name = "loss-landscape"
    projection = "3d"

    def __init__(
        self,
        loss: Callable[[Run], ls.BatchedLoss],
        *,
        weights: tuple[WeightRef, WeightRef] | None = None,
        directions: Literal["random", "pca"] = "random",
        follow: bool = False,
        style: Literal["surface", "contour"] = "surface",
        span: float = 1.0,
        resolution: int = 21,
        seed: int = 0,
        title: str = "Loss landscape",
        zlabel: str = "loss",
        cmap: str = "viridis",
        view: tuple[float, float] = (22, -35),
    ) -> None:
        if style not in ("surface", "contour"):
            raise ValueError(f"style must be 'surface' or 'contour', not {style!r}")
        if directions not in ("random", "pca"):
            raise ValueError(f"directions must be 'random' or 'pca', not {directions!r}")
        self.loss = loss
        self.weights = weights
        self.directions = directions
        self.follow = follow
        self.style = style
        self.projection = "3d" if style == "surface" else None
        self.span = span
        self.resolution = resolution
        self.seed = seed
        self.title = title
        self.zlabel = zlabel
        self.cmap = cmap
        self.view = view

    # ----------------------------------------------------------------- computing
    def _plane(self, origin, run: Run) -> ls.Directions:
        if self.weights is not None:
            return ls.weight_directions(origin, *self.weights)
        if self.directions == "pca":
            return ls.pca_directions([s.params for s in run.snapshots], origin)
        return ls.random_directions(origin, seed=self.seed)

    def _axes_values(self, origin) -> tuple[float, float]:
        """Where δ = 0 sits on the x and y axes (the weights' values, or 0)."""
        if self.weights is None:
            return 0.0, 0.0
        return tuple(float(np.asarray(origin[name])[tuple(index)]) for name, index in self.weights)

    def compute(self, run: Run) -> None:
        """Evaluate every landscape this panel will show (one batched call per plane)."""
        loss = self.loss(run)
        grid = ls.centered_grid(self.span, self.resolution)
        snaps = run.snapshots
        self.grids: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.points: dict[int, tuple[float, float, float]] = {}
        if self.follow:
            for snap in snaps:
                plane = self._plane(snap.params, run)
                land = ls.evaluate(loss, snap.params, plane, grid, grid)
                x0, y0 = self._axes_values(snap.params)
                self.grids[snap.epoch] = (x0 + land.alphas, y0 + land.betas, land.losses)
                center = self.resolution // 2
                z0 = land.at(center, center) if self.resolution % 2 else snap.loss
                self.points[snap.epoch] = (x0, y0, z0)
            if self.weights is not None:
                path = np.array([self._axes_values(s.params) for s in snaps])
            else:  # each frame has its own plane: the path is the sequence of centres
                path = np.zeros((len(snaps), 2))
        else:
            origin = snaps[-1].params
            plane = self._plane(origin, run)
            land = ls.evaluate(loss, origin, plane, grid, grid)
            x0, y0 = self._axes_values(origin)
            path = ls.project([s.params for s in snaps], origin, plane) + (x0, y0)
            self.grids[-1] = (x0 + land.alphas, y0 + land.betas, land.losses)
            for snap, (px, py) in zip(snaps, path):
                self.points[snap.epoch] = (float(px), float(py), snap.loss)
        self.path = {snap.epoch: (path[: i + 1], np.array([s.loss for s in snaps[: i + 1]]))
                     for i, snap in enumerate(snaps)}

    # ----------------------------------------------------------------- drawing
    def setup(self, ax: Axes, run: Run) -> None:
        self.ax = ax
        self.compute(run)
        xs = np.concatenate([g[0] for g in self.grids.values()] + [[p[0] for p in self.points.values()]])
        ys = np.concatenate([g[1] for g in self.grids.values()] + [[p[1] for p in self.points.values()]])
        zs = np.concatenate([g[2].ravel() for g in self.grids.values()]
                            + [[p[2] for p in self.points.values()]])
        zs = zs[np.isfinite(zs)]
        self.zmin, self.zmax = (float(zs.min()), float(zs.max())) if zs.size else (0.0, 1.0)
        if self.zmax <= self.zmin:
            self.zmax = self.zmin + 1.0
        ax.set_title(self.title)
        if self.weights is not None:
            xlabel, ylabel = (weight_label(ref) for ref in self.weights)
        else:
            xlabel, ylabel = ("α (PC 1)", "β (PC 2)") if self.directions == "pca" else ("α", "β")
        ax.set_xlim(xs.min(), xs.max())
        ax.set_ylim(ys.min(), ys.max())
        ax.set_xlabel(xlabel, labelpad=-2 if self.style == "surface" else None)
        ax.set_ylabel(ylabel, labelpad=-2 if self.style == "surface" else None)
        if self.style == "surface":
            pad = 0.04 * (self.zmax - self.zmin)
            ax.set_zlim(self.zmin - pad, self.zmax + pad)
            ax.set_zlabel(self.zlabel, labelpad=-2)
            ax.view_init(*self.view)
            ax.tick_params(labelsize=7, pad=0)
        self.surface = None
        if not self.follow:
            self.surface = self._draw_landscape(*self.grids[-1])
        if self.style == "surface":
            (self.trail,) = ax.plot([], [], [], color="#222222", linewidth=1.2, zorder=5)
            (self.marker,) = ax.plot([], [], [], "o", color=LOSS, markeredgecolor="black",
                                     markersize=6, zorder=6)
        else:
            (self.trail,) = ax.plot([], [], color="white", linewidth=1.4, zorder=5)
            (self.marker,) = ax.plot([], [], "o", color=LOSS, markeredgecolor="white",
                                     markersize=6, zorder=6)

    def _draw_landscape(self, xs: np.ndarray, ys: np.ndarray, zs: np.ndarray):
        gx, gy = np.meshgrid(xs, ys)
        if self.style == "surface":
            return self.ax.plot_surface(gx, gy, zs, cmap=self.cmap, vmin=self.zmin,
                                        vmax=self.zmax, rstride=1, cstride=1, linewidth=0.2,
                                        edgecolor=(1, 1, 1, 0.25), alpha=0.9, zorder=1)
        levels = np.linspace(self.zmin, self.zmax, 16)
        return self.ax.contourf(gx, gy, zs, levels=levels, cmap=self.cmap, zorder=1)

    def update(self, snapshot: Snapshot):
        artists = []
        if self.follow:
            if self.surface is not None:
                self.surface.remove()
            self.surface = self._draw_landscape(*self.grids[snapshot.epoch])
            artists.append(self.surface)
        x, y, z = self.points[snapshot.epoch]
        path, losses = self.path[snapshot.epoch]
        if self.style == "surface":
            self.trail.set_data_3d(path[:, 0], path[:, 1], losses)
            self.marker.set_data_3d([x], [y], [z])
        else:
            self.trail.set_data(path[:, 0], path[:, 1])
            self.marker.set_data([x], [y])
        if not self.follow or self.weights is not None:
            artists.append(self.trail)
        artists.append(self.marker)
        return artists
