"""Panels of nn-regression: the fit and its extrapolation, the loss, the ten parameters.

Colours come from ``self.theme``: Adam is ``theme.color(0)`` drawn solid, least squares
``theme.color(1)`` dashed (``theme.linestyle(1)``), the truth ``theme.muted`` dotted, the
data ``theme.ink``. In the parameter panel each hidden neuron has its colour and its
marker (``theme.marker(j)``), each kind of parameter its line style. Readouts and
legends go where no curve of the run passes, on whatever scale the axis has
(:func:`mlviz.panels.placement.free_place`).
"""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels import LossCurvePanel
from mlviz.panels.placement import (
    box_at,
    filled,
    first_free,
    free_place,
    in_axes,
    legend_box,
    legend_loc,
    text_box,
)

from .model import HIDDEN, extrapolation_note, predict, split
from .trainer import truth

ADAM, LSQ = 0, 1  # the theme's categorical index of each fit
LINTHRESH = 10  # epochs: linear up to here, logarithmic beyond
LSQ_ROOM = 2.2  # the parameter panel's x axis ends this factor after the last epoch
LIMIT_POINTS = 64  # x values at which every epoch's curve is evaluated for the y limits
#: Epochs (before each neuron's shift) at which the parameter curves carry their marker.
MARK_EPOCHS = np.array([3, 7, 20, 50, 130, 350, 900, 2400, 6500, 17000, 45000, 120000,
                        320000, 860000])


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
        theme = self.theme
        config = run.config
        self.xs = np.linspace(0.0, config.view_max, 400)
        final = run.snapshots[-1]
        # y limits: the truth, least squares, and Adam's curve at every epoch of the run
        thetas = run.trace("theta")
        adam = curve_range(thetas, np.linspace(0.0, config.view_max, LIMIT_POINTS))
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
        ax.axvspan(0.0, config.fit_max, color=theme.faint, alpha=0.4, lw=0, zorder=0)
        # the names of the regions along the top (x in data, y in axes fractions)
        label = {"va": "center", "fontsize": theme.fontsize(8.5), "color": theme.muted,
                 "transform": ax.get_xaxis_transform()}
        top = 1.0 - 1.1 * pad / (hi + 3.5 * pad - lo)
        if config.fit_max >= 0.25 * config.view_max:
            ax.text(config.fit_max / 2, top, "fitted region", ha="center", **label)
        else:  # too narrow to hold its label: point at it from the right
            ax.text(config.fit_max * 1.1, top, "◂ fitted region", ha="left", **label)
        ax.text((config.fit_max + 3 * config.view_max) / 4, top, "extrapolation", ha="center",
                **label)
        ax.plot(self.xs, truth(self.xs), color=theme.muted, linestyle=theme.linestyle(3),
                lw=1.5, label="true y = x$^{1/3}$", zorder=1)
        (self.data,) = ax.plot(run.dataset.X[:, 0], run.dataset.y, linestyle="none",
                               marker="o", color=theme.ink, ms=2.6, label="training data",
                               zorder=5)
        drawn = [(self.xs, truth(self.xs)), (run.dataset.X[:, 0], run.dataset.y)]
        if final.lsq_theta is not None:
            lsq = predict(final.lsq_theta, self.xs)
            ax.plot(self.xs, lsq, color=theme.color(LSQ), linestyle=theme.linestyle(LSQ),
                    lw=1.8, label=f"least squares (MSE {final.lsq_loss:.1e})", zorder=3)
            drawn.append((self.xs, lsq))
        (self.line,) = ax.plot([], [], color=theme.color(ADAM), linestyle=theme.linestyle(ADAM),
                               lw=2.2, label="network trained by Adam", zorder=4)
        sparse = np.linspace(0.0, config.view_max, 60)
        for theta in thetas[np.unique(np.linspace(0, len(thetas) - 1, 80).astype(int))]:
            drawn.append((sparse, predict(theta, sparse)))
        self._place_legend(ax, drawn, 1.0 - 2.2 * (1.0 - top))
        # why the fits go where they go outside the data, in the corner no curve reaches
        self.lsq_theta = final.lsq_theta
        self.fit_max, self.view_max = config.fit_max, config.view_max
        self.note = ax.text(0.985, 0.03, "", transform=ax.transAxes, ha="right", va="bottom",
                            multialignment="left",
                            fontsize=theme.fontsize(7.5), color=theme.text, zorder=6,
                            bbox=dict(boxstyle="round,pad=0.3", facecolor=theme.background,
                                      edgecolor=theme.faint, alpha=0.9))

    def _place_legend(self, ax, drawn: list, below: float) -> None:
        """The legend where no curve passes, Adam's at any epoch included, under the names
        of the regions (axes fraction ``below``). Where no corner is free, the y axis grows
        upwards until the upper left or right one is."""
        legend = ax.legend()
        box = legend_box(ax, legend)
        places = [(0.03, below, "left", "top"), (0.97, below, "right", "top"),
                  (0.97, 0.03, "right", "bottom"), (0.03, 0.03, "left", "bottom"),
                  (0.97, 0.5, "right", "center"), (0.5, 0.03, "center", "bottom")]
        occupied = np.concatenate([in_axes(ax, x, y, 200) for x, y in drawn])
        place = first_free(occupied, box, places)
        if place is None:  # no corner is free: raise the top over the lower of the two upper
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            xs = np.concatenate([np.asarray(x, float) for x, _ in drawn])
            ys = np.concatenate([np.asarray(y, float) for _, y in drawn])
            room = below - box[1] - 0.02  # the curves must stay under this fraction
            tops = []
            for place in places[:2]:
                left = box_at(place, box)[0]
                under = (xs >= x0 + left * (x1 - x0)) & (xs <= x0 + (left + box[0]) * (x1 - x0))
                highest = float(np.nanmax(ys[under])) if under.any() else y0
                tops.append((y0 + (highest - y0) / max(room, 0.05), place))
            new_top, place = min(tops)
            ax.set_ylim(y0, max(y1, new_top))
        legend.set_loc(legend_loc(place))
        legend.set_bbox_to_anchor((place[0], place[1]), transform=ax.transAxes)
        legend.borderaxespad = 0.0
        self.caption = ax.set_title(" ")

    def update(self, snapshot):
        self.line.set_data(self.xs, predict(snapshot.theta, self.xs))
        self.caption.set_text(f"Adam, epoch {snapshot.epoch}: MSE {snapshot.loss:.2e}")
        self.note.set_text(extrapolation_note(snapshot.theta, self.lsq_theta, self.fit_max,
                                              self.view_max))
        # the data stay on top of the line
        return [self.line, self.data, self.caption, self.note]


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
        theme = self.theme
        set_epoch_axis(ax, int(run.epochs[-1]))
        ax.set_xlabel("epoch (log after 10)")  # the readout keeps saying just "epoch"
        ax.set_title("", loc="left")  # the base class's place for the title, were none free
        ax.set_title(self.title)
        final = run.snapshots[-1]
        refs = []  # (value, label, colour)
        if run.config.tol > 0:
            refs.append((run.config.tol, f"stop below {run.config.tol:g}", theme.muted))
            ax.axhline(run.config.tol, color=theme.muted, linestyle=theme.linestyle(3), lw=1.2,
                       label=refs[-1][1])
        if final.lsq_theta is not None and final.lsq_loss > 0:
            refs.append((final.lsq_loss, "least squares", theme.color(LSQ)))
            ax.axhline(final.lsq_loss, color=theme.color(LSQ), linestyle=theme.linestyle(LSQ),
                       lw=1.4, label=refs[-1][1])
        if refs:
            lo, hi = ax.get_ylim()
            ax.set_ylim(min(lo, min(value for value, _, _ in refs) / 2), hi)
        self._place(ax, run, refs)

    def _place(self, ax, run, refs: list[tuple[float, str, str]]) -> None:
        """The readout where neither the whole loss curve nor a reference line passes, on
        the axes as they are now (symlog epochs, log loss: the base class placed it before
        the epoch axis became symlog); then each reference line's name on it, at an end
        of it where neither the curve nor the readout is."""
        theme = self.theme
        epochs, losses = run.history("loss")
        losses = np.where(np.asarray(losses, float) > 0, losses, np.nan)
        x0, x1 = ax.get_xlim()
        parts = [in_axes(ax, epochs, losses, 2000)]
        parts += [in_axes(ax, [x0, x1], [value, value]) for value, _, _ in refs]
        occupied = np.concatenate(parts)
        last = int(epochs[-1])
        widest = f"{self.xlabel} {last}\n{self.label} {-1.23456789e-100:{self.fmt}}"
        box = text_box(ax, [widest], theme.fontsize(9), family="DejaVu Sans Mono")
        place = free_place(occupied, box)
        x, y, ha, va = place
        self.readout.set_position((x, y))
        self.readout.set_horizontalalignment(ha)  # type: ignore[arg-type]
        self.readout.set_verticalalignment(va)  # type: ignore[arg-type]
        occupied = np.concatenate([occupied, filled(*box_at(place, box))])
        to_axes = ax.transScale + ax.transLimits
        for value, name, colour in refs:
            level = float(to_axes.transform([[x0, value]])[0, 1])
            size = text_box(ax, [name], theme.fontsize(8.5), pad=4)
            gap = 3.0 / max(ax.get_position().height * ax.figure.bbox.height, 1.0)
            spots = [(0.02, level + gap, "left", "bottom"), (0.98, level + gap, "right", "bottom"),
                     (0.02, level - gap, "left", "top"), (0.98, level - gap, "right", "top")]
            spot = free_place(occupied, size, spots)
            x, _, ha, va = spot
            ax.annotate(name, (x, value), xycoords=ax.get_yaxis_transform(),
                        xytext=(0, 3 if va == "bottom" else -3), textcoords="offset points",
                        ha=ha, va=va, color=colour, fontsize=theme.fontsize(8.5), zorder=4)
            occupied = np.concatenate([occupied, filled(*box_at(spot, size))])


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

        theme = self.theme
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
        ax.axhline(0.0, color=theme.faint, lw=0.8, zorder=0)
        ax.grid(True, axis="y")
        self.lines = []
        for k in range(thetas.shape[1]):
            look = self._look(k)
            (line,) = ax.plot([], [], color=look["color"], linestyle=look["linestyle"],
                              lw=look["lw"], marker=look["marker"], ms=4,
                              mec=theme.edge, mew=0.3)
            self.lines.append(line)
        # markers at a few fixed epochs, spread evenly on the symlog axis and shifted a
        # little for each neuron (however much a curve wiggles, a few markers a curve)
        epochs = run.trace("epoch")
        self.marks = []
        for k in range(thetas.shape[1]):
            shift = 1.35 ** (k % HIDDEN if k < 3 * HIDDEN else HIDDEN)
            wanted = np.unique(np.round(MARK_EPOCHS * shift)).astype(int)
            self.marks.append(np.unique(np.searchsorted(epochs, wanted[wanted <= last])))
        if final.lsq_theta is not None:
            x_lsq = last * LSQ_ROOM ** 0.6
            for k, value in enumerate(final.lsq_theta):
                look = self._look(k)
                ax.plot([x_lsq], [value], linestyle="none", marker=look["marker"],
                        color=look["color"], ms=6, mec=theme.edge, mew=0.5)
            ax.axvline(last * LSQ_ROOM ** 0.25, color=theme.faint, lw=0.8)
        handles = [Line2D([], [], color=theme.color(j), marker=theme.marker(j), ms=4,
                          mec=theme.edge, mew=0.3, lw=2, label=f"neuron {j + 1}")
                   for j in range(HIDDEN)]
        output = self._look(3 * HIDDEN)
        handles.append(Line2D([], [], color=output["color"], lw=output["lw"],
                              marker=output["marker"], ms=4, mec=theme.edge, mew=0.3,
                              label="output bias"))
        ax.legend(handles=handles, loc="upper left", ncol=2, fontsize=theme.fontsize(7),
                  handlelength=1.6, columnspacing=0.8, labelspacing=0.25)
        key = "line: — input weight, -- bias, ··· output weight"
        if final.lsq_theta is not None:
            key += "\nmarkers at the right: least squares"
        ax.text(0.02, 0.02, key, transform=ax.transAxes, ha="left", va="bottom",
                fontsize=theme.fontsize(7), color=theme.muted)

    def _look(self, k: int) -> dict:
        """Colour, marker, line style and width of parameter ``k`` of ``[w0, b0, w1, b1]``:
        the colour and the marker say which neuron, the line style which kind."""
        theme = self.theme
        if k == 3 * HIDDEN:
            return {"color": theme.ink, "marker": theme.marker(HIDDEN), "linestyle": "-",
                    "lw": 2.4}
        kind, neuron = divmod(k, HIDDEN)
        return {"color": theme.color(neuron), "marker": theme.marker(neuron),
                "linestyle": ParamsPanel.STYLES[kind], "lw": 1.5}

    def update(self, snapshot):
        epochs, thetas = self.run.history("theta", until=snapshot.epoch)
        for k, line in enumerate(self.lines):
            line.set_data(epochs, thetas[:, k])
            line.set_markevery(list(self.marks[k][self.marks[k] < len(epochs)]))
        return list(self.lines)
