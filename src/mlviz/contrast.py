"""Text a reader cannot read: a text drawn in a box whose colour is too close to its own.

A plugin written for the light theme may draw a white caption box (``bbox=dict(facecolor=
"white")``) that, in the dark theme, holds light text on white. :func:`low_contrast_texts`
finds such texts in a drawn figure (the conformance check's ``themes`` check uses it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["contrast", "low_contrast_texts"]


def _luminance(rgb: Any) -> float:
    """WCAG relative luminance of an RGB colour (components 0 to 1)."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: Any, b: Any) -> float:
    """WCAG contrast ratio of two opaque colours (1: none, 21: black on white)."""
    from matplotlib.colors import to_rgb

    la, lb = sorted((_luminance(to_rgb(a)), _luminance(to_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def low_contrast_texts(fig: Figure, minimum: float = 3.0) -> list[str]:
    """Texts of a figure drawn in a box (``bbox=``) whose face colour, laid over the
    figure's background, is too close to the text's colour (WCAG contrast below
    ``minimum``): a white caption box in the dark theme, say. One line each."""
    from matplotlib.colors import to_rgba
    from matplotlib.text import Text

    background = np.array(to_rgba(fig.get_facecolor()))
    if background[3] == 0:  # a transparent figure: judge it against white
        background = np.ones(4)
    found = []
    for text in fig.findobj(Text):
        box = text.get_bbox_patch()
        if box is None or not text.get_visible() or not text.get_text().strip():
            continue
        face = np.array(to_rgba(box.get_facecolor()))
        alpha = face[3] * (box.get_alpha() if box.get_alpha() is not None else 1.0)
        shown = alpha * face[:3] + (1 - alpha) * background[:3]
        ratio = contrast(shown, text.get_color())
        if ratio < minimum:
            found.append(f"text {text.get_text()!r} on a box of "
                         f"{_hex(shown)}: contrast {ratio:.1f}, below {minimum:g}")
    return found


def _hex(rgb: Any) -> str:
    from matplotlib.colors import to_hex

    return to_hex((float(rgb[0]), float(rgb[1]), float(rgb[2])))
