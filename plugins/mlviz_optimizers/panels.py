"""Race panels: the paths over the contours, over the 3D surface, and f − f_min per step."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.style import CATEGORICAL

from .surfaces import OPTIMIZERS

COLORS = CATEGORICAL[:4]  # one per optimizer, in the order of OPTIMIZERS
GAP_FLOOR = 1e-8  # the loss axis stops here (f − f_min can reach 0 exactly)


def backdrop_cmap():
    """Pale greys (white in the valleys), so the coloured paths stand out."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    return ListedColormap(colormaps["Greys"](np.linspace(0.0, 0.5, 256)))


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
    """Contours of the surface (log-spaced levels) with every optimizer's path so far."""

    name = "optimizers-contour"
    fields = ("positions",)
    traces = ("positions",)

    def setup(self, ax, run) -> None:
        config = run.config
        spec = config.spec
        self.run = run
        X, Y, gap = _grid(spec, 240)
        levels = _log_levels(gap, 16)
        from matplotlib.colors import BoundaryNorm

        norm = BoundaryNorm(levels, 256)
        ax.contourf(X, Y, gap, levels=levels, cmap=backdrop_cmap(), norm=norm, zorder=0)
        ax.contour(X, Y, gap, levels=levels, colors="#888888", linewidths=0.4, zorder=1)
        for i, (mx, my) in enumerate(spec.minima):
            ax.plot(mx, my, "*", color="white", markeredgecolor="black", markersize=13,
                    zorder=2, label="minimum" if i == 0 else None)
        for sx, sy in spec.saddles:
            ax.plot(sx, sy, "X", color="white", markeredgecolor="black", markersize=9,
                    zorder=2, label="saddle point")
        x0, y0 = config.start_point()
        ax.plot(x0, y0, "o", color="white", markeredgecolor="black", markersize=8, zorder=2,
                label="start")
        ax.set_xlim(*spec.xlim)
        ax.set_ylim(*spec.ylim)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"{spec.name.capitalize()}: {spec.formula}", fontsize=9.5)
        self.trails, self.heads = [], []
        for color, label in zip(COLORS, racer_labels(config)):
            self.trails.append(ax.plot([], [], color=color, linewidth=1.6, zorder=3,
                                       label=label)[0])
            self.heads.append(ax.plot([], [], "o", color=color, markeredgecolor="black",
                                      markersize=6.5, zorder=4)[0])
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7,
                  handlelength=1.4, columnspacing=0.8, labelspacing=0.3)

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
        spec = run.config.spec
        self.run = run
        self.f_min = spec.f_min
        X, Y, gap = _grid(spec, 70)
        Z = np.log10(1.0 + gap)
        # The paths are always drawn over the surface (also in a still figure): no depth sort.
        ax.computed_zorder = False
        ax.plot_surface(X, Y, Z, cmap=backdrop_cmap(), linewidth=0, antialiased=False,
                        rcount=70, ccount=70, zorder=1)
        ax.set_xlim(*spec.xlim)
        ax.set_ylim(*spec.ylim)
        ax.set_zlim(0.0, float(Z.max()))
        ax.set_xlabel("x", labelpad=-6)
        ax.set_ylabel("y", labelpad=-6)
        ax.tick_params(labelsize=7, pad=-2)
        ax.view_init(elev=40, azim=-120)
        ax.set_title("The paths on the surface\nheight: log₁₀(1 + f − f_min)", fontsize=10)
        self.trails, self.heads = [], []
        for color in COLORS:
            self.trails.append(ax.plot([], [], [], color=color, linewidth=1.8, zorder=3,
                                       axlim_clip=True)[0])
            self.heads.append(ax.plot([], [], [], "o", color=color, markeredgecolor="black",
                                      markersize=6, zorder=4, axlim_clip=True)[0])

    def update(self, snapshot):
        path = self.run.trace("positions", until=snapshot.epoch)
        values = self.run.trace("values", until=snapshot.epoch)
        height = np.log10(1.0 + np.maximum(values - self.f_min, 0.0))
        for k, (trail, head) in enumerate(zip(self.trails, self.heads)):
            trail.set_data_3d(path[:, k, 0], path[:, k, 1], height[:, k])
            head.set_data_3d(path[-1:, k, 0], path[-1:, k, 1], height[-1:, k])
        return [*self.trails, *self.heads]


class RaceLossPanel(Panel):
    """How far above the minimum each optimizer is, f − f_min, per step (log scale)."""

    name = "optimizers-loss"
    traces = ("values",)

    def setup(self, ax, run) -> None:
        spec = run.config.spec
        self.run = run
        self.f_min = spec.f_min
        gap = run.trace("values") - spec.f_min
        positive = gap[np.isfinite(gap) & (gap > 0)]
        ax.set_yscale("log", nonpositive="mask")
        if positive.size:
            ax.set_ylim(max(float(positive.min()), GAP_FLOOR) / 3.0, float(positive.max()) * 3.0)
        last = max(int(run.epochs[-1]), 1)
        ax.set_xlim(-0.02 * last, 1.02 * last)
        ax.set_xlabel("step")
        ax.set_ylabel(f"f − f_min   (f_min = {spec.f_min:g})")
        ax.set_title("Loss: f − f_min")
        ax.grid(True)
        self.lines, self.markers = [], []
        for color, (_, name) in zip(COLORS, OPTIMIZERS):
            self.lines.append(ax.plot([], [], color=color, linewidth=1.6, label=name)[0])
            self.markers.append(ax.plot([], [], "o", color=color, markersize=5)[0])
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7,
                  handlelength=1.4, columnspacing=0.8, labelspacing=0.3)
        self.label = ax.text(0.97, 0.97, "", transform=ax.transAxes, ha="right", va="top",
                             fontsize=8.5, family="DejaVu Sans Mono")

    def update(self, snapshot):
        steps, values = self.run.history("values", until=snapshot.epoch)
        gap = values - self.f_min
        for k, (line, marker) in enumerate(zip(self.lines, self.markers)):
            line.set_data(steps, gap[:, k])
            marker.set_data(steps[-1:], gap[-1:, k])
        self.label.set_text(f"step {snapshot.epoch}")
        return [*self.lines, *self.markers, self.label]
