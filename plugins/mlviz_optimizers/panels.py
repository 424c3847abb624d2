"""Race panels: the paths over the contours, over the 3D surface, and f − f_min per step."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.theme import LIGHT

from .surfaces import OPTIMIZERS

#: Which of the theme's categorical colours each racer gets: blue, orange, sky blue and
#: black (light grey on the dark theme). Chosen with :mod:`mlviz.colorvision` so that for
#: every reader (normal, protanopia, deuteranopia, tritanopia) the four stay at least
#: 19 ΔE apart, from each other and from every grey of the contour backdrop, in the light
#: and the dark theme (the first four colours fell to 12.5: under deuteranopia the orange
#: and the vermilion met, and the green turned grey on the grey contours).
RACER_COLORS = (0, 1, 5, 7)

#: The racers' colours on the light theme, for code drawn outside mlviz's renderer (the
#: benchmarks' notebook-style renderer); panels take theirs from :func:`racer_style`.
COLORS = tuple(LIGHT.color(i) for i in RACER_COLORS)

#: f − f_min is drawn no lower than this: it can reach 0 exactly (a log axis has no 0), and
#: below it the racer has reached the minimum (the floor is marked on the loss panel).
GAP_FLOOR = 1e-8
#: The 3D panel's x and y axes get about this many tick labels, set this many points out
#: (and their names as far again).
TICK_BINS, TICK_PAD = 4, 2.0
#: The legend takes the top (or bottom) 1 − LEGEND_ROOM of the loss panel: when the
#: curves cross every corner, the axis reaches higher so that they keep below LEGEND_ROOM.
LEGEND_ROOM = 0.72
BACKDROP_DEPTH = 0.65  # the high ground's share of the muted colour (the valleys: background)


def _luminance(color) -> float:
    from matplotlib.colors import to_rgb

    return float(np.dot(to_rgb(color), (0.2126, 0.7152, 0.0722)))


def backdrop_cmap(theme):
    """Grey shading between the theme's background and a mix towards its muted grey, the
    darker shade always in the valleys (darker = lower, in every theme): on a light theme
    the valleys are grey and the heights the background, on a dark one the other way."""
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    base = np.array(to_rgb(theme.background))
    mixed = base + BACKDROP_DEPTH * (np.array(to_rgb(theme.muted)) - base)
    low, high = (mixed, base) if _luminance(mixed) < _luminance(base) else (base, mixed)
    return LinearSegmentedColormap.from_list(f"{theme.name}-backdrop", [low, high])


def racer_style(theme, k: int) -> dict:
    """Colour, line style and marker of racer ``k`` (colour is not the only channel)."""
    return {"color": theme.color(RACER_COLORS[k]), "linestyle": theme.linestyle(k),
            "marker": theme.marker(k)}


def backdrop_colourbar(ax, theme, bottom: float, top: float) -> None:
    """A slim horizontal colour bar under ``ax`` (below its x label): the backdrop's shade
    against f − f_min, on a log scale."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import LogLocator

    holder = ax.inset_axes((0.08, -0.25, 0.84, 0.035))
    bar = ax.figure.colorbar(ScalarMappable(norm=LogNorm(bottom, top),
                                            cmap=backdrop_cmap(theme)), cax=holder,
                             orientation="horizontal")
    bar.locator = LogLocator(numticks=7)
    bar.update_ticks()
    bar.outline.set_visible(False)
    holder.tick_params(labelsize=theme.fontsize(7.5), length=2, pad=1)
    bar.set_label("contour shading: f − f_min (darker = lower)", fontsize=theme.fontsize(8.5),
                  labelpad=2)


def racer_labels(config) -> list[str]:
    rates = config.learning_rates()
    labels = []
    for key, name in OPTIMIZERS:
        extra = f", β {config.momentum:g}" if key == "momentum" else ""
        labels.append(f"{name} (lr {rates[key]:g}{extra})")
    return labels


def _grid(spec, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.linspace(spec.xlim[0], spec.xlim[1], n)
    y = np.linspace(spec.ylim[0], spec.ylim[1], n)
    X, Y = np.meshgrid(x, y)
    return X, Y, spec.f(X, Y) - spec.f_min


def _log_levels(gap: np.ndarray, count: int) -> np.ndarray:
    top = float(gap.max())
    bottom = max(top * 1e-4, 1e-3)
    return np.concatenate([[0.0], np.geomspace(bottom, top, count)])


def landmark_style(theme) -> dict:
    """How the minima, saddle points and the start are marked on the contours."""
    return {"markerfacecolor": theme.halo, "markeredgecolor": theme.ink,
            "linestyle": "none", "zorder": 2}


class RaceContourPanel(Panel):
    """Contours of the surface (log-spaced levels, a colour bar for f − f_min, darker =
    lower) with every optimizer's path so far. The key to the racers and the marks is the
    loss panel's legend (:class:`RaceLossPanel`)."""

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
        backdrop_colourbar(ax, theme, float(levels[1]), float(levels[-1]))
        ax.set_xlim(*spec.xlim)
        ax.set_ylim(*spec.ylim)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"{spec.name.capitalize()}: {spec.formula}", fontsize=theme.fontsize(9.5))
        self.trails, self.heads = [], []
        for k in range(len(OPTIMIZERS)):
            style = racer_style(theme, k)
            self.trails.append(ax.plot([], [], color=style["color"], ls=style["linestyle"],
                                       linewidth=1.6, zorder=3)[0])
            self.heads.append(ax.plot([], [], **style, markeredgecolor=theme.edge,
                                      markersize=7, linewidth=1.6, zorder=4)[0])
        marks = landmark_style(theme)
        for mx, my in spec.minima:
            ax.plot(mx, my, marker="*", markersize=13, **marks)
        for sx, sy in spec.saddles:
            ax.plot(sx, sy, marker="X", markersize=9, **marks)
        x0, y0 = config.start_point()
        ax.plot(x0, y0, marker="o", markersize=8, **marks)

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
        # The height's name under the title: as a z label it would stand at the left edge
        # of the panel, over the contour panel beside it.
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
        low, high = loss_limits(gap)
        ax.set_ylim(low, high)
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
            self.markers.append(ax.plot([], [], **style, markeredgecolor=theme.edge,
                                        markersize=6, linewidth=1.6, zorder=4,
                                        label=label)[0])
        self.ax, self.gap = ax, gap
        self.legend = self._legend(ax, run)
        if self._corner()[1]:  # every corner crossed: room above the curves for the legend
            ax.set_ylim(low, 10 ** (np.log10(low) + np.log10(high / low) / LEGEND_ROOM))
        self.label = ax.text(0.97, 0.97, "", transform=ax.transAxes, ha="right", va="top",
                             fontsize=theme.fontsize(8.5), family="DejaVu Sans Mono",
                             zorder=5)
        self.placed_for: tuple | None = None

    def _legend(self, ax, run):
        """The scene's one legend: the racers, then the contours' marks."""
        from matplotlib.lines import Line2D

        spec = run.config.spec
        marks = landmark_style(self.theme)
        handles = list(self.markers)
        handles.append(Line2D([], [], marker="*", markersize=11, label="minimum", **marks))
        if spec.saddles:
            handles.append(Line2D([], [], marker="X", markersize=8, label="saddle point",
                                  **marks))
        handles.append(Line2D([], [], marker="o", markersize=7, label="start", **marks))
        legend = ax.legend(handles=handles, loc="lower left",
                           fontsize=self.theme.fontsize(7.5), framealpha=0.92,
                           handlelength=2.4, borderaxespad=0.4)
        legend.set_zorder(6)  # over the curves, which are redrawn every frame
        return legend

    def _corner(self) -> tuple[str, int]:
        """The corner of the panel (at its current limits) that the whole run's curves
        cross least, and how many curve points fall in it."""
        (x0, x1), (y0, y1) = self.ax.get_xlim(), self.ax.get_ylim()
        steps = np.repeat(self.run.trace("epoch"), self.gap.shape[1])
        drawn = np.maximum(self.gap.ravel(), GAP_FLOOR)
        ok = np.isfinite(drawn)
        fx = (steps[ok] - x0) / (x1 - x0)
        fy = (np.log10(drawn[ok]) - np.log10(y0)) / (np.log10(y1) - np.log10(y0))
        top = 1.0 - LEGEND_ROOM
        corners = {"lower left": (fx < 0.6) & (fy < top),
                   "upper right": (fx > 0.4) & (fy > LEGEND_ROOM),
                   "lower right": (fx > 0.4) & (fy < top),
                   "upper left": (fx < 0.6) & (fy > LEGEND_ROOM)}
        corner = min(corners, key=lambda c: int(corners[c].sum()))
        return corner, int(corners[corner].sum())

    def _place(self) -> None:
        """Put the legend in the corner the whole run's curves cross least, for the axis
        limits in force (a sweep may share them after ``setup``), and the step readout in
        an upper corner the legend leaves free."""
        ax = self.ax
        limits = (ax.get_xlim(), ax.get_ylim())
        if limits == self.placed_for:
            return
        self.placed_for = limits
        corner, _ = self._corner()
        self.legend.set_loc(corner)
        left = corner == "upper right"
        self.label.set_position((0.03, 0.97) if left else (0.97, 0.97))
        self.label.set_horizontalalignment("left" if left else "right")

    def update(self, snapshot):
        steps, values = self.run.history("values", until=snapshot.epoch)
        gap = np.maximum(values - self.f_min, GAP_FLOOR)  # NaN (a racer out) stays NaN
        for k, (line, marker) in enumerate(zip(self.lines, self.markers)):
            line.set_data(steps, gap[:, k])
            marker.set_data(steps[-1:], gap[-1:, k])
        self._place()
        self.label.set_text(f"step {snapshot.epoch}")
        return [*self.lines, *self.markers, self.label, self.legend]
