"""Panels of nn-regression: the fit and its extrapolation, the loss, the ten parameters."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels import LossCurvePanel
from mlviz.style import CATEGORICAL

from .model import HIDDEN, predict, split
from .trainer import truth

ADAM = CATEGORICAL[0]
LSQ = CATEGORICAL[1]
DATA = "#222222"
TRUTH = "#888888"
LINTHRESH = 10  # epochs: linear up to here, logarithmic beyond
LSQ_ROOM = 2.2  # the parameter panel's x axis ends this factor after the last epoch
LIMIT_POINTS = 64  # x values at which every epoch's curve is evaluated for the y limits


def curve_range(thetas: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """The lowest and highest finite value of the networks ``thetas`` (one per row) on ``x``."""
    p = split(thetas.T)  # each part: one column per network
    lo, hi = np.inf, -np.inf
    for point in x:  # one x at a time: memory stays one value per network
        values = (p["w1"] * np.tanh(point * p["w0"] + p["b0"])).sum(axis=0) + p["b1"][0]
        values = values[np.isfinite(values)]
        if values.size:
            lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
    return lo, hi


def set_epoch_axis(ax, last: int, room: float = 1.25) -> None:
    """A symmetric-log epoch axis: the dense early frames spread out, the long tail shrinks."""
    ax.set_xscale("symlog", linthresh=LINTHRESH, linscale=0.6)
    ax.set_xlim(0, max(last, LINTHRESH) * room)


class FitPanel(Panel):
    """The data, the true curve over a wider range, Adam's network and the least-squares fit.

    The fitted region is shaded: inside it both models match the data; beyond it neither
    knows that the curve keeps rising like x^(1/3).
    """

    name = "nnreg-fit"
    fields = ("theta", "lsq_theta", "lsq_loss")
    traces = ("theta",)

    def setup(self, ax, run) -> None:
        config = run.config
        self.xs = np.linspace(0.0, config.view_max, 400)
        final = run.snapshots[-1]
        # y limits: the truth, least squares, and Adam's curve at every epoch of the run
        adam = curve_range(run.trace("theta"), np.linspace(0.0, config.view_max, LIMIT_POINTS))
        curves = [truth(self.xs), predict(final.theta, self.xs), np.array(adam)]
        if final.lsq_theta is not None:
            curves.append(predict(final.lsq_theta, self.xs))
        values = np.concatenate(curves)
        values = values[np.isfinite(values)]
        lo, hi = min(0.0, float(values.min())), float(values.max())
        pad = 0.08 * (hi - lo)
        ax.set_xlim(0.0, config.view_max)
        ax.set_ylim(lo - pad, hi + 2.5 * pad)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.axvspan(0.0, config.fit_max, color="#999999", alpha=0.16, lw=0, zorder=0)
        top = hi + 1.6 * pad
        label = {"va": "center", "fontsize": 8.5, "color": "#555555"}
        if config.fit_max >= 0.25 * config.view_max:
            ax.text(config.fit_max / 2, top, "fitted region", ha="center", **label)
        else:  # too narrow to hold its label: point at it from the right
            ax.text(config.fit_max * 1.1, top, "◂ fitted region", ha="left", **label)
        ax.text((config.fit_max + 3 * config.view_max) / 4, top, "extrapolation", ha="center",
                **label)
        ax.plot(self.xs, truth(self.xs), "--", color=TRUTH, lw=1.2, label="true y = x$^{1/3}$",
                zorder=1)
        (self.data,) = ax.plot(run.dataset.X[:, 0], run.dataset.y, "o", color=DATA, ms=2.6,
                               label="training data", zorder=5)
        if final.lsq_theta is not None:
            ax.plot(self.xs, predict(final.lsq_theta, self.xs), color=LSQ, lw=1.8,
                    label=f"least squares (MSE {final.lsq_loss:.1e})", zorder=3)
        (self.line,) = ax.plot([], [], color=ADAM, lw=2.2, label="network trained by Adam",
                               zorder=4)
        ax.legend(loc="lower right")
        self.caption = ax.set_title(" ")

    def update(self, snapshot):
        self.line.set_data(self.xs, predict(snapshot.theta, self.xs))
        self.caption.set_text(f"Adam, epoch {snapshot.epoch}: MSE {snapshot.loss:.2e}")
        return [self.line, self.data, self.caption]  # the data stay on top of the line


class NNRegLossPanel(LossCurvePanel):
    """Adam's MSE per epoch (log-log), with the stopping threshold and least squares' MSE.

    Both horizontal references are dotted/dashed lines: the run stops below the first; the
    second is what the least-squares fit of the same model reaches.
    """

    name = "nnreg-loss"

    def __init__(self) -> None:
        super().__init__(ylabel="MSE", title="Training loss (log scales)", log=True)

    def requires(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ("lsq_theta", "lsq_loss"), ("loss",)

    def setup(self, ax, run) -> None:
        super().setup(ax, run)
        set_epoch_axis(ax, int(run.epochs[-1]))
        ax.set_xlabel("epoch (log after 10)")  # the readout keeps saying just "epoch"
        final = run.snapshots[-1]
        refs = []
        if run.config.tol > 0:
            refs.append(run.config.tol)
            ax.axhline(run.config.tol, color="#555555", ls=":", lw=1.2,
                       label=f"stop below {run.config.tol:g}")
        if final.lsq_theta is not None and final.lsq_loss > 0:
            refs.append(final.lsq_loss)
            ax.axhline(final.lsq_loss, color=LSQ, ls="--", lw=1.4, label="least squares")
        if refs:
            lo, hi = ax.get_ylim()
            ax.set_ylim(min(lo, min(refs) / 2), hi)
            ax.legend(loc="center left")


class ParamsPanel(Panel):
    """The ten parameters of Adam's network over the epochs, with least squares' at the right.

    Both axes are symmetric-log. One colour per hidden neuron, one line style per kind of
    parameter; the least-squares parameters are the diamonds at the right edge. The curves
    follow the ``theta`` trace: every epoch, however sparse the frames.
    """

    name = "nnreg-params"
    fields = ("lsq_theta",)
    traces = ("theta",)

    STYLES = ("-", "--", ":")  # input weight, hidden bias, output weight

    def setup(self, ax, run) -> None:
        from matplotlib.lines import Line2D

        self.run = run
        thetas = run.trace("theta")
        final = run.snapshots[-1]
        last = max(int(run.epochs[-1]), 1)
        values = [thetas[np.isfinite(thetas)]]
        if final.lsq_theta is not None:
            values.append(final.lsq_theta[None, :])
        biggest = max(1.0, *(float(np.abs(v).max()) for v in values))
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(-biggest * 2, biggest * 2)
        set_epoch_axis(ax, last, room=LSQ_ROOM if final.lsq_theta is not None else 1.25)
        ax.set_xlabel("epoch (log after 10)")
        ax.set_ylabel("parameter value (symlog)")
        ax.set_title("The 10 parameters")
        ax.axhline(0.0, color="#bbbbbb", lw=0.8, zorder=0)
        ax.grid(True, axis="y")
        self.lines = []
        for k in range(thetas.shape[1]):
            color, style = self._look(k)
            (line,) = ax.plot([], [], color=color, ls=style, lw=2.4 if color == "black" else 1.5)
            self.lines.append(line)
        if final.lsq_theta is not None:
            x_lsq = last * LSQ_ROOM ** 0.6
            for k, value in enumerate(final.lsq_theta):
                color, _ = self._look(k)
                ax.plot([x_lsq], [value], "D", color=color, ms=5, mec="black", mew=0.5)
            ax.axvline(last * LSQ_ROOM ** 0.25, color="#bbbbbb", lw=0.8)
        handles = [Line2D([], [], color=CATEGORICAL[j], lw=2, label=f"neuron {j + 1}")
                   for j in range(HIDDEN)]
        handles += [Line2D([], [], color="#333333", ls=s, lw=1.5, label=n)
                    for s, n in zip(self.STYLES, ("w in", "bias", "w out"))]
        handles.append(Line2D([], [], color="black", lw=2.4, label="output bias"))
        if final.lsq_theta is not None:
            handles.append(Line2D([], [], ls="", marker="D", color="#cccccc", mec="black",
                                  label="least squares"))
        ax.legend(handles=handles, loc="upper left", ncol=2, fontsize=7, handlelength=2.2,
                  columnspacing=0.8, labelspacing=0.25)

    @staticmethod
    def _look(k: int) -> tuple[str, str]:
        """Colour and line style of parameter ``k`` of ``[w0, b0, w1, b1]``."""
        if k == 3 * HIDDEN:
            return "black", "-"
        kind, neuron = divmod(k, HIDDEN)
        return CATEGORICAL[neuron], ParamsPanel.STYLES[kind]

    def update(self, snapshot):
        epochs, thetas = self.run.history("theta", until=snapshot.epoch)
        for k, line in enumerate(self.lines):
            line.set_data(epochs, thetas[:, k])
        return list(self.lines)
