"""Checks of how a themed frame looks, shared by the plugins' tests (not a test module)."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb, to_rgba


def luminance(color) -> float:
    """WCAG relative luminance of a matplotlib colour."""
    rgb = np.array(to_rgb(color))
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast(a, b) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def assert_dark_poster(prepared, frame: int = -1) -> None:
    """Frame ``frame`` of ``prepared`` drawn with the dark theme has the theme's dark
    background (and most of the frame is dark), every visible text readable on it (light,
    not the light theme's ink), and no light box behind a legend or a label."""
    from mlviz.theme import DARK

    styled = prepared.styled(theme="dark")
    fig = styled.renderer().figure_at(frame)
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    background = np.round(np.array(to_rgb(DARK.background)) * 255)
    for corner in (pixels[0, 0], pixels[-1, -1], pixels[0, -1], pixels[-1, 0]):
        assert np.abs(corner - background).max() <= 1, corner
    assert luminance(DARK.background) < 0.05
    grey = pixels.astype(float) @ [0.2126, 0.7152, 0.0722] / 255
    assert np.median(grey) < 0.25, "most of the frame is light"
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_color"))
             if t.get_visible() and t.get_text().strip() and t.get_alpha() != 0]
    assert texts
    for text in texts:
        if not _shown(text, fig):
            continue
        ratio = contrast(text.get_color(), DARK.background)
        assert ratio >= 3, f"text {text.get_text()!r} in {text.get_color()} on the dark " \
                           f"background (contrast {ratio:.2f})"
        box = text.get_bbox_patch()
        if box is not None and box.get_visible() and to_rgba(box.get_facecolor())[3] > 0.2:
            assert luminance(box.get_facecolor()) < 0.2, f"light box behind {text.get_text()!r}"
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None and legend.get_frame_on():
            face = legend.get_frame().get_facecolor()
            assert to_rgba(face)[3] < 0.2 or luminance(face) < 0.2, "a light legend box"


def _shown(text, fig) -> bool:
    """Whether ``text`` lies (at least partly) in the figure."""
    try:
        box = text.get_window_extent(fig.canvas.get_renderer())
    except Exception:
        return True
    return box.overlaps(fig.bbox) and box.width > 0
