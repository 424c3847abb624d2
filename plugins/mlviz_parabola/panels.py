"""Parabola panels: both fits on the training range, their extrapolation, and their losses."""

from __future__ import annotations

import numpy as np

from mlviz import Panel

from .trainer import NETS, prediction_grid

#: Each network's categorical colour (and line style) in the theme, in the order of
#: :data:`NETS`: the sigmoid net orange and dashed, the ReLU net blue and solid.
STYLE_INDEX = {"sigmoid": 1, "relu": 0}
TRUTH_STYLE = (0, (1, 1.6))  # the true parabola: dotted (the networks are solid, dashed)
#: Room beside the data, as a fraction of the x range on each side: the points at
#: ±train_range must be drawn whole, not cut in half by the axis edge.
X_MARGIN = 0.06


def net_style(theme, name: str) -> dict:
    """The colour and line style of network ``name``."""
    index = STYLE_INDEX[name]
    return {"color": theme.color(index), "linestyle": theme.linestyle(index)}


def net_labels(config) -> dict[str, str]:
    return {
        "sigmoid": f"sigmoid 1-{config.sigmoid_units}-1",
        "relu": f"ReLU 1-{config.relu_units}-{config.relu_units}-1",
    }


class _CurvesPanel(Panel):
    """Both networks' curves over ``[−half_width, half_width]`` with the data and y = x².

    The y limits hold every curve of the run (the ``extent`` trace: row ``extent_row``),
    clipped to a margin around the parabola for networks that wander far early on.
    """

    fields = ("curves",)
    traces = ("extent",)
    shade_training_range = False
    extent_row = 0  # of the snapshots' extent: 0 the training range, 1 the whole grid

    def _half_width(self, config) -> float:
        raise NotImplementedError

    def setup(self, ax, run) -> None:
        theme = self.theme
        config = run.config
        half = self._half_width(config)
        grid = prediction_grid(config)
        self.visible = np.abs(grid) <= half + 1e-9
        self.x = grid[self.visible]
        x_data, y_data = run.dataset.X[:, 0], np.asarray(run.dataset.y, dtype=float)
        truth = self.x**2
        extent = run.trace("extent")[:, self.extent_row].ravel()
        values = np.concatenate([extent[np.isfinite(extent)], truth, y_data])
        # The networks may wander far early on; keep the parabola and the data in full view.
        lo = max(float(values.min()), -0.35 * float(truth.max()))
        hi = min(float(values.max()), 1.35 * float(truth.max()))
        pad = 0.05 * (hi - lo)
        ax.set_xlim(-half * (1 + 2 * X_MARGIN), half * (1 + 2 * X_MARGIN))
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.grid(True)
        if self.shade_training_range:
            ax.axvspan(-config.train_range, config.train_range, color=theme.faint, alpha=0.5,
                       linewidth=0, zorder=0, label="training range")
        ax.plot(self.x, truth, linestyle=TRUTH_STYLE, color=theme.muted, linewidth=1.6,
                zorder=1, label="y = x²")
        self.dots = ax.scatter(x_data, y_data, s=22, color=theme.ink, zorder=4,
                               label="training data")
        labels = net_labels(config)
        self.lines = [
            ax.plot([], [], linewidth=2.2, zorder=3, label=labels[name],
                    **net_style(theme, name))[0]
            for name in NETS
        ]
        ax.legend(loc="upper center", ncol=2, fontsize=theme.fontsize(7.5), handlelength=2.2,
                  columnspacing=1.0)
        self.ax = ax

    def update(self, snapshot):
        for line, curve in zip(self.lines, snapshot.curves):
            line.set_data(self.x, curve[self.visible])
        return [*self.lines, self.dots]  # the data stay drawn above the curves


class ParabolaFitPanel(_CurvesPanel):
    """The two fits on the training range, against the data."""

    name = "parabola-fit"

    def _half_width(self, config) -> float:
        return config.train_range

    def setup(self, ax, run) -> None:
        super().setup(ax, run)
        ax.set_title("Fit on the training range")


class ParabolaExtrapolationPanel(_CurvesPanel):
    """The two fits far beyond the data: sigmoids flatten out, ReLUs continue as lines."""

    name = "parabola-extrapolation"
    shade_training_range = True
    extent_row = 1

    def _half_width(self, config) -> float:
        return config.view_range

    def setup(self, ax, run) -> None:
        super().setup(ax, run)
        ax.set_title("Extrapolation beyond the data")
        # why each net guesses what it guesses outside the data (true at every epoch: it
        # is the shape of their activations), in the empty middle of the panel
        ax.text(0.5, 0.7, EXTRAPOLATION_WHY, transform=ax.transAxes, ha="center",
                va="center", multialignment="left", fontsize=self.theme.fontsize(7.5),
                color=self.theme.text, zorder=6,
                bbox=dict(boxstyle="round,pad=0.35", facecolor=self.theme.background,
                          edgecolor=self.theme.faint, alpha=0.9))


#: What each network does outside the data, and why.
EXTRAPOLATION_WHY = ("Outside the data nothing pins the fits down:\n"
                     "ReLU net: straight lines (it is piecewise linear)\n"
                     "sigmoid net: flat (its sigmoids saturate)")


class ParabolaLossPanel(Panel):
    """Both networks' training MSE per epoch, on a log scale."""

    name = "parabola-loss"
    fields = ("mse",)
    traces = ("mse",)

    def setup(self, ax, run) -> None:
        theme = self.theme
        self.run = run
        history = run.trace("mse")
        finite = history[np.isfinite(history) & (history > 0)]
        ax.set_title("Training loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean squared error")
        ax.set_yscale("log")
        ax.grid(True)
        last = max(int(run.epochs[-1]), 1)
        ax.set_xlim(-0.02 * last, 1.02 * last)
        if finite.size:
            ax.set_ylim(finite.min() / 2.0, finite.max() * 2.0)
        labels = net_labels(run.config)
        self.lines, self.markers = [], []
        for name in NETS:
            style = net_style(theme, name)
            self.lines.append(ax.plot([], [], label=labels[name], **style)[0])
            self.markers.append(ax.plot([], [], "o", color=style["color"], markersize=5)[0])
        ax.legend(loc="lower left", fontsize=theme.fontsize(7.5), handlelength=2.2)
        self.label = ax.text(0.97, 0.97, "", transform=ax.transAxes, ha="right", va="top",
                             fontsize=theme.fontsize(8), family="DejaVu Sans Mono")

    def update(self, snapshot):
        epochs, history = self.run.history("mse", until=snapshot.epoch)
        for k, (line, marker) in enumerate(zip(self.lines, self.markers)):
            line.set_data(epochs, history[:, k])
            marker.set_data([snapshot.epoch], [snapshot.mse[k]])
        self.label.set_text(
            f"epoch {snapshot.epoch}\n"
            + "\n".join(f"{name:<7} {mse:9.3g}" for name, mse in zip(NETS, snapshot.mse))
        )
        return [*self.lines, *self.markers, self.label]
