"""The panels of ``gaussian-mixture``, as mlviz 0.1's docs taught."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels import LossCurvePanel
from mlviz.style import CATEGORICAL


def component_colors(n: int):
    if n > len(CATEGORICAL):
        raise ValueError(f"at most {len(CATEGORICAL)} components can be coloured, got {n}")
    return list(CATEGORICAL[:n])


class MixturePanel(Panel):
    """The points, coloured by their most likely component, and each component's ellipse."""

    name = "gmm-mixture"

    def setup(self, ax, run) -> None:
        from matplotlib.patches import Ellipse

        X = run.dataset.X
        self.colors = np.array(component_colors(run.config.n_components))
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.08 * (hi - lo)
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
        ax.set_aspect("equal", adjustable="box")
        ax.set_title("Gaussian mixture")
        self.points = ax.scatter(X[:, 0], X[:, 1], s=12, c=self.colors[np.zeros(len(X), int)])
        self.ellipses = [ax.add_patch(Ellipse((0, 0), 1, 1, fill=False, lw=2, color=c))
                         for c in self.colors]
        self.caption = ax.text(0.02, 0.02, "", transform=ax.transAxes, fontsize=9,
                               bbox=dict(facecolor="white", edgecolor="none", alpha=0.9))

    def update(self, snapshot):
        self.points.set_color(self.colors[snapshot.labels])
        for ellipse, mean, cov in zip(self.ellipses, snapshot.means, snapshot.covariances):
            values, vectors = np.linalg.eigh(cov)
            ellipse.set_center(mean)
            ellipse.width, ellipse.height = 4 * np.sqrt(values[::-1])
            ellipse.angle = np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1]))
        self.caption.set_text(f"EM step {snapshot.epoch}")
        return [self.points, *self.ellipses, self.caption]


class LikelihoodPanel(LossCurvePanel):
    """The loss curve, its readout moved to the middle right (clear of a falling curve)."""

    name = "gmm-likelihood"

    def __init__(self) -> None:
        super().__init__(ylabel="negative log-likelihood", title="Fit")

    def setup(self, ax, run) -> None:
        super().setup(ax, run)
        self.label.set_position((0.97, 0.6))
