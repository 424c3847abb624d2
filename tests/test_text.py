"""Text never collides: the check itself, and every built-in scene drawn three ways."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from mlviz import prepare
from mlviz.testing import text_collisions

#: The three drawings of issue 18: default; larger fonts; a dark full-HD slide.
DRAWINGS = {
    "default": {},
    "font-scale 1.3": {"font_scale": 1.3},
    "1920x1080 dark": {"size": (1920, 1080), "theme": "dark"},
}


def _figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(4, 3), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def test_two_texts_in_one_place_collide_and_apart_do_not():
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_xlim(0, 10)
    ax.text(2, 0.5, "first label")
    ax.text(2.3, 0.52, "second label")
    ax.text(7, 0.1, "alone")
    found = text_collisions(fig)
    assert len(found) == 1 and "'first label' and 'second label'" in found[0]


def test_a_text_past_the_edge_is_reported():
    fig = _figure()
    fig.text(0.9, 0.5, "runs off the right edge")
    found = text_collisions(fig)
    assert len(found) == 1 and "reaches past the 400x300 frame" in found[0]


def test_ticks_outside_the_view_are_not_counted():
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_xticks([0, 5, 10, 50])  # 50 is outside the view: never drawn
    ax.set_xlim(0, 10)
    ax.set_title("title")
    assert text_collisions(fig) == []


def test_neighbouring_tick_labels_that_touch_are_found():
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_xticks([0, 0.2, 0.4], ["a long tick label", "another long one", "x"])
    assert any("'a long tick label' and 'another long one'" in p for p in text_collisions(fig))


def test_a_label_standing_in_the_panel_beside_it_is_found():
    """An axis label pushed over the panel on its left (the optimizers scene's 3D z label
    stood 9 px inside its contour panel); a twin's and an inset's texts over their own
    panel are not collisions."""
    fig = _figure()
    fig.set_size_inches(8, 3)
    left = fig.add_axes((0.08, 0.15, 0.38, 0.75))
    left.set_title("contours")
    right = fig.add_axes((0.65, 0.15, 0.3, 0.75))
    right.set_ylabel("a long height label", labelpad=130)
    twin = left.twinx()
    twin.set_yticks([])
    twin.text(0.1, 0.2, "twin's readout", transform=twin.transAxes)
    inset = left.inset_axes((0.55, 0.55, 0.4, 0.4))
    inset.set_title("inset")
    inset.set_xticks([])
    inset.set_yticks([])
    found = text_collisions(fig)
    assert len(found) == 1 and "'a long height label' of the panel '' stands" in found[0] \
        and "inside the panel 'contours'" in found[0], found
    right.yaxis.labelpad = 4
    assert text_collisions(fig) == []


@pytest.mark.slow
def test_no_built_in_scene_has_colliding_text_in_any_of_the_three_drawings():
    from test_conformance import FAST

    problems = {}
    for name, fast in FAST.items():
        prepared = prepare(name, frames=2, **fast)
        for way, options in DRAWINGS.items():
            found = text_collisions(prepared.styled(**options).renderer().figure_at(-1))
            if found:
                problems[f"{name} ({way})"] = found
    assert problems == {}
