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


_QUAD_SURFACE = None


def quad_surface_class():
    """A Poly3DCollection of grid quads whose depth sort is one vectorized argsort.

    mplot3d sorts a surface polygon by polygon through masked arrays (about 50 ms for 200
    quads); a landscape redrawn every frame in many panels needs it done at numpy speed.
    """
    global _QUAD_SURFACE
    if _QUAD_SURFACE is not None:
        return _QUAD_SURFACE
    from matplotlib.collections import PolyCollection
    from mpl_toolkits.mplot3d import proj3d
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    class QuadSurface(Poly3DCollection):
        def set_quads(self, quads: np.ndarray, faces: np.ndarray, edges: np.ndarray) -> None:
            """``quads`` (P, 4, 3) corners; ``faces`` and ``edges`` (P, 4) RGBA colours."""
            self._quads = np.asarray(quads, float)
            self._faces = np.asarray(faces, float)
            self._edges = np.asarray(edges, float)
            self.stale = True

        def do_3d_projection(self):
            quads = self._quads
            count = len(quads)
            xs, ys, zs = proj3d.proj_transform(quads[..., 0].ravel(), quads[..., 1].ravel(),
                                               quads[..., 2].ravel(), self.axes.M)
            order = np.argsort(-zs.reshape(count, 4).mean(axis=1), kind="stable")
            corners = np.stack([xs, ys], axis=-1).reshape(count, 4, 2)[order]
            PolyCollection.set_verts(self, list(corners), True)
            self._facecolors2d = self._faces[order]
            self._edgecolors2d = self._edges[order]
            return float(zs.min()) if zs.size else np.nan

    _QUAD_SURFACE = QuadSurface
    return QuadSurface


def surface_quads(gx: np.ndarray, gy: np.ndarray, gz: np.ndarray) -> np.ndarray:
    """The (P, 4, 3) corners of the cells of a grid surface."""
    corners = [(slice(None, -1), slice(None, -1)), (slice(None, -1), slice(1, None)),
               (slice(1, None), slice(1, None)), (slice(1, None), slice(None, -1))]
    return np.stack([np.stack([g[r, c].ravel() for g in (gx, gy, gz)], axis=-1)
                     for r, c in corners], axis=1)


def tidy_3d_axes(ax, bins: int = 4) -> None:
    """Few, small tick labels close to a 3D axes (small panels stay readable)."""
    from matplotlib.ticker import MaxNLocator

    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(bins))
    ax.tick_params(labelsize=7, pad=-2)


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
        labels: the x and y axis labels (default: the weights' names, or α and β).
        relative: with ``weights``, draw the offsets δ instead of the weights' values, so a
            landscape that follows far-travelling weights fills the panel in every frame.
        zoom: enlarge a 3D plot inside its cell.
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
        labels: tuple[str, str] | None = None,
        cmap: str = "viridis",
        view: tuple[float, float] = (22, -35),
        relative: bool = False,
        zoom: float = 1.0,
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
        self.labels = labels
        self.cmap = cmap
        self.view = view
        self.relative = relative
        self.zoom = zoom

    # ----------------------------------------------------------------- computing
    def _plane(self, origin, run: Run) -> ls.Directions:
        if self.weights is not None:
            return ls.weight_directions(origin, *self.weights)
        if self.directions == "pca":
            return ls.pca_directions([s.params for s in run.snapshots], origin)
        return ls.random_directions(origin, seed=self.seed)

    def _axes_values(self, origin) -> tuple[float, float]:
        """Where δ = 0 sits on the x and y axes (the weights' values, or 0)."""
        if self.weights is None or self.relative:
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
            if self.weights is not None and not self.relative:
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
        if self.labels is not None:
            xlabel, ylabel = self.labels
        elif self.weights is not None:
            xlabel, ylabel = (weight_label(ref) for ref in self.weights)
            if self.relative:
                xlabel, ylabel = f"δ {xlabel}", f"δ {ylabel}"
        else:
            xlabel, ylabel = ("α (PC 1)", "β (PC 2)") if self.directions == "pca" else ("α", "β")
        ax.set_xlim(xs.min(), xs.max())
        ax.set_ylim(ys.min(), ys.max())
        ax.set_xlabel(xlabel, labelpad=-2 if self.style == "surface" else None)
        ax.set_ylabel(ylabel, labelpad=-2 if self.style == "surface" else None)
        if self.style == "surface":
            pad = 0.04 * (self.zmax - self.zmin)
            ax.set_zlim(self.zmin - pad, self.zmax + pad)
            if self.zlabel:
                ax.set_zlabel(self.zlabel, labelpad=-2)
            ax.view_init(*self.view)
            ax.set_box_aspect(None, zoom=self.zoom)
            tidy_3d_axes(ax)
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
            import matplotlib

            quads = surface_quads(gx, gy, zs)
            cmap = matplotlib.colormaps[self.cmap]
            faces = cmap((quads[..., 2].mean(axis=1) - self.zmin) / (self.zmax - self.zmin))
            faces[:, 3] = 0.92
            edges = np.tile([1.0, 1.0, 1.0, 0.3], (len(quads), 1))
            if self.surface is None:
                self.surface = quad_surface_class()(list(quads), linewidths=0.3, zorder=1)
                self.ax.add_collection3d(self.surface)
            self.surface.set_quads(quads, faces, edges)
            return self.surface
        levels = np.linspace(self.zmin, self.zmax, 16)
        return self.ax.contourf(gx, gy, zs, levels=levels, cmap=self.cmap, zorder=1)

    def update(self, snapshot: Snapshot):
        artists = []
        if self.follow:
            if self.surface is not None and self.style == "contour":
                self.surface.remove()
                self.surface = None
            self.surface = self._draw_landscape(*self.grids[snapshot.epoch])
            artists.append(self.surface)
        x, y, z = self.points[snapshot.epoch]
        if self.style == "surface":
            self.marker.set_data_3d([x], [y], [z])
        else:
            self.marker.set_data([x], [y])
        if not self.follow or (self.weights is not None and not self.relative):
            path, losses = self.path[snapshot.epoch]  # a path only where it has a meaning
            if self.style == "surface":
                self.trail.set_data_3d(path[:, 0], path[:, 1], losses)
            else:
                self.trail.set_data(path[:, 0], path[:, 1])
            artists.append(self.trail)
        artists.append(self.marker)
        return artists
