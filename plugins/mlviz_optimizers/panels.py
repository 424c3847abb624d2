"""Race panels: the paths over the contours, over the 3D surface, and f − f_min per step."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.theme import LIGHT

from .surfaces import OPTIMIZERS

#: The racers' colours on the light theme, for code drawn outside mlviz's renderer (the
#: benchmarks' notebook-style renderer); panels take theirs from :func:`racer_style`.
COLORS = tuple(LIGHT.colors(len(OPTIMIZERS)))

#: f − f_min is drawn no lower than this: it can reach 0 exactly (a log axis has no 0), and
#: below it the racer has reached the minimum (the floor is marked on the loss panel).
GAP_FLOOR = 1e-8
#: The 3D panel's x and y axes get about this many tick labels, set this many points out
#: (and their names as far again).
TICK_BINS, TICK_PAD = 4, 2.0
BACKDROP_DEPTH = 0.65  # the high ground's share of the muted colour (the valleys: background)


def backdrop_cmap(theme):
    """The theme's background in the valleys, shading towards its muted grey on the heights,
    so the coloured paths stand out (light on a light theme, dark on a dark one)."""
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    low = np.array(to_rgb(theme.background))
    high = low + BACKDROP_DEPTH * (np.array(to_rgb(theme.muted)) - low)
    return LinearSegmentedColormap.from_list(f"{theme.name}-backdrop", [low, high])


def racer_style(theme, k: int) -> dict:
    """Colour, line style and marker of racer ``k`` (colour is not the only channel)."""
    return {"color": theme.color(k), "linestyle": theme.linestyle(k),
            "marker": theme.marker(k)}


def racer_labels(config) -> list[str]:
    rates = config.learning_rates()
    labels = []
    for key, name in OPTIMIZERS:
        extra = f", β {config.momentum:g}" if key == "momentum" else ""
        labels.append(f"{name} (lr {rates[key]:g}{extra})")
    return labels


def _grid(spec, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.linspace(*spec.xlim, n)
    y = np.linspace(*spec.ylim, n)
    X, Y = np.meshgrid(x, y)
    return X, Y, spec.f(X, Y) - spec.f_min


def _log_levels(gap: np.ndarray, count: int) -> np.ndarray:
    top = float(gap.max())
    bottom = max(top * 1e-4, 1e-3)
    return np.concatenate([[0.0], np.geomspace(bottom, top, count)])


class RaceContourPanel(Panel):
    """Contours of the surface (log-spaced levels) with every optimizer's path so far.

    The racers' labels (with their learning rates) are this panel's: a scene shows them in
    one figure-wide legend (``Scene(legend=...)``), each label once.
    """

    name = "optimizers-contour"
    fields = ("positions",)
    traces = ("positions",)

    def setup(self, ax, run) -> None:
        theme = self.theme
        config = run.config
        spec = config.spec
        self.run = run
        X, Y, gap = _grid(spec, 240)
        levels = _log_levels(gap, 16)
        from matplotlib.colors import BoundaryNorm

        norm = BoundaryNorm(levels, 256)
        ax.contourf(X, Y, gap, levels=levels, cmap=backdrop_cmap(theme), norm=norm, zorder=0)
        ax.contour(X, Y, gap, levels=levels, colors=theme.muted, linewidths=0.4, alpha=0.6,
                   zorder=1)
        ax.set_xlim(*spec.xlim)
        ax.set_ylim(*spec.ylim)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"{spec.name.capitalize()}: {spec.formula}", fontsize=theme.fontsize(9.5))
        self.trails, self.heads = [], []
        for k, label in enumerate(racer_labels(config)):
            style = racer_style(theme, k)
            self.trails.append(ax.plot([], [], color=style["color"], ls=style["linestyle"],
                                       linewidth=1.6, zorder=3)[0])
            # the head carries the label: its legend key shows line style and marker
            self.heads.append(ax.plot([], [], **style, markeredgecolor=theme.edge,
                                      markersize=7, linewidth=1.6, zorder=4, label=label)[0])
        marks = {"markerfacecolor": theme.halo, "markeredgecolor": theme.ink,
                 "linestyle": "none", "zorder": 2}
        for i, (mx, my) in enumerate(spec.minima):
            ax.plot(mx, my, marker="*", markersize=13, **marks,
                    label="minimum" if i == 0 else None)
        for sx, sy in spec.saddles:
            ax.plot(sx, sy, marker="X", markersize=9, **marks, label="saddle point")
        x0, y0 = config.start_point()
        ax.plot(x0, y0, marker="o", markersize=8, **marks, label="start")

    def update(self, snapshot):
        path = self.run.trace("positions", until=snapshot.epoch)
        for k, (trail, head) in enumerate(zip(self.trails, self.heads)):
            trail.set_data(path[:, k, 0], path[:, k, 1])
            head.set_data(snapshot.positions[k, :1], snapshot.positions[k, 1:])
        return [*self.trails, *self.heads]


class RaceSurfacePanel(Panel):
    """The surface in 3D (height log₁₀(1 + f − f_min)) with the paths running over it."""

    name = "optimizers-surface"
    projection = "3d"
    traces = ("positions", "values")

    def setup(self, ax, run) -> None:
        theme = self.theme
        spec = run.config.spec
        self.run = run
        self.f_min = spec.f_min
        X, Y, gap = _grid(spec, 70)
        Z = np.log10(1.0 + gap)
        # The paths are always drawn over the surface (also in a still figure): no depth sort.
        ax.computed_zorder = False
        ax.plot_surface(X, Y, Z, cmap=backdrop_cmap(theme), linewidth=0, antialiased=False,
                        rcount=70, ccount=70, zorder=1)
        ax.set_xlim(*spec.xlim)
        ax.set_ylim(*spec.ylim)
        ax.set_zlim(0.0, float(Z.max()))
        from matplotlib.ticker import MaxNLocator

        for axis in (ax.xaxis, ax.yaxis):  # few labels: x's and y's meet at the front corner
            axis.set_major_locator(MaxNLocator(TICK_BINS, steps=[1, 2, 5, 10]))
        ax.set_xlabel("x", labelpad=TICK_PAD)
        ax.set_ylabel("y", labelpad=TICK_PAD)
        ax.tick_params(labelsize=theme.fontsize(7), pad=TICK_PAD)
        ax.view_init(elev=40, azim=-120)
        ax.set_title("The paths on the surface\nheight: log₁₀(1 + f − f_min)",
                     fontsize=theme.fontsize(10))
        self.trails, self.heads = [], []
        for k in range(len(OPTIMIZERS)):
            style = racer_style(theme, k)
            self.trails.append(ax.plot([], [], [], color=style["color"],
                                       ls=style["linestyle"], linewidth=1.8, zorder=3,
                                       axlim_clip=True)[0])
            self.heads.append(ax.plot([], [], [], **style, markeredgecolor=theme.edge,
                                      markersize=6.5, zorder=4, axlim_clip=True)[0])

    def update(self, snapshot):
        path = self.run.trace("positions", until=snapshot.epoch)
        values = self.run.trace("values", until=snapshot.epoch)
        height = np.log10(1.0 + np.maximum(values - self.f_min, 0.0))
        for k, (trail, head) in enumerate(zip(self.trails, self.heads)):
            trail.set_data_3d(path[:, k, 0], path[:, k, 1], height[:, k])
            head.set_data_3d(path[-1:, k, 0], path[-1:, k, 1], height[-1:, k])
        return [*self.trails, *self.heads]


def loss_limits(gap: np.ndarray) -> tuple[float, float]:
    """The loss axis's limits for the gaps f − f_min of a whole run, drawn clipped at
    :data:`GAP_FLOOR`: a third of the lowest below it (a sixth at the floor, which leaves
    room for its label), three times the highest above, so every curve and its end marker
    stays inside, on a log axis."""
    drawn = np.maximum(gap[np.isfinite(gap)], GAP_FLOOR)
    if not drawn.size:
        return GAP_FLOOR, 1.0
    low, high = float(drawn.min()), float(drawn.max())
    return low / (6.0 if low <= GAP_FLOOR else 3.0), max(high * 3.0, low * 10.0)


class RaceLossPanel(Panel):
    """How far above the minimum each optimizer is, f − f_min, per step (log scale).

    Gaps below :data:`GAP_FLOOR` (the racer has reached the minimum, maybe exactly) are
    drawn on the floor, which a faint line marks, so no curve leaves the panel.
    """

    name = "optimizers-loss"
    traces = ("values",)

    def setup(self, ax, run) -> None:
        theme = self.theme
        spec = run.config.spec
        self.run = run
        self.f_min = spec.f_min
        gap = run.trace("values") - spec.f_min
        ax.set_yscale("log")
        ax.set_ylim(*loss_limits(gap))
        if np.any(gap[np.isfinite(gap)] <= GAP_FLOOR):
            ax.axhline(GAP_FLOOR, color=theme.muted, lw=0.9, ls=":", zorder=1)
            ax.annotate(f"minimum reached (≤ {GAP_FLOOR:.0e})", (0.0, GAP_FLOOR),
                        xycoords=("axes fraction", "data"), xytext=(4, -2),
                        textcoords="offset points", va="top", color=theme.muted,
                        fontsize="small")
        last = max(int(run.epochs[-1]), 1)
        ax.set_xlim(-0.02 * last, 1.03 * last)
        ax.set_xlabel("step")
        ax.set_ylabel(f"f − f_min   (f_min = {spec.f_min:g})")
        ax.set_title("Loss: f − f_min")
        ax.grid(True)
        self.lines, self.markers = [], []
        for k, label in enumerate(racer_labels(run.config)):
            style = racer_style(theme, k)
            self.lines.append(ax.plot([], [], color=style["color"], ls=style["linestyle"],
                                      linewidth=1.6, zorder=3)[0])
            # the same label as the contour panel's: a figure legend shows it once
            self.markers.append(ax.plot([], [], **style, markeredgecolor=theme.edge,
                                        markersize=6, linewidth=1.6, zorder=4,
                                        label=label)[0])
        self.label = ax.text(0.97, 0.97, "", transform=ax.transAxes, ha="right", va="top",
                             fontsize=theme.fontsize(8.5), family="DejaVu Sans Mono",
                             zorder=5)

    def update(self, snapshot):
        steps, values = self.run.history("values", until=snapshot.epoch)
        gap = np.maximum(values - self.f_min, GAP_FLOOR)  # NaN (a racer out) stays NaN
        for k, (line, marker) in enumerate(zip(self.lines, self.markers)):
            line.set_data(steps, gap[:, k])
            marker.set_data(steps[-1:], gap[-1:, k])
        self.label.set_text(f"step {snapshot.epoch}")
        return [*self.lines, *self.markers, self.label]
