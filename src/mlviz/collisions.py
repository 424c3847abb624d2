"""Text that collides: which drawn texts of a figure overlap, which leave the frame, and
which stand in another panel.

The check behind :func:`mlviz.testing.text_collisions`. It records every text the figure
really draws (titles, axis and tick labels, legend entries, readouts, figure texts; a tick
outside the view is never drawn, so never counted) with its box in pixels and the panel
(axes) it belongs to.
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
    #: The axes the text belongs to (its own, or its axis's); None for a figure's text.
    axes: Any = None


@contextmanager
def _recording(found: list[tuple[Any, Bbox]]) -> Iterator[None]:
    from matplotlib.text import Text

    original = Text.draw

    def draw(self: Text, renderer: Any) -> None:
        original(self, renderer)
        if not self.get_visible() or not self.get_text().strip() or self.get_alpha() == 0:
            return
        box = self.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            found.append((self, box))

    Text.draw = draw  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        Text.draw = original  # type: ignore[method-assign]


def drawn_texts(fig: Figure) -> list[DrawnText]:
    """Every text ``fig`` draws, with its box (the figure is drawn once more for this)."""
    from matplotlib.text import Text

    found: list[tuple[Any, Bbox]] = []
    with _recording(found):
        fig.canvas.draw()
    owners: dict[int, Any] = {}
    for ax in fig.axes:  # tick and axis labels do not know their axes: found from above
        for text in ax.findobj(Text):
            owners.setdefault(id(text), ax)
    return [DrawnText(text.get_text(), box, owners.get(id(text))) for text, box in found]


def text_collisions(fig: Figure, tolerance: float = 1.0) -> list[str]:
    """What collides in ``fig``: every pair of drawn texts whose boxes overlap by more than
    ``tolerance`` pixels both ways, every text reaching past the frame by more than
    ``tolerance``, and every text standing that far inside a 2-D panel it is not part of
    (a 3D panel's axis label over the panel beside it; not a twin or an inset of its own).
    Empty when nothing does."""
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
    problems += _in_other_panels(fig, texts, tolerance)
    return problems


def _in_other_panels(fig: Figure, texts: list[DrawnText], tolerance: float) -> list[str]:
    """Texts drawn inside a visible 2-D axes they do not belong to. A 3D axes is not
    checked as the one entered: its box holds much empty room around the drawing."""
    problems = []
    seen = set()
    for ax in fig.axes:
        if ax.name == "3d" or not ax.get_visible() or ax.bbox.bounds in seen:
            continue  # a twin's area is its panel's: checked once
        seen.add(ax.bbox.bounds)
        area = ax.bbox
        for drawn in texts:
            owner = drawn.axes
            if owner is ax or (owner is not None and (
                    owner in ax.child_axes or ax in owner.child_axes
                    or owner.bbox.bounds == area.bounds)):  # its own inset, or a twin
                continue
            dx = min(drawn.box.x1, area.x1) - max(drawn.box.x0, area.x0)
            dy = min(drawn.box.y1, area.y1) - max(drawn.box.y0, area.y0)
            if dx > tolerance and dy > tolerance:
                where = f"the panel '{owner.get_title()}'" if owner is not None else "the figure"
                problems.append(f"{drawn.text!r} of {where} stands {dx:.0f}x{dy:.0f} px inside "
                                f"the panel '{ax.get_title() or ax.get_label()}'")
    return problems
