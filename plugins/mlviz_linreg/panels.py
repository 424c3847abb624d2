"""The linear-regression panels: the data with the current line, the MSE surface, the loss."""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels import LossCurvePanel

from .trainer import Problem

GRID = 60  # surface resolution per axis


def _problem(run) -> Problem:
    return Problem.from_dataset(run.dataset, run.config.standardize)


class FitPanel(Panel):
    """The data, the current line ŷ = w·x + b (original units), and the least-squares line.

    The y axis holds the data, the least-squares line and every line of the run (from the
    traces of w and b), as far as 60% of the data's range beyond the data.
    """

    name = "linreg-fit"
    fields = ("slope", "intercept")
    traces = ("w", "b")

    def setup(self, ax, run) -> None:
        theme = self.theme
        x, y = run.dataset.X[:, 0], np.asarray(run.dataset.y, dtype=float)
        problem = _problem(run)
        slope_ls, intercept_ls = problem.to_original(*problem.least_squares())
        xlo, xhi = float(x.min()), float(x.max())
        xpad = 0.05 * (xhi - xlo)
        self.xs = np.array([xlo - xpad, xhi + xpad])
        ylo, yhi = float(y.min()), float(y.max())
        span = max(yhi - ylo, 1e-9)
        slopes, intercepts = problem.to_original(run.trace("w"), run.trace("b"))
        slopes, intercepts = np.r_[slopes, slope_ls], np.r_[intercepts, intercept_ls]
        ends = slopes[:, None] * self.xs + intercepts[:, None]
        ends = ends[np.isfinite(ends)]
        lo = max(min(ylo, float(ends.min(initial=ylo))), ylo - 0.6 * span)
        hi = min(max(yhi, float(ends.max(initial=yhi))), yhi + 0.6 * span)
        pad = 0.05 * (hi - lo)
        ax.set_xlim(*self.xs)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel(run.dataset.feature_names[0])
        ax.set_ylabel(run.dataset.target_name)
        ax.set_title("Linear regression")
        ax.grid(True)
        few = len(x) < 60  # small data sets: larger, bolder points
        ax.scatter(x, y, s=36 if few else 16, color=theme.color(0), alpha=0.8 if few else 0.55,
                   linewidths=0, label="data", zorder=1)
        ax.plot(self.xs, slope_ls * self.xs + intercept_ls, "--", color=theme.muted, lw=1.3,
                label="least squares", zorder=2)
        (self.line,) = ax.plot([], [], color=theme.ink, lw=2.0, label="gradient descent",
                               zorder=3)
        legend = ax.legend(loc="upper left", frameon=True, framealpha=0.85,
                           facecolor=theme.halo)
        legend.get_frame().set_linewidth(0)
        self.problem = problem
        self.corner = readout_corner(x, y, slopes, intercepts, self.xs, (lo - pad, hi + pad))
        right, top = self.corner
        self.equation = ax.text(0.97 if right else 0.03, 0.97 if top else 0.03, "",
                                transform=ax.transAxes, ha="right" if right else "left",
                                va="top" if top else "bottom", fontsize=theme.fontsize(9),
                                family="DejaVu Sans Mono", zorder=4,
                                bbox={"boxstyle": "round,pad=0.25", "facecolor": theme.halo,
                                      "alpha": 0.85, "linewidth": 0})

    def update(self, snapshot):
        self.line.set_data(self.xs, snapshot.slope * self.xs + snapshot.intercept)
        self.equation.set_text(equation_text(self.problem, snapshot))
        return [self.line, self.equation]


def _signed(value: float) -> str:
    return f"{'+' if value >= 0 else '−'} {abs(value):.4g}"


def equation_text(problem: Problem, snapshot) -> str:
    """The line in the data's units and in the descent's (w, b): the numbers the surface
    panel's point sits at (on z-scored x, ŷ = w·z + b; the surface panel says what z is)."""
    line = f"ŷ = {snapshot.slope:.4g}·x {_signed(snapshot.intercept)}"
    if problem.scale == 1.0 and problem.mean == 0.0:
        return line
    return f"{line}\n  = {snapshot.w:.4g}·z {_signed(snapshot.b)}"


def z_text(problem: Problem) -> str:
    """What z is, in the data's units (empty on raw x)."""
    if problem.scale == 1.0 and problem.mean == 0.0:
        return ""
    return f"z = (x − {problem.mean:.4g}) / {problem.scale:.4g}"


#: Readout corners, (right, top), in order of preference: upper left holds the legend.
CORNERS = ((True, False), (True, True), (False, False))


def readout_corner(x, y, slopes, intercepts, xs, ylim, width: float = 0.5,
                   height: float = 0.2) -> tuple[bool, bool]:
    """The corner of the fit panel that the run's lines cross least (a line crossing in any
    epoch counts 10 times a data point under the readout): (right, top)."""
    lo, hi = ylim
    sample = np.linspace(xs[0], xs[1], 25)
    lines = slopes[:, None] * sample + intercepts[:, None]
    scores = []
    for right, top in CORNERS:
        x0 = xs[0] + (1 - width) * (xs[1] - xs[0]) if right else xs[0]
        x1 = x0 + width * (xs[1] - xs[0])
        y0 = hi - height * (hi - lo) if top else lo
        y1 = y0 + height * (hi - lo)
        inside = (sample >= x0) & (sample <= x1)
        crossing = np.any((lines[:, inside] >= y0) & (lines[:, inside] <= y1), axis=1)
        points = np.sum((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        scores.append(10 * int(np.sum(crossing)) + int(points))
    return CORNERS[int(np.argmin(scores))]


class SurfacePanel(Panel):
    """MSE over (w, b), exact on a grid, with the descent's path and its current point.

    The path is every epoch's (w, b, MSE) from the run's traces; the grid covers all of it.
    """

    name = "linreg-surface"
    projection = "3d"
    fields = ("w", "b", "loss")
    traces = ("w", "b", "loss")

    def share_runs(self, runs) -> None:
        """In a sweep: the runs compared, so that the surface covers all of them."""
        self.shared = list(runs)

    def setup(self, ax, run) -> None:
        from matplotlib.patheffects import withStroke
        from matplotlib.ticker import MaxNLocator

        theme = self.theme
        surface = theme.cmap("surface")
        problem = _problem(run)
        w_ls, b_ls = problem.least_squares()
        path = np.column_stack([run.trace("w"), run.trace("b"), run.trace("loss")])
        self.path = path
        self.epochs = run.trace("epoch")
        covered = np.vstack([np.column_stack([r.trace("w"), r.trace("b")])
                             for r in getattr(self, "shared", [run])])
        lo = np.minimum(covered.min(axis=0), (w_ls, b_ls))
        hi = np.maximum(covered.max(axis=0), (w_ls, b_ls))
        span = np.maximum(hi - lo, 1e-3 * np.maximum(np.abs(hi), 1.0))
        if run.config.standardize:  # equal spans: the round bowl looks round
            center, span = (lo + hi) / 2, np.full(2, span.max())
            lo, hi = center - span / 2, center + span / 2
        lo, hi = lo - 0.2 * span, hi + 0.2 * span
        W, B = np.meshgrid(np.linspace(lo[0], hi[0], GRID), np.linspace(lo[1], hi[1], GRID))
        L = problem.surface(W, B)
        top = float(L.max())
        self.floor = 0.0
        ax.plot_surface(W, B, L, cmap=surface, alpha=0.55, linewidth=0,
                        antialiased=False, rcount=GRID, ccount=GRID, zorder=1)
        levels = float(L.min()) + (top - float(L.min())) * np.linspace(0.03, 0.9, 9) ** 2
        ax.contour(W, B, L, levels=levels, zdir="z", offset=self.floor, cmap=surface,
                   linewidths=0.8)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_zlim(self.floor, top)
        scaled = " (on z)" if run.config.standardize else ""
        ax.set_xlabel(f"slope w{scaled}", fontsize=theme.fontsize(8.5), labelpad=10)
        ax.set_ylabel("intercept b", fontsize=theme.fontsize(8.5), labelpad=10)
        ax.set_zlabel("MSE", fontsize=theme.fontsize(8.5), labelpad=2)
        ax.tick_params(labelsize=theme.fontsize(7), pad=0)
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            axis.set_major_locator(MaxNLocator(5))
        ax.set_title("MSE surface over (w, b)")
        ax.view_init(elev=22, azim=-50)
        low, high = problem.curvatures()
        ratio = high / low
        curvature = (f"curvatures λmax/λmin = {ratio:.3g}:\na round bowl" if ratio < 10
                     else f"λmax/λmin = {ratio:.3g}:\na narrow valley")
        u = "z" if run.config.standardize else "x"
        ax.text2D(0.0, 1.0, curvature,
                  transform=ax.transAxes, fontsize=theme.fontsize(8), va="top")
        formula = rf"$\mathrm{{MSE}}(w, b) = \frac{{1}}{{n}}\sum_i\,(y_i - w\,{u}_i - b)^2$"
        where = z_text(problem)
        ax.text2D(1.0, 1.0, formula + (f"\n{where}" if where else ""), transform=ax.transAxes,
                  fontsize=theme.fontsize(9), va="top", ha="right", linespacing=1.6)
        self.readout = ax.text2D(0.0, 0.86, "", transform=ax.transAxes, ha="left",
                                 va="top", fontsize=theme.fontsize(8.5),
                                 family="DejaVu Sans Mono", color=theme.loss)
        loss_ls = float(problem.surface(np.array(w_ls), np.array(b_ls)))
        (self.minimum,) = ax.plot([w_ls], [b_ls], [loss_ls], "*", color=theme.halo, ms=12,
                                  mec=theme.ink, mew=0.8, zorder=4)
        (self.shadow,) = ax.plot([], [], [], color=theme.loss, lw=1.0, alpha=0.6, zorder=3)
        (self.trail,) = ax.plot([], [], [], color=theme.loss, lw=2.2, zorder=5,
                                path_effects=[withStroke(linewidth=4.0, foreground=theme.halo)])
        (self.point,) = ax.plot([], [], [], "o", color=theme.loss, ms=8, mec=theme.edge,
                                mew=0.8, zorder=6)

    def update(self, snapshot):
        upto = self.path[: int(np.searchsorted(self.epochs, snapshot.epoch, side="right"))]
        self.shadow.set_data_3d(upto[:, 0], upto[:, 1], np.full(len(upto), self.floor))
        self.trail.set_data_3d(upto[:, 0], upto[:, 1], upto[:, 2])
        self.point.set_data_3d([snapshot.w], [snapshot.b], [snapshot.loss])
        self.readout.set_text(f"● (w, b) = ({snapshot.w:.4g}, {snapshot.b:.4g})\n"
                              f"MSE {snapshot.loss:.4g}")
        return [self.shadow, self.minimum, self.trail, self.point, self.readout]


class LossPanel(LossCurvePanel):
    """The MSE per epoch, with the least-squares MSE (the best any line can do) dashed."""

    name = "linreg-loss"

    def __init__(self) -> None:
        super().__init__(ylabel="MSE", title="Loss: MSE")

    def setup(self, ax, run) -> None:
        super().setup(ax, run)
        ax.set_ylabel("")  # the title says it; the 3D panel's ticks need the room
        problem = _problem(run)
        best = float(problem.surface(*map(np.array, problem.least_squares())))
        ax.axhline(best, ls="--", color=self.theme.muted, lw=1.2,
                   label=f"least squares {best:.4g}")
        lo, hi = ax.get_ylim()
        if best < lo:
            ax.set_ylim(best - 0.06 * (hi - best), hi)
        ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.86))
