"""The neural-network panels: the learned surface against the true saddle."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels.landscape import tidy_3d_axes
from mlviz.style import NEGATIVE, POSITIVE


class SurfacePanel(Panel):
    """The true surface (red, fixed) and the network's predictions on the same grid (blue).

    Reads the field ``predictions`` (dims × dims) and the trace ``prediction_range``
    (lowest and highest prediction of every epoch) for the z axis.
    """

    name = "nn-surface"
    projection = "3d"
    fields = ("predictions",)
    traces = ("prediction_range",)

    def setup(self, ax, run) -> None:
        from matplotlib.patches import Patch

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
        ax.set_xlabel("x", labelpad=-4)
        ax.set_ylabel("y", labelpad=-4)
        tidy_3d_axes(ax)
        ax.view_init(20, -35)
        ax.set_box_aspect(None, zoom=0.9)
        ax.set_title("Function approximation z(x, y)")
        ax.plot_surface(self.gx, self.gy, truth, color=POSITIVE, alpha=0.35, linewidth=0,
                        rstride=1, cstride=1, shade=True, zorder=1)
        ax.plot_wireframe(self.gx, self.gy, truth, color=POSITIVE, linewidth=0.5, alpha=0.6,
                          rstride=1, cstride=1, zorder=1)
        ax.legend(handles=[Patch(color=POSITIVE, alpha=0.6, label="true  z = y² − x²"),
                           Patch(color=NEGATIVE, alpha=0.8, label="network")],
                  loc="upper left", bbox_to_anchor=(0.0, 1.0), fontsize=8)
        self.surface = None

    def update(self, snapshot):
        if self.surface is not None:
            self.surface.remove()
        self.surface = self.ax.plot_surface(
            self.gx, self.gy, snapshot.predictions, color=NEGATIVE, alpha=0.55,
            edgecolor=(1, 1, 1, 0.35), linewidth=0.3, rstride=1, cstride=1, zorder=2)
        return [self.surface]
