"""The loss-landscape panel: loss over a plane through the parameters, as a surface or contours."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import numpy as np

from .. import landscape as ls
from ..panel import Panel
from ..theme import current_theme

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap

    from ..schedule import FrameSchedule
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
    from matplotlib.path import Path
    from mpl_toolkits.mplot3d import proj3d
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    class QuadSurface(Poly3DCollection):
        _closed_buffer: np.ndarray | None = None
        _closed_paths: list[Path]

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
            self._set_closed(corners)
            self._facecolors2d = self._faces[order]
            self._edgecolors2d = self._edges[order]
            return float(zs.min()) if zs.size else np.nan

        def _set_closed(self, corners: np.ndarray) -> None:
            """The closed 2D paths of ``corners`` (P, 4, 2), as ``set_verts(…, closed=True)``
            makes them, but written into paths made once: their vertices are rows of one
            array (a new Path per quad per frame cost more than drawing it)."""
            if self._closed_buffer is None or len(self._closed_buffer) != len(corners):
                self._closed_buffer = np.empty((len(corners), 5, 2))
                codes = np.full(5, Path.LINETO, dtype=Path.code_type)
                codes[0], codes[-1] = Path.MOVETO, Path.CLOSEPOLY
                self._closed_paths = [Path(row, codes) for row in self._closed_buffer]
            self._closed_buffer[:, :4] = corners
            self._closed_buffer[:, 4] = corners[:, 0]
            self._paths = self._closed_paths
            self.stale = True

    _QUAD_SURFACE = QuadSurface
    return QuadSurface


def surface_quads(gx: np.ndarray, gy: np.ndarray, gz: np.ndarray) -> np.ndarray:
    """The (P, 4, 3) corners of the cells of a grid surface."""
    corners = [(slice(None, -1), slice(None, -1)), (slice(None, -1), slice(1, None)),
               (slice(1, None), slice(1, None)), (slice(1, None), slice(None, -1))]
    return np.stack([np.stack([g[r, c].ravel() for g in (gx, gy, gz)], axis=-1)
                     for r, c in corners], axis=1)


def tidy_3d_axes(ax, bins: int = 4) -> None:
    """Few, small tick labels close to a 3D axes (small panels stay readable); 7 pt at
    the current theme's font scale."""
    from matplotlib.ticker import MaxNLocator

    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(bins))
    ax.tick_params(labelsize=current_theme().fontsize(7), pad=-2)


class LossLandscapePanel(Panel):
    """Loss over a 2D plane of parameter space, with the current point and the path to it.

    Either one plane through the final parameters, with the training path of every epoch
    projected onto it, or (``follow``) a plane around each frame's parameters. Axis limits
    and the colour scale come from the whole run, never from the frames drawn.

    What it reads (:meth:`requires`; checked before the first frame):

    * snapshot field ``params``: a dict of arrays, the same names and shapes every epoch,
      that ``loss`` evaluates (plus ``epoch`` and ``loss``, which every snapshot has);
    * traces: ``loss`` (always recorded) and ``"params"`` (every parameter at every epoch)
      with ``follow`` (each frame's landscape, and the landscapes that set the z range) and
      for a fixed plane along ``directions`` (the path is every epoch's parameters projected
      onto the plane; the PCA plane is fitted to that path). A fixed plane along two
      ``weights`` needs only those parameters' traces, ``"params.NAME"``.

    Args:
        loss: builds, from the run, a batched loss (:data:`mlviz.landscape.BatchedLoss`) that
            evaluates a whole grid of parameter sets at once.
        weights: two (parameter name, index) pairs: the plane is those two weights, w + δ,
            drawn in weight coordinates. ``None``: two directions chosen by ``directions``.
        directions: ``"random"`` (filter-normalized, Li et al. 2018) or ``"pca"`` (the first
            two principal directions of the whole training path).
        follow: recompute the landscape around each frame's parameters (the plane moves with
            training); otherwise one plane through the final parameters, with the training
            path projected onto it.
        schedule: with ``follow``, the z range and colours cover the loss at every epoch and
            the landscapes at the epochs this schedule selects from the run (a function of
            the config, like an algorithm's ``schedule``): pass the algorithm's own, and a
            default render computes no landscape twice. ``None``: every epoch's landscape
            (exact for any frames drawn; one batched evaluation per epoch).
        style: ``"surface"`` (3D) or ``"contour"`` (2D, filled contours).
        span: the grid covers −span … +span along each direction; ``resolution`` points each.
        labels: the x and y axis labels (default: the weights' names, or α and β).
        relative: with ``weights``, draw the offsets δ instead of the weights' values, so a
            landscape that follows far-travelling weights fills the panel in every frame.
        zoom: enlarge a 3D plot inside its cell.
        cmap: the colormap of the loss (a name or a matplotlib ``Colormap``); ``None``: the
            theme's ``surface`` map. The path and marker colours always come from the theme
            (``theme.loss`` for the current point; the path in ``theme.ink`` on a surface,
            and on contours in whichever of ``theme.ink`` and ``theme.halo`` stands out
            more from the low end of the map, where the path ends).
    """

    name = "loss-landscape"
    projection: ClassVar[str | None] = "3d"
    fields = ("params",)
    traces = ("params",)  # the most it reads; requires() says what this instance reads

    def __init__(
        self,
        loss: Callable[[Run], ls.BatchedLoss],
        *,
        weights: tuple[WeightRef, WeightRef] | None = None,
        directions: Literal["random", "pca"] = "random",
        follow: bool = False,
        schedule: Callable[[Any], FrameSchedule] | None = None,
        style: Literal["surface", "contour"] = "surface",
        span: float = 1.0,
        resolution: int = 21,
        seed: int = 0,
        title: str = "Loss landscape",
        zlabel: str = "loss",
        labels: tuple[str, str] | None = None,
        cmap: str | Colormap | None = None,
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
        self.schedule = schedule
        self.style = style
        # A class default, overridden per instance (the renderer reads the instance's).
        self.projection = "3d" if style == "surface" else None  # type: ignore[misc]
        self._flat_path: np.ndarray | None = None
        self._colormap: Colormap | None = None
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

    def requires(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self.follow or self.weights is None:
            return self.fields, ("params",)
        return self.fields, tuple(dict.fromkeys(f"params.{name}" for name, _ in self.weights))

    # ----------------------------------------------------------------- computing
    def _path(self, run: Run) -> np.ndarray:
        """Every epoch's parameters, flattened in the order of the snapshots' params."""
        if self._flat_path is None:  # by name: run.trace("params") keeps the recording order
            count = len(run.trace("epoch"))
            names = run.snapshots[-1].params
            self._flat_path = np.concatenate(
                [run.trace(f"params.{name}").reshape(count, -1) for name in names], axis=1)
        return self._flat_path

    def _weight_path(self, run: Run) -> np.ndarray:
        """The two chosen weights at every epoch: (epochs, 2)."""
        assert self.weights is not None  # only called for a plane along two weights
        return np.column_stack([run.trace(f"params.{name}")[(slice(None),) + tuple(index)]
                                for name, index in self.weights])

    def _plane(self, origin, run: Run) -> ls.Directions:
        if self.weights is not None:
            return ls.weight_directions(origin, *self.weights)
        if self.directions == "pca":
            return ls.pca_directions(self._path(run), origin)
        return ls.random_directions(origin, seed=self.seed)

    def _axes_values(self, origin) -> tuple[float, float]:
        """Where δ = 0 sits on the x and y axes (the weights' values, or 0)."""
        if self.weights is None or self.relative:
            return 0.0, 0.0
        (x_name, x_index), (y_name, y_index) = self.weights
        return (float(np.asarray(origin[x_name])[tuple(x_index)]),
                float(np.asarray(origin[y_name])[tuple(y_index)]))

    def _scale_indices(self, run: Run) -> np.ndarray:
        """Positions of the epochs whose landscapes set the z range (``follow``)."""
        epochs = run.trace("epoch")
        if self.schedule is None:
            return np.arange(len(epochs))
        return np.asarray(self.schedule(run.config).select([int(e) for e in epochs]),
                          dtype=int)

    def compute(self, run: Run) -> None:
        """Evaluate the landscapes this panel shows, the path and the z range, from the run.

        Fills ``grids`` (by drawn epoch, or ``-1`` for the one fixed plane: x values, y
        values, losses), ``points`` (by drawn epoch: the marker's x, y, z), ``path``
        (x, y, loss of every epoch, or ``None`` where a path has no meaning), ``zrange``.
        """
        loss = self.loss(run)
        grid = ls.centered_grid(self.span, self.resolution)
        epochs, losses = run.history("loss")
        self._flat_path = None
        self.epochs = epochs
        self.grids: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.points: dict[int, tuple[float, float, float]] = {}
        self.path: np.ndarray | None = None
        heights = [losses]
        if self.follow:
            names = list(run.snapshots[-1].params)
            values = {name: run.trace(f"params.{name}") for name in names}
            drawn = {snap.epoch for snap in run.snapshots}
            scale = set(self._scale_indices(run).tolist())
            needed = scale | set(np.searchsorted(epochs, sorted(drawn)).tolist())
            center = self.resolution // 2
            for i in sorted(needed):
                params = {name: value[i] for name, value in values.items()}
                land = ls.evaluate(loss, params, self._plane(params, run), grid, grid)
                if i in scale:
                    heights.append(land.losses.ravel())
                epoch = int(epochs[i])
                if epoch in drawn:
                    x0, y0 = self._axes_values(params)
                    self.grids[epoch] = (x0 + land.alphas, y0 + land.betas, land.losses)
                    z0 = land.at(center, center) if self.resolution % 2 else float(losses[i])
                    self.points[epoch] = (x0, y0, z0)
            if self.weights is not None and not self.relative:
                self.path = np.column_stack([self._weight_path(run), losses])
        else:
            origin = run.snapshots[-1].params
            plane = self._plane(origin, run)
            land = ls.evaluate(loss, origin, plane, grid, grid)
            heights.append(land.losses.ravel())
            x0, y0 = self._axes_values(origin)
            self.grids[-1] = (x0 + land.alphas, y0 + land.betas, land.losses)
            if self.weights is not None:  # w + δ: the path is the two weights themselves
                at_origin = [float(np.asarray(origin[name])[tuple(index)])
                             for name, index in self.weights]
                xy = self._weight_path(run) - at_origin + (x0, y0)
            else:
                xy = ls.project(self._path(run), origin, plane)
            self.path = np.column_stack([xy, losses])
            for snap in run.snapshots:
                x, y, _ = self.path[np.searchsorted(epochs, snap.epoch)]
                self.points[snap.epoch] = (float(x), float(y), snap.loss)
        zs = np.concatenate(heights)
        zs = zs[np.isfinite(zs)]
        zmin, zmax = (float(zs.min()), float(zs.max())) if zs.size else (0.0, 1.0)
        self.zrange = (zmin, zmax if zmax > zmin else zmin + 1.0)

    def _xy_limits(self, run: Run) -> tuple[tuple[float, float], tuple[float, float]]:
        """x and y limits holding every landscape of the run and the whole path."""
        if self.follow:  # each epoch's grid spans ±span around its centre
            centres = (self._weight_path(run) if self.weights is not None and not self.relative
                       else np.zeros((1, 2)))
            low, high = centres.min(axis=0) - self.span, centres.max(axis=0) + self.span
        else:
            xs, ys, _ = self.grids[-1]
            low = np.array([xs.min(), ys.min()])
            high = np.array([xs.max(), ys.max()])
        if self.path is not None:
            finite = self.path[np.all(np.isfinite(self.path[:, :2]), axis=1), :2]
            if finite.size:
                low = np.minimum(low, finite.min(axis=0))
                high = np.maximum(high, finite.max(axis=0))
        return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))

    # ----------------------------------------------------------------- drawing
    def setup(self, ax: Axes, run: Run) -> None:
        self.ax = ax
        self._colormap = None  # chosen again: the theme may differ from the last setup
        self.compute(run)
        self.zmin, self.zmax = self.zrange
        ax.set_title(self.title)
        if self.labels is not None:
            xlabel, ylabel = self.labels
        elif self.weights is not None:
            xlabel, ylabel = (weight_label(ref) for ref in self.weights)
            if self.relative:
                xlabel, ylabel = f"δ {xlabel}", f"δ {ylabel}"
        else:
            xlabel, ylabel = ("α (PC 1)", "β (PC 2)") if self.directions == "pca" else ("α", "β")
        xlim, ylim = self._xy_limits(run)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel(xlabel, labelpad=-2 if self.style == "surface" else None)
        ax.set_ylabel(ylabel, labelpad=-2 if self.style == "surface" else None)
        if self.style == "surface":
            ax3d = cast(Any, ax)  # an Axes3D (matplotlib's types know only Axes here)
            pad = 0.04 * (self.zmax - self.zmin)
            ax3d.set_zlim(self.zmin - pad, self.zmax + pad)
            if self.zlabel:
                ax3d.set_zlabel(self.zlabel, labelpad=-2)
            ax3d.view_init(*self.view)
            ax3d.set_box_aspect(None, zoom=self.zoom)
            tidy_3d_axes(ax)
        self.surface = None
        if not self.follow:
            self.surface = self._draw_landscape(*self.grids[-1])
        theme = self.theme
        if self.style == "surface":
            (self.trail,) = ax.plot([], [], [], color=theme.ink, linewidth=1.2, zorder=5)
            (self.marker,) = ax.plot([], [], [], "o", color=theme.loss,
                                     markeredgecolor=theme.edge, markersize=6, zorder=6)
        else:
            line = self._path_color()
            (self.trail,) = ax.plot([], [], color=line, linewidth=1.4, zorder=5)
            (self.marker,) = ax.plot([], [], "o", color=theme.loss, markeredgecolor=line,
                                     markersize=6, zorder=6)

    def _colormap_of(self) -> Colormap:
        """The loss colormap: ``cmap`` as given, else the theme's ``surface`` map."""
        # Kept: the registry hands out copies, each building its lookup table when first used.
        colormap = getattr(self, "_colormap", None)
        if colormap is None:
            import matplotlib

            if self.cmap is None:
                colormap = self.theme.cmap("surface")
            elif isinstance(self.cmap, str):
                colormap = matplotlib.colormaps[self.cmap]
            else:
                colormap = self.cmap
            self._colormap = colormap
        return colormap

    def _path_color(self) -> str:
        """Of the theme's ink and halo, the one that stands out more from the colormap's
        low end (the minimum, where the path ends): light on viridis in every theme."""
        from matplotlib.colors import to_rgb

        def luminance(color) -> float:
            r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                       for c in to_rgb(color))
            return 0.2126 * r + 0.7152 * g + 0.0722 * b

        low = luminance(self._colormap_of()(0.0))

        def contrast(color) -> float:
            high, other = sorted((luminance(color), low), reverse=True)
            return (high + 0.05) / (other + 0.05)

        return max((self.theme.halo, self.theme.ink), key=contrast)

    def _draw_landscape(self, xs: np.ndarray, ys: np.ndarray, zs: np.ndarray):
        gx, gy = np.meshgrid(xs, ys)
        if self.style == "surface":
            from matplotlib.colors import to_rgba

            quads = surface_quads(gx, gy, zs)
            faces = self._colormap_of()(
                (quads[..., 2].mean(axis=1) - self.zmin) / (self.zmax - self.zmin))
            faces[:, 3] = 0.92
            edges = np.tile(to_rgba(self.theme.halo, 0.3), (len(quads), 1))
            if self.surface is None:
                self.surface = quad_surface_class()(list(quads), linewidths=0.3, zorder=1)
                cast(Any, self.ax).add_collection3d(self.surface)  # an Axes3D
            self.surface.set_quads(quads, faces, edges)
            return self.surface
        levels = np.linspace(self.zmin, self.zmax, 16)
        return self.ax.contourf(gx, gy, zs, levels=levels, cmap=self._colormap_of(), zorder=1)

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
            cast(Any, self.marker).set_data_3d([x], [y], [z])  # a Line3D
        else:
            self.marker.set_data([x], [y])
        if self.path is not None:  # a path only where it has a meaning
            path = self.path[: np.searchsorted(self.epochs, snapshot.epoch, side="right")]
            if self.style == "surface":
                cast(Any, self.trail).set_data_3d(path[:, 0], path[:, 1], path[:, 2])
            else:
                self.trail.set_data(path[:, 0], path[:, 1])
            artists.append(self.trail)
        artists.append(self.marker)
        return artists
