"""The k-means panels: the elbow plot and the clustering with its Voronoi regions.

Colours come from ``self.theme``: cluster ``i`` is ``theme.color(i)`` with
``theme.marker(i)`` as a second channel (the palette has 8 colours and cycles; the markers
keep K up to 12 apart, in grey too).
"""

from __future__ import annotations

import functools

import numpy as np

from mlviz import Panel

from .geometry import voronoi_cells
from .trainer import clear_elbow, elbow, too_few_ks

REGION_TINT = 0.28  # how much of a cluster's colour shows in its region (the rest: background)
HEADROOM = 1.12  # the elbow's y axis reaches this far above the largest converged inertia
#: How far (in spans of the data) the Voronoi regions reach beyond the data: the panel
#: keeps an equal aspect by widening its limits to fill its box, and the regions fill it.
REGION_REACH = 6.0


def _rgb(colors) -> np.ndarray:
    from matplotlib.colors import to_rgb

    return np.array([to_rgb(c) for c in colors])


def _sci(value: float) -> str:
    """``value`` as mathtext, like 5.1×10⁷ (for the elbow's off-scale note)."""
    if not np.isfinite(value) or value == 0:
        return f"{value:g}"
    exponent = int(np.floor(np.log10(abs(value))))
    return rf"${value / 10**exponent:.2g}\times10^{{{exponent}}}$"


def final_epochs(k: np.ndarray) -> np.ndarray:
    """Indices of the last epoch of each K in a whole run's trace of ``k``."""
    k = np.asarray(k)
    return np.flatnonzero(np.r_[k[1:] != k[:-1], True]) if len(k) else np.array([], dtype=int)


def recap_mask(run) -> np.ndarray:
    """Which epochs of ``run`` are the closing recap of the elbow K (no Lloyd step)."""
    if run.has_trace("recap"):
        return np.asarray(run.trace("recap"), dtype=bool)
    return np.zeros(len(run.trace("epoch")), dtype=bool)


def fill_box_equally(ax) -> None:
    """Give ``ax`` an equal aspect by widening its x or y limits (about their centre) until
    the data fill the whole panel, as ``adjustable="datalim"`` would, but from the limits
    the axis has when it is first drawn (a sweep may have shared them since ``setup``)
    and without matplotlib's warning about fixed limits. Idempotent: the same box always
    gives the same limits."""
    plain = type(ax).apply_aspect  # the class's own, which this one wraps

    base: list[tuple[tuple[float, float], tuple[float, float]]] = []

    def apply_aspect(position=None) -> None:
        plain(ax, position)
        if not base:
            base.append((ax.get_xlim(), ax.get_ylim()))
        (x0, x1), (y0, y1) = base[0]
        width, height = ax.bbox.width, ax.bbox.height
        if width <= 0 or height <= 0:
            return
        want = height / width  # y units per x unit that make one unit as long on both
        dx, dy = x1 - x0, y1 - y0
        if dy / dx < want:
            grow = (want * dx - dy) / 2
            y0, y1 = y0 - grow, y1 + grow
        else:
            grow = (dy / want - dx) / 2
            x0, x1 = x0 - grow, x1 + grow
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)

    ax.set_aspect("auto")
    ax.apply_aspect = apply_aspect


class ElbowPanel(Panel):
    """Inertia (sum of squared distances) for every K so far: look for the elbow.

    Each finished K is its final inertia, from the run's traces of ``k``, ``converged`` and
    the loss: filled if k-means converged, hollow if it stopped at ``max_iter`` without
    converging (a legend says so). The ring is the current K at its current iteration. The y
    axis holds the final inertias (the elbow), not the first iterations of a K, which start
    far higher: a current value above it is shown as an arrow at the top, with its value.
    """

    name = "kmeans-elbow"
    fields = ("k", "loss")
    #: ``converged`` is read when the run has it (records saved before kmeans traced it do
    #: not: there every K is drawn as converged).
    traces = ("k", "loss")

    def setup(self, ax, run) -> None:
        from matplotlib.colors import to_rgba
        from matplotlib.ticker import FuncFormatter

        theme = self.theme
        self.run = run
        k_max = run.config.k_max
        k_min = getattr(run.config, "k_min", 1)
        self.lloyd = ~recap_mask(run)  # the epochs that are Lloyd steps (not the recap)
        ks = run.trace("k")[self.lloyd]
        last = final_epochs(ks)
        finals = np.asarray(run.trace("loss"), dtype=float)[self.lloyd][last]
        self.last_epoch = {int(ks[i]): int(run.trace("epoch")[self.lloyd][i]) for i in last}
        converged = (run.trace("converged")[self.lloyd] if run.has_trace("converged")
                     else np.ones(len(ks)))
        self.capped = {int(ks[i]): not bool(converged[i]) for i in last}
        self.finals = (ks[last], finals)
        finite = finals[np.isfinite(finals)]
        top = float(finite.max()) if finite.size else 0.0
        self.top = top * HEADROOM if top > 0 else 1.0
        ax.set_title("Elbow method")
        ax.set_xlabel("K (number of clusters)")
        ax.set_xlim(k_min - 0.5, k_max + 0.5)
        ax.set_ylim(0, self.top)
        ax.set_xticks(range(k_min, k_max + 1))
        # the power of ten goes in the label, not above the axis (where the arrow goes)
        exponent = int(np.floor(np.log10(self.top))) if self.top > 0 else 0
        unit = f" (×10$^{{{exponent}}}$)" if abs(exponent) >= 3 else ""
        scale = 10.0 ** exponent if unit else 1.0
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / scale:g}"))
        ax.set_ylabel(f"inertia: sum of squared distances{unit}")
        ax.grid(True)
        (self.line,) = ax.plot([], [], "-", color=theme.ink, lw=1.5, zorder=2)
        (self.done,) = ax.plot([], [], "o", color=theme.ink, ms=6, mec=theme.ink, zorder=3,
                               label="converged")
        max_iter = run.config.max_iter
        (self.stopped,) = ax.plot([], [], "o", ms=6.5, mfc=theme.background,
                                  mec=theme.ink, mew=1.6, zorder=3,
                                  label=f"stopped at max_iter = {max_iter},\nnot converged")
        (self.current,) = ax.plot([], [], "o", ms=14, mfc=to_rgba(theme.accent, 0.0),
                                  mec=theme.accent, mew=2.2,
                                  zorder=4, label="current K")
        (self.above,) = ax.plot([], [], "^", ms=9, color=theme.accent, mec=theme.edge,
                                mew=0.6, zorder=5, clip_on=False)
        self.above_text = ax.text(0, 0, "", color=theme.accent, ha="left", va="top",
                                  fontsize=theme.fontsize(8), zorder=5)
        self.elbow_line = ax.axvline(np.nan, color=theme.accent, lw=1.4, ls="--", zorder=1)
        self.elbow_text = elbow_label_class()(
            "", xy=(0, 0), xytext=(0, 0), textcoords="offset points", ha="left",
            va="bottom", color=theme.accent, fontsize=theme.fontsize(10), fontweight="bold",
            zorder=5, arrowprops={"arrowstyle": "->", "color": theme.accent, "lw": 1.4})
        ax.add_artist(self.elbow_text)
        ks_run, inertia_run = self.finals
        self.too_few = len(ks_run) >= 2 and too_few_ks(ks_run, inertia_run)
        self.short_text = "too few Ks to find an elbow:\n" + (
            "it needs a K on each side of the bend" if len(ks_run) < 3 else
            f"the inertia still falls steeply\nat K = {int(ks_run[-1])}")
        self.short_note = ax.text(0.97, 0.8, "", transform=ax.transAxes, ha="right",
                                  va="top", color=theme.accent, fontsize=theme.fontsize(9),
                                  zorder=5)
        for artist in (self.above, self.above_text, self.elbow_line, self.elbow_text,
                       self.short_note):
            artist.set_in_layout(False)  # moving: no say in the layout
        handles = [self.done, self.current]
        if any(self.capped.values()):
            handles.insert(1, self.stopped)
        ax.legend(handles=handles, loc="upper right", fontsize="small", handlelength=1.2,
                  borderaxespad=0.2, labelspacing=0.8)

    def update(self, snapshot):
        until = snapshot.epoch
        lloyd = self.lloyd[: len(self.run.trace("epoch", until))]
        ks, inertia = elbow(self.run.trace("k", until)[lloyd],
                            self.run.trace("loss", until)[lloyd])
        recap = bool(getattr(snapshot, "recap", False))
        finished = ks < snapshot.k
        if recap or until >= self.last_epoch.get(int(snapshot.k), until + 1):
            finished = np.ones(len(ks), dtype=bool)  # the current K's last iteration
        capped = np.array([self.capped.get(int(k), False) for k in ks], dtype=bool)
        self.line.set_data(ks, inertia)
        self.done.set_data(ks[finished & ~capped], inertia[finished & ~capped])
        self.stopped.set_data(ks[finished & capped], inertia[finished & capped])
        loss = float(snapshot.loss)
        if loss > self.top:  # K's first iterations: far above the elbow
            self.current.set_data([], [])
            self.above.set_data([snapshot.k], [self.top])
            self.above_text.set_position((snapshot.k + 0.3, 0.985 * self.top))
            self.above_text.set_text(f"{_sci(loss)} ↑")
        else:
            self.current.set_data([snapshot.k], [loss])
            self.above.set_data([], [])
            self.above_text.set_text("")
        if recap:  # the chosen K: a dashed line and a label pointing at its point
            self.elbow_line.set_xdata([snapshot.k, snapshot.k])
            self.elbow_text.xy = (snapshot.k, loss)
            sharp = clear_elbow(*self.finals, int(snapshot.k))
            self.elbow_text.set_text(f"elbow: K = {snapshot.k}" if sharp else
                                     f"no clear elbow\n(kneedle: K = {snapshot.k})")
            self.elbow_text.set_visible(True)
        else:  # hidden, arrow included: an empty text still draws its arrow
            self.elbow_line.set_xdata([np.nan, np.nan])
            self.elbow_text.set_text("")
            self.elbow_text.set_visible(False)
        shown = self.too_few and until == self.run.epochs[-1]
        self.short_note.set_text(self.short_text if shown else "")
        return [self.line, self.done, self.stopped, self.current, self.above, self.above_text,
                self.elbow_line, self.elbow_text, self.short_note]


@functools.cache
def elbow_label_class() -> type:
    """:class:`ElbowLabel`'s class, built on first use (matplotlib is imported then, not
    when the plugin registers)."""
    from matplotlib.text import Annotation

    class ElbowLabel(Annotation):
        """The elbow's label, placed when drawn, once the panel's size is known (a frame
        is the same whether it is drawn first or after others): up and to the right of
        the point, over the flat part of the curve, where it fits; else up and to the
        left, higher, clear of the steep part."""

        def draw(self, renderer) -> None:
            ax = self.axes
            if self.get_text() and ax is not None:
                width = max(renderer.get_text_width_height_descent(
                    line, self.get_fontproperties(), ismath=False)[0]
                    for line in self.get_text().split("\n"))
                x = ax.transData.transform(self.xy)[0]
                right = x + renderer.points_to_pixels(22) + width + 4 <= ax.bbox.x1
                self.set_position((22, 38) if right else (-22, 60))
                self.set_horizontalalignment("left" if right else "right")
            super().draw(renderer)

    return ElbowLabel


#: Datasets whose true classes the cluster panel shows by marker (k-means cannot follow them).
TRUE_CLASSES = {"moons": ("upper moon", "lower moon"), "circles": ("outer ring", "inner disc")}


class ClusterPanel(Panel):
    """Points, their nearest centroid, and the Voronoi region of every centroid.

    Cluster ``i`` has the theme's colour ``i`` and marker ``i``: its points, its link lines
    and its centroid (large, outlined), and the trail of its centroid through this K's Lloyd
    steps (from the ``params.centroids`` trace, so it does not depend on the drawn frames).
    A cluster left without points says "empty". On moons and circles the marker is the
    point's true class instead (a legend says so), so a student sees the clusters cut
    across the classes. With an equal aspect the panel widens its limits to fill its box,
    and the regions reach the edges.
    """

    name = "kmeans-clusters"
    fields = ("k", "iteration", "centroids", "labels", "converged", "loss")
    traces = ("k", "params.centroids")

    def setup(self, ax, run) -> None:
        from matplotlib.collections import LineCollection, PolyCollection
        from matplotlib.lines import Line2D

        theme = self.theme
        points = run.dataset.X
        self.run = run
        self.points = points
        self.max_iter = run.config.max_iter
        k_max = run.config.k_max
        lo, hi = points.min(axis=0), points.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        lo, hi = lo - 0.04 * span, hi + 0.04 * span
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ratio = (hi[1] - lo[1]) / (hi[0] - lo[0])
        reach = 0.0
        if 0.25 <= ratio <= 4:
            fill_box_equally(ax)
            reach = REGION_REACH * float(span.max())
        names = run.dataset.feature_names
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])

        self.box = (lo[0] - reach, hi[0] + reach, lo[1] - reach, hi[1] + reach)
        colors = _rgb(theme.colors(k_max))
        background = _rgb([theme.background])[0]
        self.colors = colors
        self.tints = background + REGION_TINT * (colors - background)
        self.regions = PolyCollection([], edgecolors=theme.halo, linewidths=1.2, zorder=0)
        ax.add_collection(self.regions, autolim=False)
        self.links = LineCollection([], linewidths=1.0, alpha=0.55, zorder=1)
        ax.add_collection(self.links, autolim=False)
        self.trails = LineCollection([], linewidths=2.0, zorder=2.5)
        ax.add_collection(self.trails, autolim=False)
        self.steps = ax.scatter([], [], s=22, marker="o", edgecolors=theme.edge,
                                linewidths=0.6, zorder=2.6)
        classes = TRUE_CLASSES.get(getattr(run.config, "dataset", ""))
        y = run.dataset.y
        self.classes = None
        self.legend = None
        if classes is not None and y is not None and len(np.unique(y)) == len(classes):
            self.classes = np.unique(y, return_inverse=True)[1]
        if self.classes is None or classes is None:  # one scatter per cluster: its colour and its marker
            self.dots = [ax.scatter(points[:0, 0], points[:0, 1], s=18, marker=theme.marker(i),
                                    color=colors[i], edgecolors=theme.edge, linewidths=0.3,
                                    alpha=0.9, zorder=2)
                         for i in range(k_max)]
            center_marker = [theme.marker(i) for i in range(k_max)]
        else:  # one scatter per true class: its marker; the colour is the cluster's
            self.dots = [ax.scatter(points[self.classes == j, 0], points[self.classes == j, 1],
                                    s=24, marker=theme.marker(j), edgecolors=theme.edge,
                                    linewidths=0.4, alpha=0.95, zorder=2)
                         for j in range(len(classes))]
            center_marker = ["X"] * k_max
            handles = [Line2D([], [], ls="", marker=theme.marker(j), ms=7, mfc=theme.muted,
                              mec=theme.edge, label=name) for j, name in enumerate(classes)]
            handles.append(Line2D([], [], ls="", marker="X", ms=10, mfc=theme.muted,
                                  mec=theme.edge, label="centroid"))
            self.legend = ax.legend(handles=handles, loc="upper left", fontsize="small",
                                    title="marker: true class · colour: cluster",
                                    title_fontsize="small", framealpha=0.9)
            self.legend.set_zorder(6)  # above the regions, which are redrawn every frame
        self.centers = [ax.scatter([], [], s=230, marker=center_marker[i], color=colors[i],
                                   edgecolors=theme.edge, linewidths=1.6, zorder=3)
                        for i in range(k_max)]
        self.empty = [ax.annotate("", (0, 0), xytext=(11, 9), textcoords="offset points",
                                  color=theme.ink, fontsize=theme.fontsize(9), ha="left",
                                  va="bottom", zorder=4) for _ in range(k_max)]
        for text in self.empty:
            text.set_in_layout(False)
        self.caption = ax.set_title(" ")

    def _trails(self, snapshot) -> list[np.ndarray]:
        """Each cluster's centroid positions through this K's Lloyd steps so far."""
        run = self.run
        if not run.has_trace("params.centroids"):
            return []
        until = snapshot.epoch
        ks = run.trace("k", until)
        lloyd = ~recap_mask(run)[: len(ks)]
        this_k = (ks == snapshot.k) & lloyd
        path = run.trace("params.centroids", until)[this_k][:, : snapshot.k]
        return [path[:, i] for i in range(snapshot.k)] if len(path) > 1 else []

    def update(self, snapshot):
        centroids, labels = snapshot.centroids, snapshot.labels
        k = len(centroids)
        self.regions.set_verts(voronoi_cells(centroids, self.box))
        self.regions.set_facecolor(self.tints[:k])
        self.links.set_segments(np.stack([self.points, centroids[labels]], axis=1))
        self.links.set_color(self.colors[labels])
        trails = self._trails(snapshot)
        self.trails.set_segments(trails)
        self.trails.set_color(self.colors[: len(trails)])
        if trails:
            earlier = np.concatenate([t[:-1] for t in trails])
            self.steps.set_offsets(earlier)
            self.steps.set_facecolor(np.repeat(self.colors[: len(trails)],
                                               len(trails[0]) - 1, axis=0))
        else:
            self.steps.set_offsets(np.empty((0, 2)))
        if self.classes is None:
            for i, dots in enumerate(self.dots):
                dots.set_offsets(self.points[labels == i] if i < k else np.empty((0, 2)))
        else:
            for j, dots in enumerate(self.dots):
                dots.set_facecolor(self.colors[labels[self.classes == j]])
        counts = np.bincount(labels, minlength=len(self.centers))
        for i, (center, text) in enumerate(zip(self.centers, self.empty)):
            center.set_offsets(centroids[i: i + 1] if i < k else np.empty((0, 2)))
            is_empty = i < k and counts[i] == 0
            text.set_text("empty cluster" if is_empty else "")
            if is_empty:
                text.xy = tuple(centroids[i])
        if getattr(snapshot, "recap", False):
            state = "the elbow, converged"
        elif snapshot.converged:
            state = "converged"
        elif snapshot.iteration + 1 >= self.max_iter:
            state = "not converged (max_iter)"
        else:
            state = f"iteration {snapshot.iteration}"
        self.caption.set_text(f"K = {snapshot.k}  ·  {state}  ·  inertia {snapshot.loss:,.0f}")
        legend = [] if self.legend is None else [self.legend]
        return [self.regions, self.links, self.trails, self.steps, *self.dots, *self.centers,
                *self.empty, self.caption, *legend]
