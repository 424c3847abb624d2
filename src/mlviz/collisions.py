"""Text that collides: which drawn texts of a figure overlap, and which leave the frame.

The check behind :func:`mlviz.testing.text_collisions`. It records every text the figure
really draws (titles, axis and tick labels, legend entries, readouts, figure texts; a tick
outside the view is never drawn, so never counted) with its box in pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox


@dataclass(frozen=True)
class DrawnText:
    """A text as drawn: its string and its box in display pixels."""

    text: str
    box: Bbox


@contextmanager
def _recording(found: list[DrawnText]) -> Iterator[None]:
    from matplotlib.text import Text

    original = Text.draw

    def draw(self: Text, renderer: Any) -> None:
        original(self, renderer)
        if not self.get_visible() or not self.get_text().strip() or self.get_alpha() == 0:
            return
        box = self.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            found.append(DrawnText(self.get_text(), box))

    Text.draw = draw  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        Text.draw = original  # type: ignore[method-assign]


def drawn_texts(fig: Figure) -> list[DrawnText]:
    """Every text ``fig`` draws, with its box (the figure is drawn once more for this)."""
    found: list[DrawnText] = []
    with _recording(found):
        fig.canvas.draw()
    return found


def text_collisions(fig: Figure, tolerance: float = 1.0) -> list[str]:
    """What collides in ``fig``: every pair of drawn texts whose boxes overlap by more than
    ``tolerance`` pixels both ways, and every text reaching past the frame by more than
    ``tolerance``. Empty when nothing does."""
    texts = drawn_texts(fig)
    width, height = fig.bbox.width, fig.bbox.height
    problems = []
    for drawn in texts:
        box = drawn.box
        if box.x0 < -tolerance or box.y0 < -tolerance or box.x1 > width + tolerance \
                or box.y1 > height + tolerance:
            problems.append(f"{drawn.text!r} reaches past the {width:.0f}x{height:.0f} frame "
                            f"(x {box.x0:.0f}..{box.x1:.0f}, y {box.y0:.0f}..{box.y1:.0f})")
    for i, first in enumerate(texts):
        for second in texts[i + 1:]:
            dx = min(first.box.x1, second.box.x1) - max(first.box.x0, second.box.x0)
            dy = min(first.box.y1, second.box.y1) - max(first.box.y0, second.box.y0)
            if dx <= tolerance or dy <= tolerance:
                continue
            if first.text == second.text and abs(first.box.x0 - second.box.x0) < 0.5 \
                    and abs(first.box.y0 - second.box.y0) < 0.5:
                continue  # one text drawn twice in place (a blitted artist)
            problems.append(f"{first.text!r} and {second.text!r} overlap by {dx:.0f}x{dy:.0f} px")
    return problems
