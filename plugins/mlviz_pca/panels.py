"""The PCA panels: principal axes and the kept span, the reconstruction, explained variance."""

from __future__ import annotations

import numpy as np

from mlviz import Panel

from .trainer import drawn_data, fit_pca

#: The theme's categorical colour of each principal component: PC1 vermillion, PC2 green,
#: PC3 blue (in the Okabe–Ito order of the default themes); the reconstruction is colour 1.
PC_COLOR_INDEX = (3, 2, 0)
RECON_COLOR_INDEX = 1
ARROW_SIGMAS = 2.0  # arrows are this many standard deviations long
#: The camera looks at the PC1–PC2 plane from this many degrees above it, across PC1: the
#: plane shows as a thin sheet, so points flattened onto it (k = 2) and points off it
#: (k = 3) are visibly different pictures.
VIEW_ABOVE_PLANE = 12.0


def pc_colors(theme, d: int) -> list[str]:
    """The colour of each of ``d`` principal components."""
    return [theme.color(PC_COLOR_INDEX[j % len(PC_COLOR_INDEX)]) for j in range(d)]


def stage(snapshot) -> tuple[int, int, bool]:
    """(components kept before, components kept after, whether the points are sliding)
    at one frame; runs recorded before ``k_from`` existed slide from k − 1 to k."""
    k, progress = snapshot.k, snapshot.progress
    k_from = getattr(snapshot, "k_from", None)
    if k_from is None:
        k_from = k - 1 if k > 0 and progress < 1.0 else k
    return k_from, k, progress < 1.0 and k_from != k


def camera(fit) -> dict[str, float]:
    """elev and azim of a camera looking across PC1 at the plane of PC1 and PC2 from
    ``VIEW_ABOVE_PLANE`` degrees above it (from above the floor, elev ≥ 0)."""
    v = fit.components
    if len(v) < 3:
        return {"elev": 18.0, "azim": -62.0}
    angle = np.radians(VIEW_ABOVE_PLANE)
    above = v[2] if v[2][2] >= 0 else -v[2]  # look from above the floor
    direction = -np.cos(angle) * v[1] + np.sin(angle) * above
    elev = float(np.degrees(np.arcsin(np.clip(direction[2], -1.0, 1.0))))
    azim = float(np.degrees(np.arctan2(direction[1], direction[0])))
    return {"elev": elev, "azim": azim}


def _setup_cube(ax, run, theme):
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
    ax.set_xlabel(names[0], labelpad=0)
    ax.set_ylabel(names[1], labelpad=0)
    ax.set_zlabel(names[2], labelpad=0)
    ax.tick_params(labelsize=theme.fontsize(7), pad=0)
    ax.tick_params(axis="z", pad=3)  # keeps the minus of "−0.6" off the tick mark
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(4))
    ax.view_init(**camera(fit))
    return X, fit


def turn_camera(ax, view: dict[str, float], snapshot, artists: list) -> list | None:
    """Point the camera of ``ax`` at ``view`` turned by the snapshot's ``turn`` (degrees
    about the vertical; runs recorded before it existed: 0). Returns ``artists`` (what the
    panel changed), or ``None`` when the camera is turned: the whole panel, static parts
    too, must then be drawn again, so the artists are drawn with it, not blitted."""
    turn = float(getattr(snapshot, "turn", 0.0) or 0.0)
    ax.view_init(elev=view["elev"], azim=view["azim"] + turn)
    if turn == 0.0:
        # blitted artists project with the axes' matrix, which a full draw (a turned
        # frame before this one) left turned: set it for this view
        ax.M = ax.get_proj()
        ax.invM = np.linalg.inv(ax.M)
        return artists
    for artist in artists:
        artist.set_animated(False)
    return None


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


def _span_artists(ax, colors: list[str]):
    """An (invisible) plane and line for the span of the kept components: the plane in
    PC2's colour, the line in PC1's."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    plane = Poly3DCollection([np.zeros((4, 3))], facecolor=colors[1 % len(colors)],
                             alpha=0.22, edgecolor=colors[1 % len(colors)], linewidths=0.8,
                             zorder=2)
    ax.add_collection3d(plane, autolim=False)
    (line,) = ax.plot([], [], [], color=colors[0], lw=1.6, alpha=0.85, zorder=2)
    return plane, line


def _show_span(plane, line, fit, extent: np.ndarray, k: int):
    """Show the span of the first ``k`` components (a line for 1, a plane for 2); returns
    (the line's two ends or None, the plane's four corners or None)."""
    segment, corners = _span_shapes(fit, extent, k)
    line.set_data_3d(*(segment.T if segment is not None else ([], [], [])))
    plane.set_visible(corners is not None)
    if corners is not None:
        plane.set_verts([corners])
    return segment, corners


def _shape(k: int, d: int) -> str:
    return {0: "the mean alone", 1: "a line", 2: "a plane"}.get(
        k, "all of the space" if k == d else f"a {k}-dimensional subspace")


def _describe(snapshot, d: int) -> str:
    k_from, k, sliding = stage(snapshot)
    if sliding:
        verb = f"adding PC{k}" if k > k_from else f"dropping {_components(k + 1, k_from)}"
        return f"{verb}: from {_shape(k_from, d)} to {_shape(k, d)}"
    return f"span of the kept components (k = {k}): {_shape(k, d)}"


def _components(first: int, last: int) -> str:
    """"PC3", or "PC2–PC3" for several."""
    return f"PC{last}" if first == last else f"PC{first}–PC{last}"


def _k_text(snapshot) -> str:
    k_from, k, sliding = stage(snapshot)
    return f"k = {k_from} → {k}" if sliding else f"k = {k}"


class AxesPanel(Panel):
    """The data with its principal axes (arrows of 2 standard deviations) and the span of
    the kept components (a line, then a plane)."""

    name = "pca-axes"
    projection = "3d"
    fields = ("k", "progress")

    def setup(self, ax, run) -> None:
        theme = self.theme
        X, fit = _setup_cube(ax, run, theme)
        colors = pc_colors(theme, X.shape[1])
        ax.computed_zorder = False  # draw by zorder, as the blitting renderer does
        self.fit = fit
        self.view = camera(fit)
        self.ax = ax
        self.d = X.shape[1]
        scores = (X - fit.mean) @ fit.components.T
        self.extent = np.percentile(scores, [2, 98], axis=0).T
        ax.set_title("Data and principal axes")
        ax.scatter(*X.T, s=7, color=theme.ink, alpha=0.4, depthshade=False, linewidths=0)
        self.arrows = []  # static, but returned every frame: they stay above the moving span
        for j in range(min(3, self.d)):
            tip = ARROW_SIGMAS * fit.std[j] * fit.components[j]
            self.arrows.append(ax.quiver(*fit.mean, *tip, color=colors[j], linewidth=2.2,
                                         arrow_length_ratio=0.18, zorder=4))
            # beyond the tip by a fixed share of the cube, so short arrows keep their label
            # off the others' (PC3 is only the noise's 2 standard deviations long)
            end = fit.mean + tip + fit.components[j] * 0.12 * np.ptp(ax.get_xlim())
            if j == 1 and self.d >= 3:
                # the camera looks along PC2, so its tip lies on PC1's shaft: its label
                # goes below the plane (PC3's goes above it)
                up = fit.components[2] if fit.components[2][2] >= 0 else -fit.components[2]
                end = end - up * 0.14 * np.ptp(ax.get_xlim())
            self.arrows.append(ax.text(*end, f"PC{j + 1}", color=colors[j],
                                       fontsize=theme.fontsize(8), fontweight="bold",
                                       zorder=5))
        self.plane, self.line = _span_artists(ax, colors)
        (self.center,) = ax.plot([], [], [], "o", color=theme.ink, ms=6)
        self.caption = ax.text2D(0.5, 1.0, "", transform=ax.transAxes, ha="center",
                                 va="top", fontsize=theme.fontsize(8.5))

    def update(self, snapshot):
        self.span = _show_span(self.plane, self.line, self.fit, self.extent, snapshot.k)
        m = self.fit.mean
        self.center.set_data_3d(*(([m[0]], [m[1]], [m[2]]) if snapshot.k == 0 else ([], [], [])))
        self.caption.set_text(_describe(snapshot, self.d))
        return turn_camera(self.ax, self.view, snapshot,
                           [self.plane, self.line, self.center, *self.arrows, self.caption])


class ReconstructionPanel(Panel):
    """Each point projected onto the span of the kept components, joined to the
    original point (faint) by its residual; the reconstruction is the theme's colour 1."""

    name = "pca-reconstruction"
    projection = "3d"
    fields = ("k", "progress", "reconstruction", "loss")

    def setup(self, ax, run) -> None:
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        theme = self.theme
        X, fit = _setup_cube(ax, run, theme)
        ax.computed_zorder = False  # draw by zorder, as the blitting renderer does
        self.X, self.fit = X, fit
        self.view = camera(fit)
        self.ax = ax
        self.extent = np.percentile((X - fit.mean) @ fit.components.T, [2, 98], axis=0).T
        ax.set_title("Reconstruction from k components")
        self.plane, self.line = _span_artists(ax, pc_colors(theme, X.shape[1]))
        ax.scatter(*X.T, s=6, color=theme.ink, alpha=0.18, depthshade=False, linewidths=0)
        self.residuals = Line3DCollection([], colors=theme.muted, linewidths=0.5, alpha=0.5)
        ax.add_collection3d(self.residuals, autolim=False)
        (self.points,) = ax.plot([], [], [], "o", color=theme.color(RECON_COLOR_INDEX),
                                 ms=2.6, alpha=0.9)
        self.caption = ax.text2D(0.5, 1.0, "", transform=ax.transAxes, ha="center",
                                 va="top", fontsize=theme.fontsize(8.5),
                                 family="DejaVu Sans Mono")

    def update(self, snapshot):
        recon = snapshot.reconstruction
        self.span = _show_span(self.plane, self.line, self.fit, self.extent, snapshot.k)
        self.points.set_data_3d(*recon.T)
        self.residuals.set_segments(np.stack([self.X, recon], axis=1))
        self.caption.set_text(f"{_k_text(snapshot)}   reconstruction MSE "
                              f"{snapshot.loss:.4f}")
        return turn_camera(self.ax, self.view, snapshot,
                           [self.plane, self.line, self.residuals, self.points, self.caption])


class VariancePanel(Panel):
    """Share of the variance along each principal component; the kept ones in colour,
    with their running total."""

    name = "pca-variance"
    fields = ("k", "progress", "weights", "explained_variance_ratio")
    traces = ("explained_variance_ratio",)

    def setup(self, ax, run) -> None:
        theme = self.theme
        ratio = run.trace("explained_variance_ratio")[-1]
        d = len(ratio)
        self.colors = pc_colors(theme, d)
        self.dropped = theme.faint
        positions = np.arange(1, d + 1)
        self.bars = ax.bar(positions, ratio, width=0.6, color=theme.faint, edgecolor=theme.muted,
                           linewidth=0.8, zorder=2)
        for x, r in zip(positions, ratio):
            ax.text(x, r + 0.015, f"{100 * r:.1f}%", ha="center", va="bottom",
                    fontsize=theme.fontsize(8.5))
        self.cumulative = np.cumsum(ratio)
        ax.set_xticks(positions, [f"PC{j}" for j in positions])
        ax.set_xlim(0.4, d + 0.6)
        ax.set_ylim(0, 1.2)
        ax.set_title("Explained variance ratio")
        ax.grid(True, axis="y")
        (self.total,) = ax.plot([], [], "o-", color=theme.ink, lw=1.2, ms=4, zorder=3,
                                label="cumulative, kept")
        ax.legend(loc="center right")
        self.label = ax.text(0.03, 0.98, "", transform=ax.transAxes, ha="left", va="top",
                             fontsize=theme.fontsize(8.5))

    def update(self, snapshot):
        from matplotlib.colors import to_rgb

        grey = np.array(to_rgb(self.dropped))
        for bar, color, weight in zip(self.bars, self.colors, snapshot.weights):
            bar.set_facecolor(tuple(grey + weight * (np.array(to_rgb(color)) - grey)))
        kept = float(np.sum(snapshot.weights**2 * snapshot.explained_variance_ratio))
        k_from, k, sliding = stage(snapshot)
        shown = max(k_from, k) if sliding else k
        totals = [*self.cumulative[: max(shown - 1, 0)], kept][:shown]
        self.total.set_data(np.arange(1, shown + 1), totals)
        d = len(self.bars)
        components = f"kept {k} of {d} components"
        if sliding and k > k_from:
            components = f"kept {k_from} of {d}, adding PC{k}"
        elif sliding:
            components = f"kept {k_from} of {d}, dropping {_components(k + 1, k_from)}"
        self.label.set_text(f"{components}\nreconstruction keeps {100 * kept:.1f}%\n"
                            "of the variance")
        return [*self.bars, self.total, self.label]
