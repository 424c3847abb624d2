"""Panels of the layer-transformations plugin: each layer's view of the points, the
predictions, and the per-layer gradient norms (over the epochs, and layer by layer).

Colours come from ``self.theme``: the two classes are ``theme.negative`` and
``theme.positive``, each with its own marker (``theme.marker(0)``, ``theme.marker(1)``),
so they stay apart in grey; the layers of the gradient panels are the theme's
sequential map, dark to light from the first layer to the last, with a colour bar.
"""

from __future__ import annotations

import numpy as np

from mlviz import Panel
from mlviz.panels import MetricCurvePanel
from mlviz.panels.metric import READOUT_BOX

#: Where a readout may go, in order of preference: (x, y, ha, va) in axes fractions.
READOUT_PLACES = (
    (0.03, 0.96, "left", "top"),
    (0.97, 0.96, "right", "top"),
    (0.03, 0.04, "left", "bottom"),
    (0.97, 0.04, "right", "bottom"),
)


def _class_scatter(ax, points: np.ndarray, labels: np.ndarray, theme, **style) -> list:
    """One scatter per class (class 0 first), each in its colour and its marker."""
    masks = class_masks(labels)
    return [ax.scatter(points[mask, 0], points[mask, 1], color=colour, marker=theme.marker(k),
                       **style)
            for k, (mask, colour) in enumerate(zip(masks, (theme.negative, theme.positive)))]


def class_masks(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class 0, class 1) as boolean masks of ``labels``."""
    positive = np.asarray(labels) > 0
    return ~positive, positive


def _square(ax, points: np.ndarray, theme) -> None:
    """Equal-aspect limits around ``points`` (..., 2): each axis centred on its own data,
    both with the larger of the two spans, so a cloud collapsed by deep layers stays visible."""
    low = points.reshape(-1, 2).min(axis=0)
    high = points.reshape(-1, 2).max(axis=0)
    half = max(float((high - low).max()) * 0.55, 1e-6)
    mid = (low + high) / 2
    ax.set_xlim(mid[0] - half, mid[0] + half)
    ax.set_ylim(mid[1] - half, mid[1] + half)
    ax.set_aspect("equal", adjustable="box")
    ax.tick_params(labelsize=theme.fontsize(7))


def layer_colours(theme, count: int) -> list:
    """One colour a layer, dark to light along the theme's sequential map, leaving out the
    end that would vanish into the background (the light end on light, the dark on dark)."""
    from matplotlib.colors import to_rgb

    background = to_rgb(theme.background)
    dark_background = float(np.dot(background, (0.2126, 0.7152, 0.0722))) < 0.5
    low, high = (0.25, 1.0) if dark_background else (0.0, 0.85)
    cmap = theme.cmap("sequential")
    return [cmap(low + (high - low) * k / max(count - 1, 1)) for k in range(count)]


def layer_colourbar(ax, colours: list, theme, where=(0.935, 0.1, 0.018, 0.8)) -> None:
    """A colour bar inside ``ax`` at ``where`` (axes fractions: left, bottom, width,
    height), ticks on its right: which colour is which layer (1 … len(colours)). Inside,
    not beside: a colour bar beside a panel that spans several columns would widen the
    margins of every column of the figure."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.ticker import MaxNLocator

    count = len(colours)
    norm = BoundaryNorm(np.arange(0.5, count + 1), count)
    mappable = ScalarMappable(norm=norm, cmap=ListedColormap(colours))
    holder = ax.inset_axes(where)
    bar = ax.figure.colorbar(mappable, cax=holder)
    holder.set_title("layer", fontsize=theme.fontsize(7.5), pad=3)
    bar.locator = MaxNLocator(nbins=6, integer=True, min_n_ticks=2)
    holder.tick_params(labelsize=theme.fontsize(7), length=2, pad=1)
    bar.outline.set_visible(False)
    bar.update_ticks()


def free_place(occupied: np.ndarray, box: tuple[float, float],
               places=READOUT_PLACES) -> tuple[float, float, str, str]:
    """The first of ``places`` whose ``box`` (width, height in axes fractions) holds none of
    the ``occupied`` points (axes fractions, (n, 2)); the first place if none is free."""
    width, height = box
    for x, y, ha, va in places:
        left = x - width if ha == "right" else x
        bottom = y - height if va == "top" else y
        inside = ((occupied[:, 0] >= left) & (occupied[:, 0] <= left + width)
                  & (occupied[:, 1] >= bottom) & (occupied[:, 1] <= bottom + height))
        if not inside.any():
            return x, y, ha, va
    return places[0]


def text_box(ax, texts, points: float, family: str | None = None, pad: float = 8.0
             ) -> tuple[float, float]:
    """The room the widest and the tallest of ``texts`` take at ``points`` (measured), in
    ``ax``'s axes fractions, plus ``pad`` pixels each way (the axes' size before layout:
    a little smaller than drawn, so the estimate errs on the generous side)."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    renderer = ax.figure.canvas.get_renderer()
    font = FontProperties(family=family or rcParams["font.family"], size=points)
    width = height = 0.0
    for text in texts:
        lines = text.split("\n")
        width = max(width, *(renderer.get_text_width_height_descent(line, font, ismath=False)[0]
                             for line in lines))
        height = max(height, len(lines) * points * 1.25 * ax.figure.dpi / 72)
    box = ax.get_position()
    return ((width + pad) / max(box.width * ax.figure.bbox.width, 1.0),
            (height + pad) / max(box.height * ax.figure.bbox.height, 1.0))


def class_names(run) -> tuple[str, str]:
    """The two classes' names: the user's (``--data``) or the stock ``class 0``, ``class 1``."""
    names = tuple(str(name) for name in (run.dataset.extra or {}).get("classes", ()))
    return (names[0], names[1]) if len(names) == 2 else ("class 0", "class 1")


def half_plane(w: np.ndarray, b: float, box: tuple[float, float, float, float],
               sign: float = 1.0) -> np.ndarray:
    """The part of the rectangle ``box`` (x0, x1, y0, y1) where sign·(w·h + b) ≥ 0, as a
    polygon (k, 2) (k = 0: none of it): the rectangle clipped by the half-plane."""
    x0, x1, y0, y1 = box
    corners = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=float)
    value = sign * (corners @ np.asarray(w, dtype=float) + b)
    kept = []
    for k in range(4):
        here, there = corners[k], corners[(k + 1) % 4]
        a, c = value[k], value[(k + 1) % 4]
        if a >= 0:
            kept.append(here)
        if (a >= 0) != (c >= 0):
            kept.append(here + (there - here) * a / (a - c))
    return np.array(kept).reshape(-1, 2)


class LayerPointsPanel(Panel):
    """The points as one layer outputs them (layer 0: the input), by class (colour and
    marker), the input with a legend of the class names.

    With ``shared``, every layer's view has the same fixed limits (those of all layers
    at all epochs), so a cloud that collapses deeper in the network is seen collapsing,
    not zoomed back to full size. With ``boundary`` (the last hidden layer), the output unit's separating line
    w·h + b = 0 and the two half-planes it makes, shaded in the colour of the class the
    output predicts there: the bent data, split by one straight line.

    Reads the field ``hidden`` (and with ``boundary`` the output layer's parameters) and,
    for limits holding every epoch, the trace ``hidden_range``.
    """

    name = "layer-points"
    fields = ("hidden",)
    traces = ("hidden_range",)

    def __init__(self, index: int, boundary: bool = False, shared: bool = False) -> None:
        self.index = index
        self.boundary = boundary
        self.shared = shared

    def requires(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if not self.boundary:
            return self.fields, self.traces
        last = f"layers.{self.index}"
        return (*self.fields, f"params.{last}.weight", f"params.{last}.bias"), self.traces

    def setup(self, ax, run) -> None:
        theme = self.theme
        ranges = run.trace("hidden_range")[:, self.index]  # (epochs, min|max, unit)
        if self.index == 0:
            ax.set_title("Input")
            names = run.dataset.feature_names
        else:
            ax.set_title(f"Layer {self.index}")
            names = (f"unit 1 of layer {self.index}", "unit 2")
        ax.set_xlabel(names[0], fontsize=theme.fontsize(8), labelpad=1)
        ax.set_ylabel(names[1], fontsize=theme.fontsize(8), labelpad=1)
        _square(ax, run.trace("hidden_range") if self.shared else ranges, theme)
        self.masks = class_masks(run.dataset.y)
        first = run.snapshots[0].hidden[self.index]
        # deeper layers pile points onto the corners of the tanh square: bigger dots with
        # a halo keep a pile of one class readable on a pile of the other
        style = (dict(s=7, alpha=0.6, linewidths=0) if self.index == 0 else
                 dict(s=14, alpha=0.7, linewidths=0.3, edgecolors=theme.halo))
        self.dots = _class_scatter(ax, first, run.dataset.y, theme, zorder=2, **style)
        if self.index == 0:
            ax.legend(self.dots, class_names(run), loc="best", fontsize=theme.fontsize(7),
                      markerscale=1.6, handletextpad=0.2, borderpad=0.3, frameon=True,
                      framealpha=0.9, facecolor=theme.background, edgecolor=theme.faint)
        self.box = (*ax.get_xlim(), *ax.get_ylim())
        self.sides: list = []
        self.line = None
        # a cloud squeezed into a dot (deep layers on the shared scale) says so
        self.note = ax.text(0.5, 0.06, "", transform=ax.transAxes, ha="center", va="bottom",
                            fontsize=theme.fontsize(7.5), color=theme.muted, zorder=4)
        self.width = self.box[1] - self.box[0]
        if self.boundary:
            from matplotlib.patches import Polygon

            for colour in (theme.negative, theme.positive):
                patch = Polygon(np.zeros((0, 2)), closed=True, facecolor=colour, alpha=0.13,
                                edgecolor="none", zorder=0)
                ax.add_patch(patch)
                self.sides.append(patch)
            (self.line,) = ax.plot([], [], color=theme.ink, linewidth=1.6, zorder=3,
                                   label="w·h + b = 0")
            legend = ax.legend(handles=[self.line], loc="upper left",
                               fontsize=theme.fontsize(7), handlelength=1.2, borderpad=0.3,
                               frameon=True, framealpha=0.9, facecolor=theme.background,
                               edgecolor=theme.faint)
            self._place_legend(ax, run, legend)
            self.key = f"layers.{self.index}"

    def _place_legend(self, ax, run, legend) -> None:
        """The line's key in the corner that the points cover least at the first and the
        last epoch (the poster's points first): the same corner whatever frames are drawn."""
        from mlviz.panels.placement import place_legend, places_of

        to_axes = ax.transScale + ax.transLimits
        last = to_axes.transform(np.asarray(run.snapshots[-1].hidden[self.index], dtype=float))
        first = to_axes.transform(np.asarray(run.snapshots[0].hidden[self.index], dtype=float))
        places = places_of("upper left", "upper right", "lower right", "lower left",
                           margin=(0.02, 0.02))
        occupied = np.concatenate([last, last, first])  # the poster's points count twice
        place_legend(ax, legend, occupied, places)

    def update(self, snapshot):
        if self.index == 0:  # the input never moves: drawn once, with the static content
            return []
        points = snapshot.hidden[self.index]
        for dots, mask in zip(self.dots, self.masks):
            dots.set_offsets(points[mask])
        self.note.set_text(self.collapse_note(points))
        if self.note.get_text():  # above the dot or below it, clear of it
            low = (np.mean(points[:, 1]) - self.box[2]) / (self.box[3] - self.box[2]) < 0.5
            self.note.set_y(0.94 if low else 0.06)
            self.note.set_va("top" if low else "bottom")
        if not self.boundary:
            return [*self.dots, self.note]
        w = np.asarray(snapshot.params[f"{self.key}.weight"], dtype=float).reshape(-1)
        b = float(np.asarray(snapshot.params[f"{self.key}.bias"]).reshape(-1)[0])
        for patch, sign in zip(self.sides, (-1.0, 1.0)):  # logit < 0: class 0
            patch.set_xy(_closed(half_plane(w, b, self.box, sign)))
        self.line.set_data(*_line_in_box(w, b, self.box))
        return [*self.sides, *self.dots, self.line, self.note]

    def collapse_note(self, points: np.ndarray) -> str:
        """"all N points / within S" (two lines) when the cloud spans under 5 % of the
        panel's width (the dots read as one), else ""."""
        spread = float(np.ptp(points, axis=0).max()) if len(points) else 0.0
        if not self.shared or spread >= 0.05 * self.width:
            return ""
        return f"all {len(points)} points\nwithin {spread:.0e}"


def _closed(polygon: np.ndarray) -> np.ndarray:
    return polygon if len(polygon) else np.full((1, 2), np.nan)


def _line_in_box(w: np.ndarray, b: float, box: tuple[float, float, float, float]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Where w·h + b = 0 crosses the rectangle ``box``: (xs, ys), empty if it misses it."""
    edge = half_plane(w, b, box, 1.0)
    on = edge[np.abs(edge @ w + b) <= 1e-9 * max(1.0, float(np.abs(w).sum()), abs(b))]
    if len(on) < 2 or not np.any(w):
        return np.array([]), np.array([])
    return on[[0, -1], 0], on[[0, -1], 1]


class OutputPanel(Panel):
    """The output unit: P(class 1) per point, each class in its own band, threshold at 0.5."""

    name = "layer-output"
    fields = ("proba",)

    def setup(self, ax, run) -> None:
        theme = self.theme
        labels = np.asarray(run.dataset.y)
        rng = np.random.default_rng(0)
        self.masks = class_masks(labels)
        self.height = np.where(labels > 0, 0.55, -0.55) + rng.uniform(-0.35, 0.35, len(labels))
        ax.set_title("Output")
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel(f"P({class_names(run)[1]})", fontsize=theme.fontsize(8), labelpad=1)
        ax.set_yticks([-0.55, 0.55], class_names(run), fontsize=theme.fontsize(7))
        ax.tick_params(labelsize=theme.fontsize(7))
        ax.axvline(0.5, color=theme.muted, linewidth=1, linestyle="--", zorder=0)
        ax.set_box_aspect(1)
        points = np.column_stack([run.snapshots[0].proba, self.height])
        self.dots = _class_scatter(ax, points, labels, theme, s=7, alpha=0.6, linewidths=0)

    def update(self, snapshot):
        points = np.column_stack([snapshot.proba, self.height])
        for dots, mask in zip(self.dots, self.masks):
            dots.set_offsets(points[mask])
        return list(self.dots)


class PredictionPanel(Panel):
    """P(class 1) over the input square, with the data points and the accuracy."""

    name = "layer-predictions"
    fields = ("grid_proba", "accuracy")

    def setup(self, ax, run) -> None:
        theme = self.theme
        shape = run.snapshots[0].grid_proba.shape
        self.image = ax.imshow(np.zeros(shape), origin="lower", extent=(-1, 1, -1, 1),
                               cmap=theme.class_cmap(), vmin=0, vmax=1, alpha=0.6, zorder=0)
        points, labels = run.dataset.X, np.asarray(run.dataset.y)
        self.dots = _class_scatter(ax, points, labels, theme, s=9, linewidths=0.4, zorder=2,
                                   edgecolors=theme.halo)
        _square(ax, np.array([[-1.0, -1.0], [1.0, 1.0]]), theme)
        names = run.dataset.feature_names
        ax.set_xlabel(names[0], fontsize=theme.fontsize(8), labelpad=1)
        ax.set_ylabel(names[1], fontsize=theme.fontsize(8), labelpad=1)
        # on the right: in a row of small panels, a centred title would overhang the figure
        self.caption = ax.set_title(" ", loc="right")

    def update(self, snapshot):
        self.image.set_data(snapshot.grid_proba)
        self.caption.set_text(f"Predictions · {snapshot.accuracy:.0%}")
        return [self.image, *self.dots, self.caption]


def _norm_limits(norms: np.ndarray) -> tuple[float, float]:
    positive = norms[np.isfinite(norms) & (norms > 0)]
    low, high = (float(positive.min()), float(positive.max())) if positive.size else (1e-8, 1.0)
    return low / 2, high * 2


class GradientNormPanel(Panel):
    """‖∂loss/∂W‖ of every layer over the epochs (log scale): vanishing gradients made visible.

    One line a layer, dark (layer 1) to light (the output layer), with a colour bar.
    Reads the trace ``grad_norms`` (one norm per Linear layer, every epoch).
    """

    name = "layer-gradient-norms"
    traces = ("grad_norms",)

    def setup(self, ax, run) -> None:
        from matplotlib.ticker import MaxNLocator

        theme = self.theme
        self.run = run
        epochs, norms = run.history("grad_norms")  # (epochs,), (epochs, layers)
        ax.set_yscale("log")
        ax.set_ylim(*_norm_limits(norms))
        last = max(int(epochs[-1]), 1)
        ax.set_xlim(0, last * 1.1)  # the last tenth: the colour bar's
        ticks = np.asarray(MaxNLocator(nbins=8, integer=True).tick_values(0, last))
        ax.set_xticks(ticks[(ticks >= 0) & (ticks <= last)])
        ax.set_title("Gradient norms over training")
        ax.set_xlabel("epoch", fontsize=theme.fontsize(8))
        ax.set_ylabel("‖∂loss/∂W‖ (log)", fontsize=theme.fontsize(8))
        ax.tick_params(labelsize=theme.fontsize(7))
        ax.grid(True)
        colours = layer_colours(theme, norms.shape[1])
        self.lines = []
        for colour in colours:
            (line,) = ax.plot([], [], color=colour, linewidth=1.3)
            self.lines.append(line)
        layer_colourbar(ax, colours, theme)

    def update(self, snapshot):
        epochs, norms = self.run.history("grad_norms", until=snapshot.epoch)
        for k, line in enumerate(self.lines):
            line.set_data(epochs, np.maximum(norms[:, k], 1e-30))
        return list(self.lines)


class GradientProfilePanel(Panel):
    """‖∂loss/∂W‖ layer by layer at the current epoch (log scale): how much of the output
    layer's gradient reaches each layer on its way back. A readout gives the ratio of the
    first layer's to the last's.

    Reads the field ``grad_norms`` and, for the y limits, the trace ``grad_norms``.
    """

    name = "layer-gradient-profile"
    fields = ("grad_norms",)
    traces = ("grad_norms",)

    def setup(self, ax, run) -> None:
        from matplotlib.ticker import MaxNLocator

        theme = self.theme
        norms = run.trace("grad_norms")
        count = norms.shape[1]
        self.low, high = _norm_limits(norms)
        ax.set_yscale("log")
        ax.set_ylim(self.low, high)
        ax.set_xlim(0.4, count + 0.6)
        ax.set_title("Gradient by layer")
        ax.set_xlabel("layer (input side → output)", fontsize=theme.fontsize(8))
        ax.set_ylabel("‖∂loss/∂W‖ (log)", fontsize=theme.fontsize(8))
        ax.tick_params(labelsize=theme.fontsize(7))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=min(count, 12), integer=True))
        ax.grid(True, axis="y")
        layers = np.arange(1, count + 1)
        self.bars = list(ax.bar(layers, np.zeros(count), bottom=self.low, width=0.75,
                                color=layer_colours(theme, count), edgecolor=theme.edge,
                                linewidth=0.4, zorder=2))
        # the readout goes where no bar ever reaches: the bars' edges, from the bottom up
        # to their highest at any epoch, as points in axes fractions
        to_axes = ax.transScale + ax.transLimits
        highest = np.nanmax(np.where(np.isfinite(norms), norms, np.nan), axis=0)
        occupied = np.concatenate([
            to_axes.transform(np.column_stack([
                np.full(40, k + side * 0.375),
                np.geomspace(self.low, max(top, self.low) if np.isfinite(top) else self.low,
                             40)]))
            for k, top in zip(layers, highest) for side in (-1, 1)])
        widest = f"epoch {int(run.epochs[-1])}\nlayer 1 / layer {count}: -1e-100"
        box = text_box(ax, [widest], theme.fontsize(8.5), family="DejaVu Sans Mono")
        x, y, ha, va = free_place(occupied, box)
        self.readout = ax.text(x, y, "", transform=ax.transAxes, ha=ha, va=va,
                               fontsize=theme.fontsize(8.5), family="DejaVu Sans Mono",
                               zorder=5)

    def update(self, snapshot):
        norms = np.asarray(snapshot.grad_norms, dtype=float)
        for bar, value in zip(self.bars, norms):
            bar.set_height(max(value, self.low) - self.low if np.isfinite(value) else 0.0)
        ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("nan")
        self.readout.set_text(f"epoch {snapshot.epoch}\n"
                              f"layer 1 / layer {len(norms)}: {ratio:.0e}")
        return [*self.bars, self.readout]


class ChanceCurvePanel(MetricCurvePanel):
    """The loss over the epochs with its reference lines (ln 2, chance), each line's label
    moved to where neither the whole curve (every epoch, so no frame draws over it) nor
    the readout ever is: at the left or right end of the line, above it or below it."""

    #: (x, ha) along the line, in order of preference; above the line before below it.
    ENDS = ((0.01, "left"), (0.99, "right"), (0.5, "center"))

    def setup(self, ax, run) -> None:
        from matplotlib.ticker import MaxNLocator

        from mlviz.panels.placement import box_at, free_place

        super().setup(ax, run)
        # 1-2-5 steps: no 0.025 ticks, whose wider labels would push the y label off a
        # frame-wide panel
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
        if self.x == "epoch":  # whole epochs only (a short run would get 2.5, 7.5, …)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        to_axes = ax.transScale + ax.transLimits
        epochs = np.asarray(run.trace("epoch"), dtype=float)
        values = np.asarray(run.trace(self.trace), dtype=float).reshape(len(epochs), -1)[:, 0]
        ok = np.isfinite(values)
        curve = to_axes.transform(np.column_stack([epochs[ok], values[ok]]))
        dense = np.zeros((0, 2))
        if len(curve):  # the line between the points counts too
            grid = np.linspace(curve[:, 0].min(), curve[:, 0].max(), 801)
            dense = np.column_stack([grid, np.interp(grid, curve[:, 0], curve[:, 1])])
        readout = self.readout.get_position()
        widest = text_box(ax, [f"{self.xlabel} {int(epochs[-1]) if len(epochs) else 0}\n"
                               f"{self.readout_label or self.label} -0.0000e-00"],
                          float(self.readout.get_fontsize()), family="DejaVu Sans Mono")
        room = (max(READOUT_BOX[0], widest[0]), max(READOUT_BOX[1], widest[1]))
        left, bottom, width, height = box_at(
            (*readout, self.readout.get_horizontalalignment(),
             self.readout.get_verticalalignment()), room)
        gx, gy = np.meshgrid(np.linspace(left, left + width, 12),
                             np.linspace(bottom, bottom + height, 8))
        occupied = np.concatenate([curve, dense, np.column_stack([gx.ravel(), gy.ravel()])])
        labels = [t for t in ax.texts if t is not self.readout]
        for label, (_, value) in zip(labels, self.references):
            level = float(to_axes.transform([[epochs[0] if len(epochs) else 0.0, value]])[0, 1])
            box = text_box(ax, [label.get_text()], label.get_fontsize(), pad=4.0)
            places = [(x, level + 0.02, ha, "bottom") for x, ha in self.ENDS] + \
                     [(x, level - 0.02, ha, "top") for x, ha in self.ENDS]
            x, y, ha, va = free_place(occupied, box, places)
            label.remove()  # the annotation at the line's left end, drawn again here
            ax.text(x, y, label.get_text(), transform=ax.transAxes, ha=ha, va=va,
                    fontsize=label.get_fontsize(), color=label.get_color(), zorder=2)
