"""mlviz.panels.placement: where a readout or a legend goes (the first place no curve passes)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mlviz.panels.placement import (
    PLACES,
    artist_box,
    box_at,
    filled,
    first_free,
    free_place,
    hits,
    in_axes,
    legend_loc,
    place_legend,
    places_of,
    text_box,
)

UPPER_RIGHT, UPPER_LEFT, LOWER_RIGHT, LOWER_LEFT = PLACES[:4]
BOX = (0.3, 0.2)


def axes(size=(4.0, 3.0), dpi=100, **limits):
    """An axes filling a ``size``-inch figure (an Agg canvas: text can be measured)."""
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(limits.get("xlim", (0.0, 1.0)))
    ax.set_ylim(limits.get("ylim", (0.0, 1.0)))
    return ax


def test_places_of_reads_matplotlib_locs():
    assert PLACES == ((0.97, 0.97, "right", "top"), (0.03, 0.97, "left", "top"),
                      (0.97, 0.03, "right", "bottom"), (0.03, 0.03, "left", "bottom"),
                      (0.5, 0.97, "center", "top"), (0.5, 0.03, "center", "bottom"),
                      (0.97, 0.5, "right", "center"), (0.03, 0.5, "left", "center"))
    assert places_of("upper left", "center right", "center", margin=(0.03, 0.05),
                     middle=0.55) == ((0.03, 0.95, "left", "top"),
                                      (0.97, 0.55, "right", "center"),
                                      (0.5, 0.55, "center", "center"))
    with pytest.raises(KeyError):
        places_of("top left")


@pytest.mark.parametrize("loc", ["upper right", "lower left", "center right", "upper center",
                                 "center"])
def test_legend_loc_inverts_places_of(loc):
    assert legend_loc(places_of(loc)[0]) == loc


def test_free_place_picks_the_first_free_place():
    empty = np.empty((0, 2))
    assert free_place(empty, BOX) == UPPER_RIGHT
    taken = np.array([[0.9, 0.9]])  # in the upper right box only
    assert free_place(taken, BOX) == UPPER_LEFT
    assert first_free(taken, BOX) == UPPER_LEFT
    # the caller's order of preference
    assert free_place(taken, BOX, (LOWER_LEFT, UPPER_LEFT)) == LOWER_LEFT


def test_free_place_falls_back_to_the_place_with_fewest_points():
    corners = PLACES[:4]
    # every corner holds some: 3 points in the upper right, 1 lower left, 2 elsewhere
    occupied = np.array([[0.9, 0.9], [0.8, 0.85], [0.85, 0.8],
                         [0.1, 0.9], [0.2, 0.85],
                         [0.9, 0.1], [0.8, 0.15],
                         [0.1, 0.1]])
    assert first_free(occupied, BOX, corners) is None
    assert [hits(occupied, place, BOX) for place in corners] == [3, 2, 2, 1]
    assert free_place(occupied, BOX, corners) == LOWER_LEFT
    # equals: the earlier one
    assert free_place(occupied[:7], BOX, corners[:3]) == UPPER_LEFT


def test_free_place_respects_the_alignment():
    assert box_at((0.5, 0.5, "right", "top"), BOX) == pytest.approx((0.2, 0.3, 0.3, 0.2))
    assert box_at((0.5, 0.5, "left", "bottom"), BOX) == pytest.approx((0.5, 0.5, 0.3, 0.2))
    assert box_at((0.5, 0.5, "center", "center"), BOX) == pytest.approx((0.35, 0.4, 0.3, 0.2))
    point = np.array([[0.4, 0.45]])  # left of and under the anchor (0.5, 0.5)
    left_up = (0.5, 0.5, "left", "bottom")  # the box lies right of and above the anchor
    right_down = (0.5, 0.5, "right", "top")  # left of and below: holds the point
    centred = (0.5, 0.5, "center", "center")  # round it: holds the point
    right_up = (0.5, 0.5, "right", "bottom")  # left of it but above: misses it
    assert free_place(point, BOX, (right_down, centred, right_up)) == right_up
    assert free_place(point, BOX, (right_down, left_up)) == left_up
    assert hits(point, right_down, BOX) == hits(point, centred, BOX) == 1
    # the box's edges count
    assert hits(np.array([[0.2, 0.3]]), right_down, BOX) == 1
    assert hits(np.array([[0.19, 0.3]]), right_down, BOX) == 0


def test_in_axes_samples_a_segment_so_a_box_it_crosses_holds_points():
    ax = axes(xlim=(0.0, 10.0), ylim=(0.0, 10.0))
    ends = in_axes(ax, [0.0, 10.0], [0.0, 10.0], samples=100)
    assert ends[0] == pytest.approx([0.0, 0.0]) and ends[-1] == pytest.approx([1.0, 1.0])
    assert len(ends) >= 100
    assert np.allclose(ends[:, 0], ends[:, 1])  # all on the diagonal, as drawn
    middle = (0.5, 0.5, "center", "center")
    small = (0.05, 0.05)
    assert hits(ends, middle, small) > 0  # crossed in its middle, far from both ends
    assert hits(ends[[0, -1]], middle, small) == 0  # the ends alone would miss it
    assert first_free(ends, small, (middle, (0.97, 0.03, "right", "bottom"))) == \
        (0.97, 0.03, "right", "bottom")
    # non-finite points are left out; nothing left: no points
    assert np.isfinite(in_axes(ax, [0.0, np.nan, 10.0], [0.0, 5.0, np.inf])).all()
    assert in_axes(ax, [np.nan], [1.0]).shape == (0, 2)
    assert in_axes(ax, [5.0], [2.5]) == pytest.approx(np.array([[0.5, 0.25]]))


def test_in_axes_follows_log_axes():
    ax = axes(xlim=(1.0, 100.0), ylim=(1e-3, 1e3))
    ax.set_xscale("log")
    ax.set_yscale("log")
    assert in_axes(ax, [10.0], [1.0]) == pytest.approx(np.array([[0.5, 0.5]]))
    points = in_axes(ax, [1.0, 100.0], [1e-3, 1e3], samples=50)
    # straight on screen: the middle sample is (10, 1) in data, not (50.5, 500)
    assert np.allclose(points[:, 0], points[:, 1])
    assert hits(points, (0.5, 0.5, "center", "center"), (0.04, 0.04)) > 0


def test_text_box_grows_with_the_text():
    ax = axes()
    short = text_box(ax, ["w = 1"], 9)
    wide = text_box(ax, ["w = 1.2345678 (step 12)"], 9)
    assert wide[0] > 2 * short[0] and wide[1] == pytest.approx(short[1])
    assert text_box(ax, ["w = 1", "w = 1.2345678 (step 12)"], 9) == pytest.approx(wide)
    tall = text_box(ax, ["w = 1\nstep 12"], 9)
    assert tall[1] > 1.5 * short[1]
    bigger = text_box(ax, ["w = 1"], 18)
    assert bigger[0] > 1.5 * short[0] and bigger[1] > 1.5 * short[1]
    padded = text_box(ax, ["w = 1"], 9, pad=28)
    assert padded == pytest.approx((short[0] + 20 / 400, short[1] + 20 / 300))


def test_artist_box_is_pixels_in_axes_fractions():
    ax = axes(size=(4.0, 3.0), dpi=100)  # 400 x 300 pixels
    assert artist_box(ax, 40, 30) == pytest.approx((0.1, 0.1))
    ax.set_position((0.0, 0.0, 0.5, 0.5))
    assert artist_box(ax, 40, 30) == pytest.approx((0.2, 0.2))


def test_place_legend_moves_it_off_the_curve():
    ax = axes()
    ax.plot([0.0, 1.0], [0.0, 1.0], label="a curve")
    legend = ax.legend()
    occupied = in_axes(ax, [0.0, 1.0], [0.0, 1.0])  # the diagonal: upper right is taken
    place = place_legend(ax, legend, occupied, (UPPER_RIGHT, LOWER_RIGHT, UPPER_LEFT))
    assert place == LOWER_RIGHT
    ax.figure.canvas.draw()
    extent = legend.get_window_extent().transformed(ax.transAxes.inverted())
    assert extent.x0 > 0.5 and extent.y1 < 0.5


def test_filled_covers_its_box():
    points = filled(0.2, 0.3, 0.4, 0.1)
    assert points.min(axis=0) == pytest.approx([0.2, 0.3])
    assert points.max(axis=0) == pytest.approx([0.6, 0.4])
    assert hits(points, (0.4, 0.35, "center", "center"), (0.1, 0.05)) > 0
