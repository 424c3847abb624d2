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
