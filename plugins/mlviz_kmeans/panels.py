"""The k-means panels: the elbow plot and the clustering with its Voronoi regions."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.style import CATEGORICAL

from .geometry import voronoi_cells
from .trainer import elbow

REGION_TINT = 0.28  # how much of a cluster's colour shows in its region (the rest is white)


def _rgb(colors) -> np.ndarray:
    from matplotlib.colors import to_rgb

    return np.array([to_rgb(c) for c in colors])


class ElbowPanel(Panel):
    """Inertia (sum of squared distances) for every K so far: look for the elbow.

    The finished Ks' final inertias come from the run's traces of ``k`` and the loss; the
    y axis holds the largest inertia of the whole run.
    """

    name = "kmeans-elbow"
    fields = ("k", "loss")
    traces = ("k", "loss")

    def setup(self, ax, run) -> None:
        self.run = run
        k_max = run.config.k_max
        top = float(np.nanmax(run.trace("loss")))
        ax.set_title("Elbow method")
        ax.set_xlabel("K (number of clusters)")
        ax.set_ylabel("inertia: sum of squared distances")
        ax.set_xlim(0.5, k_max + 0.5)
        ax.set_ylim(0, top * 1.08 if top > 0 else 1.0)
        ax.set_xticks(range(1, k_max + 1))
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
        ax.grid(True)
        (self.line,) = ax.plot([], [], "-o", color="#555555", markersize=4.5, zorder=2)
        (self.current,) = ax.plot([], [], "o", color="#d62728", markersize=9, zorder=3,
                                  markeredgecolor="black")

    def update(self, snapshot):
        until = snapshot.epoch
        self.line.set_data(*elbow(self.run.trace("k", until), self.run.trace("loss", until)))
        self.current.set_data([snapshot.k], [snapshot.loss])
        return [self.line, self.current]


class ClusterPanel(Panel):
    """Points, their nearest centroid, and the Voronoi region of every centroid."""

    name = "kmeans-clusters"
    fields = ("k", "iteration", "centroids", "labels", "converged", "loss")

    def setup(self, ax, run) -> None:
        from matplotlib.collections import LineCollection, PolyCollection

        points = run.dataset.X
        self.points = points
        lo, hi = points.min(axis=0), points.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        lo, hi = lo - 0.04 * span, hi + 0.04 * span
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ratio = (hi[1] - lo[1]) / (hi[0] - lo[0])
        if 0.25 <= ratio <= 4:
            ax.set_aspect("equal", adjustable="box")
        names = run.dataset.feature_names
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])

        self.box = (lo[0], hi[0], lo[1], hi[1])
        colors = _rgb(CATEGORICAL)
        self.colors = colors
        self.tints = 1.0 - REGION_TINT * (1.0 - colors)
        self.regions = PolyCollection([], edgecolors="white", linewidths=1.2, zorder=0)
        ax.add_collection(self.regions)
        self.links = LineCollection([], linewidths=1.1, alpha=0.6, zorder=1)
        ax.add_collection(self.links)
        self.dots = ax.scatter(points[:, 0], points[:, 1], s=14, c="#222222", alpha=0.8,
                               linewidths=0, zorder=2)
        self.centers = ax.scatter([], [], s=200, marker="X", edgecolors="black",
                                  linewidths=1.4, zorder=3)
        self.caption = ax.set_title(" ")

    def update(self, snapshot):
        centroids, labels = snapshot.centroids, snapshot.labels
        self.regions.set_verts(voronoi_cells(centroids, self.box))
        self.regions.set_facecolor(self.tints[: len(centroids)])
        self.links.set_segments(np.stack([self.points, centroids[labels]], axis=1))
        self.links.set_color(self.colors[labels])
        self.centers.set_offsets(centroids)
        self.centers.set_facecolor(self.colors[: len(centroids)])
        state = "converged" if snapshot.converged else f"iteration {snapshot.iteration}"
        self.caption.set_text(f"K = {snapshot.k}  ·  {state}  ·  inertia {snapshot.loss:,.0f}")
        return [self.regions, self.links, self.dots, self.centers, self.caption]
