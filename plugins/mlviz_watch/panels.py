"""Panels of a watched model, reusable in any scene whose run records the same traces.

* :class:`PlaneLandscapePanel` (``watch-landscape``): the loss on the PCA plane of the
  trajectory, with the path drawn on that surface (each point at the loss of its projected
  parameters) and the share of the trajectory's variance the plane holds.
* :class:`PlaneLossPanel` (``plane-loss``): the path's loss on the plane against the true
  loss of the recorded parameters, over epochs.
* :class:`LayerNormsPanel` (``layer-norms``): a per-layer norm trace over epochs.
* :class:`DecisionRegionsPanel` (``decision-regions``): predicted classes over 2-D inputs.
* :class:`HiddenActivationsPanel` (``hidden-activations``): the last hidden layer's
  activations, projected to 2-D, coloured by class.

Run-level data (the landscape grid, region axes) is read from ``run.dataset.extra``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from mlviz import Panel
from mlviz.panels.landscape import quad_surface_class, surface_quads, tidy_3d_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mpl_toolkits.mplot3d.axes3d import Axes3D

    from mlviz import Run, Snapshot


def _until(run: Run, epoch: int) -> int:
    return int(np.searchsorted(run.trace("epoch"), epoch, side="right"))


def class_colors(theme, classes: int) -> list[str]:
    """One colour per class: the theme's two class colours for two, its palette for more."""
    if classes == 2:
        return [theme.negative, theme.positive]
    return theme.colors(max(classes, 1))


def _ticks(lo: float, hi: float, drop: str) -> list[float]:
    """Up to five round ticks in [lo, hi], none within a tenth of the span from the
    ``drop`` end (``"low"`` or ``"high"``)."""
    from matplotlib.ticker import MaxNLocator

    margin = 0.1 * (hi - lo)
    low, high = (lo + margin, hi) if drop == "low" else (lo, hi - margin)
    return [float(t) for t in MaxNLocator(5).tick_values(lo, hi) if low <= t <= high]


class PlaneLandscapePanel(Panel):
    """The loss over the PCA plane of the trajectory (3-D surface), the path on it (or,
    for a record made with ``directions="filter"``, over a filter-normalised random plane
    through the last parameters).

    Reads traces ``plane_xy`` (each epoch's coordinates on the plane, NaN where the
    parameters were not kept) and ``plane_loss`` (the loss at those projected points), and
    from ``run.dataset.extra``: ``alphas``, ``betas``, ``landscape`` (losses[j, i] at
    (alphas[i], betas[j])) and ``variance`` (the share of the trajectory's variance in the
    plane). The path's heights are the loss at its projected points, so it lies on the
    surface it is drawn over.
    """

    name = "watch-landscape"
    projection = "3d"
    traces = ("plane_xy", "plane_loss")

    #: The title for each way the plane is chosen (the record's ``directions``).
    TITLES = {"pca": "Loss landscape on the PCA plane",
              "filter": "Loss landscape, filter-normalised random plane"}

    def __init__(self, title: str | None = None,
                 view: tuple[float, float] = (28, -58)) -> None:
        self.title = title
        self.view = view

    def setup(self, ax: Axes3D, run: Run) -> None:
        from matplotlib.colors import to_rgba

        self.ax, self.run = ax, run
        extra = run.dataset.extra
        theme = self.theme
        xy, height = run.trace("plane_xy"), run.trace("plane_loss")
        self.ok = np.isfinite(xy).all(axis=1) & np.isfinite(height)
        variance = float(extra.get("variance", np.nan))
        directions = getattr(run.config, "directions", "pca")
        title = self.title or self.TITLES.get(directions, self.TITLES["pca"])
        if np.isfinite(variance):
            title += f"\n(the plane holds {100 * variance:.1f}% of the path's variance)"
        ax.set_title(title)
        axis = "PC" if directions == "pca" else "direction"
        ax.set_xlabel(f"{axis} 1", labelpad=4)
        ax.set_ylabel(f"{axis} 2", labelpad=4)
        ax.set_zlabel("loss", labelpad=-2)
        ax.view_init(*self.view)
        if "landscape" not in extra:
            ax.text2D(0.5, 0.5, "no finite parameters to draw", transform=ax.transAxes,
                      ha="center", color=theme.muted)
            self.trail = self.marker = None
            return
        alphas, betas = np.asarray(extra["alphas"]), np.asarray(extra["betas"])
        grid = np.asarray(extra["landscape"], dtype=float)
        heights = np.concatenate([grid[np.isfinite(grid)], height[self.ok]])
        zmin, zmax = (float(heights.min()), float(heights.max())) if heights.size else (0, 1)
        zmax = zmax if zmax > zmin else zmin + 1.0
        self.zmin, self.zmax = zmin, zmax
        ax.set_xlim(alphas[0], alphas[-1])
        ax.set_ylim(betas[0], betas[-1])
        ax.set_zlim(zmin - 0.03 * (zmax - zmin), zmax + 0.03 * (zmax - zmin))
        gx, gy = np.meshgrid(alphas, betas)
        quads = surface_quads(gx, gy, np.clip(np.nan_to_num(grid, nan=zmax), zmin, zmax))
        faces = theme.cmap("surface")((quads[..., 2].mean(axis=1) - zmin) / (zmax - zmin))
        faces[:, 3] = 0.9
        edges = np.tile(to_rgba(theme.halo, 0.25), (len(quads), 1))
        surface = quad_surface_class()(list(quads), linewidths=0.25, zorder=1)
        ax.add_collection3d(surface)
        surface.set_quads(quads, faces, edges)
        tidy_3d_axes(ax)
        # The x axis' last tick and the y axis' first meet at the front corner: neither
        # is drawn within a tenth of the axis of that corner.
        ax.set_xticks(_ticks(alphas[0], alphas[-1], drop="high"))
        ax.set_yticks(_ticks(betas[0], betas[-1], drop="low"))
        self.xy, self.height = xy, height
        (self.trail,) = ax.plot([], [], [], color=theme.ink, linewidth=1.6, zorder=5)
        (self.marker,) = ax.plot([], [], [], "o", color=theme.loss,
                                 markeredgecolor=theme.edge, markersize=6, zorder=6)
        self.readout = ax.text2D(0.01, 0.97, "", transform=ax.transAxes, va="top",
                                 fontsize=theme.fontsize(8), family="DejaVu Sans Mono",
                                 color=theme.text, zorder=7)

    def update(self, snapshot: Snapshot):
        if self.trail is None or self.marker is None:
            return []
        stop = _until(self.run, snapshot.epoch)
        ok = self.ok[:stop]
        xy, z = self.xy[:stop][ok], self.height[:stop][ok]
        self.trail.set_data_3d(xy[:, 0], xy[:, 1], z)
        if len(z):
            self.marker.set_data_3d([xy[-1, 0]], [xy[-1, 1]], [z[-1]])
            true = self.run.trace("true_loss")[:stop][ok] if self.run.has_trace("true_loss") \
                else None
            text = f"on plane {z[-1]:.4g}"
            if true is not None and np.isfinite(true[-1]):
                text += f"\ntrue     {true[-1]:.4g}"
            self.readout.set_text(text)
        return [self.trail, self.marker, self.readout]


class PlaneLossPanel(Panel):
    """The loss at the path's projected points (on the plane) and at the recorded
    parameters (true), at every kept epoch: where they part, the plane misses the path."""

    name = "plane-loss"
    traces = ("plane_loss", "true_loss")

    def __init__(self, title: str = "Loss: on the plane vs true", log: bool = False) -> None:
        self.title = title
        self.log = log

    def setup(self, ax: Axes, run: Run) -> None:
        self.run = run
        theme = self.theme
        epochs = run.trace("epoch").astype(float)
        self.plane, self.true = run.trace("plane_loss"), run.trace("true_loss")
        self.ok = np.isfinite(self.plane) | np.isfinite(self.true)
        self.epochs = epochs
        values = np.concatenate([self.plane[np.isfinite(self.plane)],
                                 self.true[np.isfinite(self.true)]])
        lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
        ax.set_ylim(lo - pad, hi + pad)
        last = max(float(epochs[-1]), 1.0)
        ax.set_xlim(-0.02 * last, 1.02 * last)
        ax.set_title(self.title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.grid(True)
        (self.true_line,) = ax.plot([], [], color=theme.muted, linewidth=2.6,
                                    label="true (recorded θ)")
        (self.plane_line,) = ax.plot([], [], color=theme.loss, linewidth=1.3,
                                     label="on the plane", linestyle=theme.linestyle(1))
        ax.legend(loc="upper right", fontsize=theme.fontsize(7), framealpha=0.85)

    def update(self, snapshot: Snapshot):
        stop = _until(self.run, snapshot.epoch)
        ok = self.ok[:stop]
        epochs = self.epochs[:stop][ok]
        self.true_line.set_data(epochs, self.true[:stop][ok])
        self.plane_line.set_data(epochs, self.plane[:stop][ok])
        return [self.true_line, self.plane_line]


class LayerNormsPanel(Panel):
    """A per-layer norm over epochs (trace ``trace``, shape (epochs, layers)), one line
    per layer (on a log scale when it spans decades), drawn up to the current epoch.
    ``layers`` names them."""

    name = "layer-norms"
    MAX_LABELLED = 6

    def __init__(self, trace: str = "weight_norms", layers: tuple[str, ...] = (),
                 title: str = "Weight norm per layer", ylabel: str = "‖W‖") -> None:
        self.trace = trace
        self.layers = tuple(layers)
        self.title = title
        self.ylabel = ylabel

    def requires(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (), (self.trace,)

    def setup(self, ax: Axes, run: Run) -> None:
        self.run = run
        theme = self.theme
        values = np.asarray(run.trace(self.trace), dtype=float)
        values = values.reshape(len(values), -1)
        self.values = np.where(values > 0, values, np.nan)
        self.epochs = run.trace("epoch").astype(float)
        ax.set_title(self.title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(self.ylabel)
        ax.grid(True)
        last = max(float(self.epochs[-1]), 1.0)
        ax.set_xlim(-0.02 * last, 1.02 * last)
        finite = self.values[np.isfinite(self.values)]
        self.lines = []
        if not finite.size:
            ax.set_ylim(0.1, 10)
            ax.set_yscale("log")
            ax.text(0.5, 0.5, "not recorded\n(no .grad at epoch())", transform=ax.transAxes,
                    ha="center", va="center", color=theme.muted,
                    fontsize=theme.fontsize(8))
            return
        lo, hi = float(finite.min()), float(finite.max())
        if hi / lo > 20:  # spread over decades (vanishing gradients): a log scale
            ax.set_yscale("log")
            ax.set_ylim(lo / 1.4, hi * 1.4)
        else:
            ax.set_ylim(lo - 0.06 * (hi - lo + 1e-12), hi + 0.06 * (hi - lo + 1e-12))
        count = self.values.shape[1]
        names = list(self.layers) if len(self.layers) == count else \
            [f"layer {k + 1}" for k in range(count)]
        if count <= self.MAX_LABELLED:
            colors = theme.colors(count)
        else:  # many layers: shallow to deep along the sequential map
            cmap = theme.cmap("sequential")
            colors = [cmap(0.05 + 0.85 * k / (count - 1)) for k in range(count)]
        labelled = set(range(count)) if count <= self.MAX_LABELLED else {0, count - 1}
        for k in range(count):
            (line,) = ax.plot([], [], color=colors[k], linewidth=1.4,
                              label=names[k] if k in labelled else None)
            self.lines.append(line)
        ax.legend(loc=self._free_corner(ax), fontsize=theme.fontsize(6.5), framealpha=0.85,
                  handlelength=1.2, borderpad=0.3, labelspacing=0.2)

    def _free_corner(self, ax: Axes) -> str:
        """The corner the whole run's curves enter least (fixed, whatever frames are
        drawn), for the legend."""
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        values = self.values
        if ax.get_yscale() == "log":
            values, y0, y1 = np.log(values), np.log(y0), np.log(y1)
        fx = np.repeat((self.epochs - x0) / (x1 - x0), values.shape[1])
        fy = ((values - y0) / (y1 - y0)).ravel()
        ok = np.isfinite(fy)
        fx, fy = fx[ok], fy[ok]
        width, height = 0.42, 0.08 + 0.08 * min(len(self.lines), 3)
        corners = {"upper left": (0, 1 - height), "upper right": (1 - width, 1 - height),
                   "lower right": (1 - width, 0), "lower left": (0, 0)}
        counts = {name: int(((fx >= cx) & (fx <= cx + width) & (fy >= cy)
                             & (fy <= cy + height)).sum())
                  for name, (cx, cy) in corners.items()}
        return min(corners, key=lambda name: counts[name])

    def update(self, snapshot: Snapshot):
        stop = _until(self.run, snapshot.epoch)
        for k, line in enumerate(self.lines):
            line.set_data(self.epochs[:stop], self.values[:stop, k])
        return list(self.lines)


class DecisionRegionsPanel(Panel):
    """The predicted class over the plane of two input features (snapshot field
    ``regions``, on the axes ``run.dataset.extra['region_x']``/``['region_y']``), with the
    data points coloured by class."""

    name = "decision-regions"
    fields = ("regions",)
    TINT = 0.38  # share of the class colour in a region's tint

    def __init__(self, title: str = "Decision regions") -> None:
        self.title = title

    def setup(self, ax: Axes, run: Run) -> None:
        from matplotlib.colors import ListedColormap, to_rgb

        theme = self.theme
        data = run.dataset
        gx = np.asarray(data.extra["region_x"])
        gy = np.asarray(data.extra["region_y"])
        labels = np.asarray(data.y).astype(int)
        count = max(int(labels.max()) + 1, 2)
        colors = class_colors(theme, count)
        # Opaque tints (the class colour over the background): redrawn every frame, an
        # image with alpha would pile up over the background instead.
        back = np.array(to_rgb(theme.background))
        tints = [tuple(self.TINT * np.array(to_rgb(c)) + (1 - self.TINT) * back)
                 for c in colors]
        extent = (gx[0], gx[-1], gy[0], gy[-1])
        self.image = ax.imshow(np.zeros((len(gy), len(gx))), origin="lower", extent=extent,
                               aspect="auto", cmap=ListedColormap(tints), vmin=-0.5,
                               vmax=count - 0.5, interpolation="nearest", zorder=0)
        self.points = []
        for c in range(count):
            chosen = labels == c
            self.points.append(ax.scatter(
                data.X[chosen, 0], data.X[chosen, 1], s=10, color=colors[c],
                marker=theme.marker(c), edgecolors=theme.edge, linewidths=0.3, zorder=2))
        ax.set_xlim(gx[0], gx[-1])
        ax.set_ylim(gy[0], gy[-1])
        ax.set_title(self.title)
        ax.set_xlabel(data.feature_names[0])
        ax.set_ylabel(data.feature_names[1])

    def update(self, snapshot: Any):
        self.image.set_data(np.asarray(snapshot.regions, dtype=float))
        return [self.image, *self.points]  # the points stay above the regions


class HiddenActivationsPanel(Panel):
    """The last hidden layer's activations (snapshot field ``hidden``: each shown point
    on the first two principal components of that epoch's activations, each of unit
    standard deviation),
    coloured by class (or by target value for a regression)."""

    name = "hidden-activations"
    fields = ("hidden",)
    LIMIT = 3.0

    def __init__(self, title: str = "Last hidden layer") -> None:
        self.title = title

    def setup(self, ax: Axes, run: Run) -> None:
        theme = self.theme
        y = np.asarray(run.dataset.y, dtype=float)
        classes = int(getattr(run.config, "classes", 0) or 0)
        if classes >= 2:
            colors = class_colors(theme, classes)
            self.colors = [colors[int(v)] for v in y]
        else:
            cmap = theme.cmap("sequential")
            span = float(np.ptp(y)) or 1.0
            self.colors = list(cmap((y - y.min()) / span))
        last = np.asarray(cast(Any, run.snapshots[-1]).hidden, dtype=float)
        finite = np.abs(last[np.isfinite(last)])
        limit = max(self.LIMIT, float(np.quantile(finite, 0.995)) * 1.1 if finite.size else 0)
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_title(self.title)
        ax.set_xlabel("PC 1 (per epoch)")
        ax.set_ylabel("PC 2")
        ax.set_xticks([])
        ax.set_yticks([])
        self.points = ax.scatter(np.zeros(len(y)), np.zeros(len(y)), s=9, c=self.colors,
                                 edgecolors=theme.edge, linewidths=0.2, zorder=2)

    def update(self, snapshot: Any):
        self.points.set_offsets(np.nan_to_num(np.asarray(snapshot.hidden, dtype=float),
                                              nan=1e9))
        return [self.points]
