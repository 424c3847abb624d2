"""Panels of weight-nudging: the data and the line, the error curve, the weight, the error."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.style import CATEGORICAL

from .trainer import GRADIENT, NUDGING, mse, tolerance_band

ACT_COLOR = {NUDGING: CATEGORICAL[1], GRADIENT: CATEGORICAL[0]}
TARGET = "#555555"


def act_title(act: int, config) -> str:
    """The caption that says which act is playing."""
    if act == NUDGING:
        return f"Act 1: nudging w by ±{config.nudge:g}"
    return f"Act 2: gradient descent (lr {config.lr:g}, momentum {config.momentum:g})"


def act_paths(run, until: int | None = None) -> dict[int, np.ndarray]:
    """Each act's weights step by step (from the traces), up to and including epoch ``until``."""
    weights, acts = run.trace("weight", until), run.trace("act", until)
    return {act: weights[acts == act] for act in (NUDGING, GRADIENT)}


def weight_range(run) -> tuple[float, float]:
    """Every weight of the run and the target, padded: the shared weight axis."""
    values = np.append(run.trace("weight"), run.config.target)
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    pad = 0.08 * (hi - lo) if hi > lo else 0.5
    return lo - pad, hi + pad


class DataLinePanel(Panel):
    """The data f(x) = 3x, the current line w·x and its residuals; the title names the act."""

    name = "nudging-data"
    fields = ("act", "step", "weight", "error")
    traces = ("weight",)

    def setup(self, ax, run) -> None:
        from matplotlib.collections import LineCollection

        self.config = run.config
        self.x = run.dataset.X[:, 0]
        self.y = np.asarray(run.dataset.y, dtype=float)
        x_hi = float(self.x.max()) * 1.08 + 0.3
        self.xs = np.array([0.0, x_hi])
        lo_w, hi_w = weight_range(run)
        ends = np.array([lo_w, hi_w, 0.0]) * x_hi
        span = ends.max() - ends.min()
        ax.set_xlim(0.0, x_hi)
        ax.set_ylim(ends.min() - 0.05 * span, ends.max() + 0.05 * span)
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        ax.plot(self.xs, self.config.target * self.xs, "--", color=TARGET, lw=1.2,
                label=f"target f(x) = {self.config.target:g}x", zorder=1)
        self.residuals = LineCollection([], colors="#d62728", linewidths=1.2, alpha=0.7,
                                        zorder=2)
        ax.add_collection(self.residuals)
        (self.data,) = ax.plot(self.x, self.y, "o", color="#222222", ms=5, label="data",
                               zorder=4)
        (self.line,) = ax.plot([], [], lw=2.2, zorder=3, label="model f(x) = w·x")
        ax.legend(loc="upper left")
        self.readout = ax.text(0.03, 0.64, "", transform=ax.transAxes, ha="left", va="top",
                               fontsize=9, family="DejaVu Sans Mono", zorder=5)
        self.caption = ax.set_title(" ")

    def update(self, snapshot):
        color = ACT_COLOR[snapshot.act]
        w = snapshot.weight
        self.line.set_data(self.xs, w * self.xs)
        self.line.set_color(color)
        self.residuals.set_segments(np.stack([np.column_stack([self.x, self.y]),
                                              np.column_stack([self.x, w * self.x])], axis=1))
        self.readout.set_text(f"step {snapshot.step}   w = {w:.3f}\n"
                              f"mean error = {snapshot.error:+.3f}")
        self.caption.set_text(act_title(snapshot.act, self.config))
        self.caption.set_color(color)
        return [self.residuals, self.line, self.data, self.readout, self.caption]


class ErrorCurvePanel(Panel):
    """The MSE as a function of w, the current weight on it, and where this step takes it.

    Act 2 also draws the tangent: the gradient, which sets the size of SGD's steps, while the
    nudges of act 1 are the same size wherever they start.
    """

    name = "nudging-error-curve"
    fields = ("act", "step", "weight", "next_weight", "error", "grad", "done")
    traces = ("weight", "act")

    def setup(self, ax, run) -> None:
        from matplotlib.patches import FancyArrowPatch

        self.run = run
        self.x = run.dataset.X[:, 0]
        self.y = np.asarray(run.dataset.y, dtype=float)
        lo, hi = weight_range(run)
        ws = np.linspace(lo, hi, 300)
        curve = mse(ws, self.x, self.y)
        self.half = 0.12 * (hi - lo)  # half-length of the tangent, in w
        self.tolerance = run.config.tolerance
        top = float(curve.max())
        ax.set_xlim(lo, hi)
        ax.set_ylim(-0.04 * top, top * 1.08)
        ax.set_xlabel("weight w")
        ax.set_ylabel("MSE")
        ax.set_title("The error curve")
        ax.plot(ws, curve, color="#777777", lw=1.5, zorder=1)
        ax.axvline(run.config.target, color=TARGET, ls="--", lw=1.0, zorder=0)
        self.visited = ax.scatter([], [], s=10, zorder=2, linewidths=0)
        (self.tangent,) = ax.plot([], [], color=ACT_COLOR[GRADIENT], lw=1.4, zorder=3)
        self.arrow = FancyArrowPatch((0, 0), (0, 0), arrowstyle="-|>", mutation_scale=12,
                                     lw=1.6, zorder=4)
        ax.add_patch(self.arrow)
        (self.point,) = ax.plot([], [], "o", ms=8, mec="black", zorder=5)
        self.note = ax.text(0.97, 0.95, "", transform=ax.transAxes, ha="right", va="top",
                            fontsize=8.5)

    def update(self, snapshot):
        color = ACT_COLOR[snapshot.act]
        w, nxt = snapshot.weight, snapshot.next_weight
        visited = act_paths(self.run, snapshot.epoch)[snapshot.act]
        self.visited.set_offsets(np.column_stack([visited, mse(visited, self.x, self.y)]))
        self.visited.set_color(color)
        self.point.set_data([w], [snapshot.loss])
        self.point.set_markerfacecolor(color)
        self.arrow.set_positions((w, snapshot.loss), (nxt, float(mse(nxt, self.x, self.y))))
        self.arrow.set_color(color)
        self.arrow.set_visible(nxt != w)
        if snapshot.act == GRADIENT:
            dw = np.array([-self.half, self.half])
            self.tangent.set_data(w + dw, snapshot.loss + snapshot.grad * dw)
            step = f"step = {nxt - w:+.3f}" if not snapshot.done else self._stopped(snapshot)
            self.note.set_text(f"slope dMSE/dw = {snapshot.grad:+.2f}\n{step}")
        else:
            self.tangent.set_data([], [])
            self.note.set_text(f"step = {nxt - w:+.3f}, whatever the slope"
                               if not snapshot.done else self._stopped(snapshot))
        self.note.set_color(color)
        return [self.visited, self.tangent, self.arrow, self.point, self.note]

    def _stopped(self, snapshot) -> str:
        if abs(snapshot.error) <= self.tolerance:
            return f"stopped: |mean error| ≤ {self.tolerance:g}"
        return f"stopped after {snapshot.step} steps, |mean error| {abs(snapshot.error):.3g}"


class WeightPanel(Panel):
    """The weight step by step in each act, the target and the band where an act stops."""

    name = "nudging-weight"
    traces = ("weight", "act")

    def setup(self, ax, run) -> None:
        self.run = run
        x = run.dataset.X[:, 0]
        y = np.asarray(run.dataset.y, dtype=float)
        longest = max(*(len(path) for path in act_paths(run).values()), 2)
        ax.set_xlim(-0.5, longest - 0.5)
        ax.set_ylim(*weight_range(run))
        ax.set_xlabel("step")
        ax.set_ylabel("weight w")
        ax.set_title("The weight")
        band = tolerance_band(x, y, run.config.tolerance)
        ax.axhspan(*band, color="#2ca02c", alpha=0.18, lw=0, zorder=0,
                   label=f"|mean error| ≤ {run.config.tolerance:g}")
        ax.axhline(run.config.target, color=TARGET, ls="--", lw=1.0, zorder=1,
                   label=f"target {run.config.target:g}")
        (self.nudges,) = ax.plot([], [], "-o", ms=2.5, color=ACT_COLOR[NUDGING],
                                 label="act 1: nudging", zorder=2)
        (self.descent,) = ax.plot([], [], "-o", ms=3.5, color=ACT_COLOR[GRADIENT],
                                  label="act 2: gradient descent", zorder=3)
        ax.legend(loc="lower right")

    def update(self, snapshot):
        paths = act_paths(self.run, snapshot.epoch)
        for line, act in ((self.nudges, NUDGING), (self.descent, GRADIENT)):
            line.set_data(np.arange(len(paths[act])), paths[act])
        return [self.nudges, self.descent]


class ErrorStepsPanel(Panel):
    """|mean error| step by step in each act (log scale), down to the stopping tolerance."""

    name = "nudging-error"
    traces = ("weight", "act")

    def setup(self, ax, run) -> None:
        self.run = run
        self.x = run.dataset.X[:, 0]
        self.y = np.asarray(run.dataset.y, dtype=float)
        tol = run.config.tolerance
        errors = self._errors(run.trace("weight"))
        errors = errors[np.isfinite(errors) & (errors > 0)]
        self.floor = min(tol, float(errors.min()) if errors.size else tol) / 2
        top = max(float(errors.max()) if errors.size else tol, tol) * 2
        bottom = self.floor / 8  # room for the legend below the tolerance line
        longest = max(*(len(path) for path in act_paths(run).values()), 2)
        ax.set_yscale("log")
        ax.set_xlim(-0.5, longest - 0.5)
        ax.set_ylim(bottom, top)
        ax.set_xlabel("step")
        ax.set_ylabel("|mean error| (log)")
        ax.set_title("The error")
        ax.grid(True)
        ax.axhline(tol, color="#2ca02c", lw=1.2, ls="--", label=f"stop at {tol:g}", zorder=1)
        (self.nudges,) = ax.plot([], [], "-o", ms=2.5, color=ACT_COLOR[NUDGING],
                                 label="act 1: nudging", zorder=2)
        (self.descent,) = ax.plot([], [], "-o", ms=3.5, color=ACT_COLOR[GRADIENT],
                                  label="act 2: gradient descent", zorder=3)
        ax.legend(loc="lower left")

    def _errors(self, weights: np.ndarray) -> np.ndarray:
        return np.abs(weights * self.x.mean() - self.y.mean())

    def update(self, snapshot):
        paths = act_paths(self.run, snapshot.epoch)
        for line, act in ((self.nudges, NUDGING), (self.descent, GRADIENT)):
            errors = np.maximum(self._errors(paths[act]), self.floor)
            line.set_data(np.arange(len(errors)), errors)
        return [self.nudges, self.descent]
