"""Panels of weight-nudging: the data and the line, the error curve, the weight, the error.

Colours come from ``self.theme``. Each act has its colour, line style and marker
(:func:`act_style`: act 1 ``theme.color(1)``, dashed, squares; act 2 ``theme.color(0)``,
solid, circles), so the two acts stay apart in grey. Readouts and legends go where no
curve of the run ever passes (:func:`mlviz.panels.placement.free_place`, in the order
of :data:`PLACES`).
"""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels.placement import free_place, in_axes, place_legend, places_of, text_box

from .trainer import GRADIENT, NUDGING, mse, mse_per_squared_error, tolerance_band

#: The theme's categorical index of each act: its colour, line style and marker.
ACT_INDEX = {NUDGING: 1, GRADIENT: 0}
#: The residuals' categorical colour: apart from both acts' (the theme's accent is the
#: vermillion next to act 1's orange).
RESIDUAL_INDEX = 4
#: Where a readout or a legend may go, in order of preference (upper left first).
PLACES = places_of("upper left", "upper right", "upper center", "lower left", "lower right",
                   "lower center", "center left", "center right")


def act_style(theme, act: int) -> dict:
    """``color``, ``linestyle`` and ``marker`` of an act, from the theme."""
    index = ACT_INDEX[act]
    return {"color": theme.color(index), "linestyle": theme.linestyle(index),
            "marker": theme.marker(index)}


def act_title(act: int, config) -> str:
    """The caption that says which act is playing."""
    if act == NUDGING:
        return f"Act 1: nudging w by ±{config.nudge:g}"
    return f"Act 2: gradient descent (lr {config.lr:g}, momentum {config.momentum:g})"


def act_paths(run, until: int | None = None) -> dict[int, np.ndarray]:
    """Each act's weights step by step (from the traces), up to and including epoch ``until``."""
    weights, acts = run.trace("weight", until), run.trace("act", until)
    return {act: weights[acts == act] for act in (NUDGING, GRADIENT)}


def every_step(run) -> list:
    """Every step of both acts, rebuilt from the traces (``act``, ``step``, ``weight``,
    ``next_weight``, ``error``, ``grad``, ``done``, as a snapshot has them), whatever
    frames are drawn: for laying out what any step will show."""
    from types import SimpleNamespace

    from .trainer import mean_error, mse_grad

    x, y = run.dataset.X[:, 0], np.asarray(run.dataset.y, dtype=float)
    steps = []
    for act, weights in act_paths(run).items():
        for k, w in enumerate(weights):
            done = k == len(weights) - 1
            steps.append(SimpleNamespace(
                act=act, step=k, weight=float(w), done=done,
                next_weight=float(w if done else weights[k + 1]),
                error=float(mean_error(w, x, y)), grad=float(mse_grad(w, x, y))))
    return steps


def weight_range(run) -> tuple[float, float]:
    """Every weight of the run and the target, padded: the shared weight axis."""
    values = np.append(run.trace("weight"), run.config.target)
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    pad = 0.08 * (hi - lo) if hi > lo else 0.5
    return lo - pad, hi + pad


class DataLinePanel(Panel):
    """The data f(x) = 3x, the current line w·x and its residuals; the title names the act.

    The legend doubles as the readout: the model's entry gives w and the step, the
    residuals' the mean error; its model line is drawn as the act draws it.
    """

    name = "nudging-data"
    fields = ("act", "step", "weight", "error")
    traces = ("weight",)

    def setup(self, ax, run) -> None:
        from matplotlib.collections import LineCollection

        theme = self.theme
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
        target = self.config.target
        ax.plot(self.xs, target * self.xs, color=theme.muted, linestyle=theme.linestyle(3),
                lw=1.3, label=f"target f(x) = {target:g}x", zorder=1)
        self.residuals = LineCollection([], colors=theme.color(RESIDUAL_INDEX), linewidths=1.4,
                                        alpha=0.85, zorder=2, label="residuals")
        ax.add_collection(self.residuals)
        (self.data,) = ax.plot(self.x, self.y, linestyle="none", marker="o", color=theme.ink,
                               ms=5, label="data", zorder=4)
        first = act_style(theme, NUDGING)
        (self.line,) = ax.plot([], [], lw=2.2, zorder=3, color=first["color"],
                               linestyle=first["linestyle"], label="model f(x) = w·x")
        # the legend goes where neither the data, nor the target, nor any model line passes
        weights = run.trace("weight")
        weights = weights[np.isfinite(weights)]
        fan = [in_axes(ax, self.xs, w * self.xs, 60) for w in np.linspace(lo_w, hi_w, 25)]
        fan += [in_axes(ax, self.xs, w * self.xs, 60)
                for w in weights[:: max(1, len(weights) // 50)]]
        occupied = np.concatenate([*fan, in_axes(ax, self.xs, target * self.xs),
                                   in_axes(ax, self.x, self.y)])
        occupied = np.concatenate([occupied, (ax.transScale + ax.transLimits).transform(
            np.column_stack([self.x, self.y]))])
        steps = every_step(run)
        widest = [max((self._labels(step)[k] for step in steps), key=len)
                  for k in (0, 1)]  # the legend as wide as it gets, to place it
        self.line.set_label(widest[0])
        self.residuals.set_label(widest[1])
        self.legend = ax.legend(handles=[ax.lines[0], self.data, self.line, self.residuals],
                                fontsize=theme.fontsize(8.5), handlelength=2.4)
        place_legend(ax, self.legend, occupied, PLACES)
        self.caption = ax.set_title(" ")

    @staticmethod
    def _labels(snapshot) -> tuple[str, str]:
        """The legend's words for the model and the residuals: the readout."""
        return (f"model f(x) = w·x: w = {snapshot.weight:.3f} (step {snapshot.step})",
                f"residuals: mean error {snapshot.error:+.3f}")

    def update(self, snapshot):
        style = act_style(self.theme, snapshot.act)
        w = snapshot.weight
        self.line.set_data(self.xs, w * self.xs)
        self.line.set_color(style["color"])
        self.line.set_linestyle(style["linestyle"])
        handle = self.legend.legend_handles[2]  # the legend shows the line as it is drawn
        handle.set_color(style["color"])
        handle.set_linestyle(style["linestyle"])
        texts = self.legend.get_texts()
        for text, label in zip(texts[2:], self._labels(snapshot)):
            text.set_text(label)
        self.residuals.set_segments(np.stack([np.column_stack([self.x, self.y]),
                                              np.column_stack([self.x, w * self.x])], axis=1))
        self.caption.set_text(act_title(snapshot.act, self.config))
        self.caption.set_color(style["color"])
        return [self.residuals, self.line, self.data, self.legend, self.caption]


class ErrorCurvePanel(Panel):
    """The MSE as a function of w, the current weight on it, and where this step takes it.

    Act 2 also draws the tangent: the gradient, which sets the size of SGD's steps, while the
    nudges of act 1 are the same size wherever they start. The readout goes where neither
    the curve, nor the target, nor any step's tangent passes.
    """

    name = "nudging-error-curve"
    fields = ("act", "step", "weight", "next_weight", "error", "grad", "done")
    traces = ("weight", "act")

    def setup(self, ax, run) -> None:
        from matplotlib.patches import FancyArrowPatch

        theme = self.theme
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
        k = mse_per_squared_error(self.x)
        ax.set_ylabel(f"MSE = {k:.3g} · (mean error)²")
        ax.set_title("The error curve")
        ax.axvspan(*tolerance_band(self.x, self.y, self.tolerance), color=theme.good,
                   alpha=0.2, lw=0, zorder=0)  # the weights where an act stops, as below
        ax.plot(ws, curve, color=theme.muted, lw=1.5, zorder=1)
        ax.axvline(run.config.target, color=theme.muted, linestyle=theme.linestyle(3), lw=1.1,
                   zorder=0)
        self.visited = ax.scatter([], [], s=12, zorder=2, linewidths=0)
        (self.tangent,) = ax.plot([], [], lw=1.4, zorder=3,
                                  color=act_style(theme, GRADIENT)["color"])
        self.arrow = FancyArrowPatch((0, 0), (0, 0), arrowstyle="-|>", mutation_scale=12,
                                     lw=1.6, zorder=4)
        ax.add_patch(self.arrow)
        (self.point,) = ax.plot([], [], linestyle="none", marker="o", ms=8, mec=theme.edge,
                                zorder=5)
        # the note goes where no curve, no target and no tangent of any step passes
        weights, acts = run.trace("weight"), run.trace("act")
        occupied = [in_axes(ax, ws, curve),
                    in_axes(ax, [run.config.target] * 2, [-0.04 * top, top * 1.08])]
        for w in weights[(acts == GRADIENT) & np.isfinite(weights)]:
            dw = np.array([-self.half, self.half])
            occupied.append(in_axes(ax, w + dw, mse(w, self.x, self.y) + self._slope(w) * dw,
                                    40))
        box = text_box(ax, [self._note(step) for step in every_step(run)], theme.fontsize(8.5))
        target = float((ax.transScale + ax.transLimits).transform(
            [[run.config.target, 0.0]])[0, 0])
        beside = ((target - 0.02, 0.97, "right", "top") if target > 0.5 else
                  (target + 0.02, 0.97, "left", "top"))  # next to the target line
        places = (PLACES[1], beside, *PLACES[2:3], PLACES[0], *PLACES[3:])
        x, y, ha, va = free_place(np.concatenate(occupied), box, places)
        self.note = ax.text(x, y, "", transform=ax.transAxes, ha=ha, va=va,
                            fontsize=theme.fontsize(8.5), zorder=6)

    def _slope(self, w: float) -> float:
        return float(2.0 * np.mean(self.x * (w * self.x - self.y)))

    def update(self, snapshot):
        style = act_style(self.theme, snapshot.act)
        color = style["color"]
        w, nxt = snapshot.weight, snapshot.next_weight
        visited = act_paths(self.run, snapshot.epoch)[snapshot.act]
        self.visited.set_offsets(np.column_stack([visited, mse(visited, self.x, self.y)]))
        self.visited.set_color(color)
        self.visited.set_paths(self._marker_paths(style["marker"]))
        self.point.set_data([w], [snapshot.loss])
        self.point.set_marker(style["marker"])
        self.point.set_markerfacecolor(color)
        self.arrow.set_positions((w, snapshot.loss), (nxt, float(mse(nxt, self.x, self.y))))
        self.arrow.set_color(color)
        self.arrow.set_visible(nxt != w)
        if snapshot.act == GRADIENT:
            dw = np.array([-self.half, self.half])
            self.tangent.set_data(w + dw, snapshot.loss + snapshot.grad * dw)
        else:
            self.tangent.set_data([], [])
        self.note.set_text(self._note(snapshot))
        self.note.set_color(color)
        return [self.visited, self.tangent, self.arrow, self.point, self.note]

    def _note(self, snapshot) -> str:
        """What this step does: its size, and in act 2 the slope that set it."""
        step = snapshot.next_weight - snapshot.weight
        if snapshot.act == GRADIENT:
            done = self._stopped(snapshot) if snapshot.done else f"step = {step:+.3f}"
            return f"slope dMSE/dw = {snapshot.grad:+.2f}\n{done}"
        return self._stopped(snapshot) if snapshot.done else \
            f"step = {step:+.3f}, whatever the slope"

    @staticmethod
    def _marker_paths(marker: str) -> list:
        from matplotlib.markers import MarkerStyle

        style = MarkerStyle(marker)
        return [style.get_path().transformed(style.get_transform())]

    def _stopped(self, snapshot) -> str:
        if abs(snapshot.error) <= self.tolerance:
            level = mse_per_squared_error(self.x) * self.tolerance**2
            return f"stopped: |mean error| ≤ {self.tolerance:g}\n(MSE ≤ {level:.3g})"
        return f"stopped after {snapshot.step} steps,\n|mean error| {abs(snapshot.error):.3g}"


def _act_lines(ax, theme) -> tuple:
    """The two acts' step-by-step lines (act 1 first), each in its act's style."""
    lines = []
    for act, label, size in ((NUDGING, "act 1: nudging", 3.0),
                             (GRADIENT, "act 2: gradient descent", 4.0)):
        style = act_style(theme, act)
        (line,) = ax.plot([], [], ms=size, lw=1.6, label=label, zorder=2 + act, **style)
        lines.append(line)
    return tuple(lines)


class WeightPanel(Panel):
    """The weight step by step in each act, the target and the band where an act stops."""

    name = "nudging-weight"
    traces = ("weight", "act")

    def setup(self, ax, run) -> None:
        theme = self.theme
        self.run = run
        x = run.dataset.X[:, 0]
        y = np.asarray(run.dataset.y, dtype=float)
        paths = act_paths(run)
        longest = max(*(len(path) for path in paths.values()), 2)
        ax.set_xlim(-0.5, longest - 0.5)
        ax.set_ylim(*weight_range(run))
        ax.set_xlabel("step")
        ax.set_ylabel("weight w")
        ax.set_title("The weight")
        band = tolerance_band(x, y, run.config.tolerance)
        level = mse_per_squared_error(x) * run.config.tolerance**2
        ax.axhspan(*band, color=theme.good, alpha=0.2, lw=0, zorder=0,
                   label=f"|mean error| ≤ {run.config.tolerance:g} (MSE ≤ {level:.3g})")
        ax.axhline(run.config.target, color=theme.muted, linestyle=theme.linestyle(3), lw=1.1,
                   zorder=1, label=f"target {run.config.target:g}")
        self.nudges, self.descent = _act_lines(ax, theme)
        occupied = [in_axes(ax, np.arange(len(path)), path) for path in paths.values()]
        occupied.append(in_axes(ax, [-0.5, longest - 0.5], [run.config.target] * 2))
        place_legend(ax, ax.legend(), np.concatenate(occupied), PLACES)

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
        theme = self.theme
        self.run = run
        self.x = run.dataset.X[:, 0]
        self.y = np.asarray(run.dataset.y, dtype=float)
        tol = run.config.tolerance
        errors = self._errors(run.trace("weight"))
        errors = errors[np.isfinite(errors) & (errors > 0)]
        self.floor = min(tol, float(errors.min()) if errors.size else tol) / 2
        top = max(float(errors.max()) if errors.size else tol, tol) * 2
        bottom = self.floor / 8  # room for the legend below the tolerance line
        paths = act_paths(run)
        longest = max(*(len(path) for path in paths.values()), 2)
        ax.set_yscale("log")
        ax.set_xlim(-0.5, longest - 0.5)
        ax.set_ylim(bottom, top)
        ax.set_xlabel("step")
        ax.set_ylabel("|mean error| (log)")
        ax.set_title("The error")
        ax.grid(True)
        k = mse_per_squared_error(self.x)
        self.k = k
        mse_axis = ax.secondary_yaxis(
            "right", functions=(lambda e: k * np.square(e),
                                lambda m: np.sqrt(np.maximum(m, 0.0) / k)))
        mse_axis.set_ylabel(f"MSE = {k:.3g} · error²")
        ax.axhline(tol, color=theme.good, lw=1.3, linestyle=theme.linestyle(3),
                   label=f"stop at {tol:g} (MSE {k * tol * tol:.3g})", zorder=1)
        self.nudges, self.descent = _act_lines(ax, theme)
        occupied = [in_axes(ax, np.arange(len(path)), self._shown(path))
                    for path in paths.values()]
        occupied.append(in_axes(ax, [-0.5, longest - 0.5], [tol, tol]))
        place_legend(ax, ax.legend(), np.concatenate(occupied), PLACES)

    def _errors(self, weights: np.ndarray) -> np.ndarray:
        return np.abs(weights * self.x.mean() - self.y.mean())

    def _shown(self, weights: np.ndarray) -> np.ndarray:
        return np.maximum(self._errors(weights), self.floor)

    def update(self, snapshot):
        paths = act_paths(self.run, snapshot.epoch)
        for line, act in ((self.nudges, NUDGING), (self.descent, GRADIENT)):
            line.set_data(np.arange(len(paths[act])), self._shown(paths[act]))
        return [self.nudges, self.descent]
