"""Where a readout or a legend goes: the first place no curve passes.

Everything is in axes fractions (0 to 1 across the axes, whatever their scale). A panel
turns what it draws into points with :func:`in_axes` (a polyline, sampled densely along it),
measures what it places with :func:`text_box` or :func:`legend_box`, and asks
:func:`free_place` for the first of its *places* whose box holds none of the points. A
place is ``(x, y, ha, va)``: the anchor and the alignment of the text or legend there;
:func:`places_of` builds them from matplotlib's ``loc`` names, :func:`legend_loc` goes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.legend import Legend

#: ``(x, y, ha, va)``: an anchor in axes fractions and how the box aligns to it.
Place = tuple[float, float, str, str]
#: ``(width, height)`` in axes fractions.
Box = tuple[float, float]

_VA = {"upper": "top", "lower": "bottom", "center": "center"}  # loc word -> va


def places_of(*locs: str, margin: float | tuple[float, float] = 0.03,
              middle: float = 0.5) -> tuple[Place, ...]:
    """The places of matplotlib ``loc`` names (``"upper right"``, ``"lower center"``,
    ``"center left"``…), in the order given: ``margin`` (x and y, or both) in from the
    edges; the ``"center …"`` ones at height ``middle``."""
    mx, my = (margin, margin) if isinstance(margin, (int, float)) else margin
    xs = {"left": mx, "right": 1 - mx, "center": 0.5}
    ys = {"top": 1 - my, "bottom": my, "center": middle}
    out = []
    for loc in locs:
        vertical, _, horizontal = loc.partition(" ")
        ha, va = horizontal or "center", _VA[vertical]
        out.append((xs[ha], ys[va], ha, va))
    return tuple(out)


#: The default order of preference: the corners (upper right first), then the middles of
#: the top and bottom edges, then of the sides.
PLACES = places_of("upper right", "upper left", "lower right", "lower left",
                   "upper center", "lower center", "center right", "center left")


def legend_loc(place: Place) -> str:
    """matplotlib's ``loc`` for a place (its alignment)."""
    _, _, ha, va = place
    vertical = {"top": "upper", "bottom": "lower", "center": "center"}[va]
    return "center" if (ha, va) == ("center", "center") else f"{vertical} {ha}"


def in_axes(ax: Axes, xs, ys, samples: int = 400) -> np.ndarray:
    """The polyline through (``xs``, ``ys``) (data coordinates, any scale) as points in axes
    fractions, one row each, sampled along it as drawn (straight between its points on
    screen), so a box that a segment crosses holds some of them. Non-finite points are left
    out; ``samples`` is about how many points the whole polyline gets (at least the ends of
    each segment)."""
    points = np.column_stack([np.asarray(xs, float).ravel(), np.asarray(ys, float).ravel()])
    points = points[np.all(np.isfinite(points), axis=1)]
    if not len(points):
        return np.empty((0, 2))
    fractions = (ax.transScale + ax.transLimits).transform(points)
    if len(fractions) == 1:
        return fractions
    steps = np.linspace(0.0, 1.0, max(2, samples // (len(fractions) - 1) + 2))
    return np.concatenate([a + steps[:, None] * (b - a)
                           for a, b in zip(fractions[:-1], fractions[1:])])


def artist_box(ax: Axes, width: float, height: float) -> Box:
    """``width`` x ``height`` pixels in ``ax``'s axes fractions (its size before layout)."""
    box = ax.get_position()
    return (width / max(box.width * ax.figure.bbox.width, 1.0),
            height / max(box.height * ax.figure.bbox.height, 1.0))


def text_box(ax: Axes, texts: Iterable[str], points: float, family: str | None = None,
             pad: float = 8.0) -> Box:
    """The room the widest and the tallest of ``texts`` take at ``points`` (measured), in
    ``ax``'s axes fractions, plus ``pad`` pixels each way. The axes' size is the one before
    the layout (a little smaller than drawn: the estimate errs on the generous side)."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg
    font = FontProperties(family=family or rcParams["font.family"], size=points)
    width = height = 0.0
    for text in texts:
        lines = text.split("\n")
        width = max(width, *(renderer.get_text_width_height_descent(
            line, font, ismath="$" in line)[0] for line in lines))
        height = max(height, len(lines) * points * 1.25 * ax.figure.dpi / 72)
    return artist_box(ax, width + pad, height + pad)


def legend_box(ax: Axes, legend: Legend) -> Box:
    """The room ``legend`` takes (as drawn now, plus 6 pixels), in ``ax``'s axes fractions."""
    extent = legend.get_window_extent(
        ax.figure.canvas.get_renderer())  # type: ignore[attr-defined]  # Agg
    return artist_box(ax, extent.width + 6, extent.height + 6)


def box_at(place: Place, box: Box) -> tuple[float, float, float, float]:
    """(left, bottom, width, height) of ``box`` put at ``place`` (axes fractions)."""
    x, y, ha, va = place
    width, height = box
    left = {"left": x, "right": x - width, "center": x - width / 2}[ha]
    bottom = {"bottom": y, "top": y - height, "center": y - height / 2}[va]
    return left, bottom, width, height


def hits(occupied: np.ndarray, place: Place, box: Box) -> int:
    """How many of the ``occupied`` points (rows, axes fractions) ``box`` at ``place``
    holds, its edges included."""
    left, bottom, width, height = box_at(place, box)
    inside = ((occupied[:, 0] >= left) & (occupied[:, 0] <= left + width)
              & (occupied[:, 1] >= bottom) & (occupied[:, 1] <= bottom + height))
    return int(inside.sum())


def first_free(occupied: np.ndarray, box: Box, places: Sequence[Place] = PLACES
               ) -> Place | None:
    """The first of ``places`` whose ``box`` holds none of the ``occupied`` points; ``None``
    if each holds some."""
    for place in places:
        if not hits(occupied, place, box):
            return place
    return None


def free_place(occupied: np.ndarray, box: Box, places: Sequence[Place] = PLACES) -> Place:
    """The first of ``places`` whose ``box`` holds none of the ``occupied`` points (axes
    fractions); else the one holding the fewest (the earlier of equals)."""
    counts = []
    for place in places:
        counts.append(hits(occupied, place, box))
        if not counts[-1]:
            return place
    return places[int(np.argmin(counts))]


def place_legend(ax: Axes, legend: Legend, occupied: np.ndarray,
                 places: Sequence[Place] = PLACES) -> Place:
    """Move ``legend`` (as wide as it will ever be) to the first of ``places`` where it
    covers none of the ``occupied`` points (else the fewest); returns that place."""
    place = free_place(occupied, legend_box(ax, legend), places)
    legend.set_loc(legend_loc(place))
    return place


def filled(left: float, bottom: float, width: float, height: float) -> np.ndarray:
    """Points filling a box (axes fractions): something placed, for the next placement."""
    gx, gy = np.meshgrid(np.linspace(left, left + width, 12),
                         np.linspace(bottom, bottom + height, 8))
    return np.column_stack([gx.ravel(), gy.ravel()])
