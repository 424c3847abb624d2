"""The neural-network panels: the learned surface against the true saddle."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels.landscape import tidy_3d_axes

#: Tick labels this many points out from the box (tidy_3d_axes pulls them in to −2).
TICK_PAD = 2.0
LABEL_PAD = 1.0  # and the axis names clear of them
NETWORK_GRID_ALPHA = 0.35  # the network surface's grid lines (halo colour), opacity


def surface_colors(theme) -> tuple[str, str]:
    """(true, network): two categorical colours; the true surface is also a wireframe, the
    network's a filled surface, so the two differ by more than colour."""
    return theme.color(1), theme.color(0)


class SurfacePanel(Panel):
    """The true surface (a fixed wireframe) and the network's predictions on the same grid
    (a filled surface).

    Reads the field ``predictions`` (dims × dims) and the trace ``prediction_range``
    (lowest and highest prediction of every epoch) for the z axis.
    """

    name = "nn-surface"
    projection = "3d"
    fields = ("predictions",)
    traces = ("prediction_range",)

    def setup(self, ax, run) -> None:
        from matplotlib.colors import to_rgba
        from matplotlib.patches import Patch

        theme = self.theme
        true_color, self.network_color = surface_colors(theme)
        self.grid_color = to_rgba(theme.halo, NETWORK_GRID_ALPHA)
        self.ax = ax
        dims = run.config.dims
        points = run.dataset.X
        self.gx = points[:, 0].reshape(dims, dims)
        self.gy = points[:, 1].reshape(dims, dims)
        truth = np.asarray(run.dataset.y, float).reshape(dims, dims)
        reach = run.trace("prediction_range")
        reach = reach[np.isfinite(reach)]  # a diverging run draws what it can
        low = min(truth.min(), reach.min(initial=truth.min()))
        high = max(truth.max(), reach.max(initial=truth.max()))
        pad = 0.05 * (high - low or 1.0)
        ax.set_xlim(self.gx.min(), self.gx.max())
        ax.set_ylim(self.gy.min(), self.gy.max())
        ax.set_zlim(low - pad, high + pad)
        ax.set_xlabel("x", labelpad=LABEL_PAD)
        ax.set_ylabel("y", labelpad=LABEL_PAD)
        tidy_3d_axes(ax)
        ax.tick_params(pad=TICK_PAD)  # the labels x = 1 and y = −1 meet at a corner
        ax.view_init(20, -35)
        ax.set_box_aspect(None, zoom=0.9)
        ax.set_title("Function approximation z(x, y)")
        ax.plot_surface(self.gx, self.gy, truth, color=true_color, alpha=0.35, linewidth=0,
                        rstride=1, cstride=1, shade=True, zorder=1)
        ax.plot_wireframe(self.gx, self.gy, truth, color=true_color, linewidth=0.5, alpha=0.6,
                          rstride=1, cstride=1, zorder=1)
        ax.legend(handles=[Patch(facecolor=to_rgba(true_color, 0.35), edgecolor=true_color,
                                 hatch="++", label="true  z = y² − x²  (wireframe)"),
                           Patch(facecolor=to_rgba(self.network_color, 0.8),
                                 edgecolor=self.grid_color, label="network")],
                  loc="upper left", bbox_to_anchor=(0.0, 1.0), fontsize=theme.fontsize(8))
        self.surface = None

    def update(self, snapshot):
        if self.surface is not None:
            self.surface.remove()
        self.surface = self.ax.plot_surface(
            self.gx, self.gy, snapshot.predictions, color=self.network_color, alpha=0.55,
            edgecolor=self.grid_color, linewidth=0.3, rstride=1, cstride=1, zorder=2)
        return [self.surface]
