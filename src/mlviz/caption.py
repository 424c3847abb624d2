"""The caption strip: a band below the panels with the playing chapter's sentence (left)
and the story's objective (right), drawn into every frame of an animation file.

The band takes its height from the figure, so the frame keeps the requested size; the
panels are laid out above it. A sentence too long for one line is wrapped, and made
smaller until it fits the band; so is the objective; nothing reaches past the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from .story import Story
    from .theme import Theme

#: The band's text size in points (at font scale 1), and its height in lines of that text.
CAPTION_POINTS = 11.0
BAND_LINES = 3.0
#: The smallest the text gets (a share of its size) before a sentence is cut with "…".
MIN_SHRINK = 0.55
#: Free space at the band's left and right edges, and between sentence and objective,
#: as shares of the frame's width.
EDGE, GAP = 0.012, 0.025


class CaptionBand:
    """The band of ``fig`` showing, for frame ``i``, the sentence of the chapter playing at
    ``epochs[i]`` and ``story.objective``. Built before the panels (it reserves its space
    in the figure's constrained layout); :meth:`update` returns the text that changed."""

    def __init__(self, fig: Figure, story: Story, epochs: Sequence[int], theme: Theme) -> None:
        width_in, height_in = fig.get_size_inches()
        points = theme.fontsize(CAPTION_POINTS)
        band_in = min(BAND_LINES * 1.25 * points / 72, 0.3 * height_in)
        self.height = band_in / height_in  # a share of the figure's height
        self.height_px = band_in * fig.dpi
        engine = fig.get_layout_engine()
        if engine is not None:
            engine.set(rect=(0.0, self.height, 1.0, 1.0 - self.height))  # type: ignore[call-arg]
        self.story = story
        self.chapters = story.frame_chapters([int(e) for e in epochs])
        middle = self.height / 2
        fig.add_artist(_rule(fig, self.height, theme))
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        width_px = fig.bbox.width
        room = width_px * (1 - 2 * EDGE)
        self.objective: Text | None = None
        if story.objective:
            self.objective = fig.text(1 - EDGE, middle, story.objective, ha="right",
                                      va="center", color=theme.text, fontsize=points)
            _shrink_to(self.objective, renderer, 0.45 * room, self.height_px * 0.9, points)
            room -= self.objective.get_window_extent(renderer).width + GAP * width_px
        self.sentence = fig.text(EDGE, middle, "", ha="left", va="center", color=theme.text,
                                 fontsize=points, linespacing=1.15)
        self._fig, self._room, self._points = fig, room, points
        # Each chapter's sentence, wrapped and sized the first time a frame shows it (a
        # worker process fits only the chapters of its frames): (text, font size).
        self.shown: list[tuple[str, float] | None] = [None] * len(story.chapters)

    def update(self, index: int) -> list[Artist]:
        """Show the sentence of frame ``index``'s chapter (none before the first)."""
        chapter = self.chapters[index]
        text, size = ("", self.sentence.get_fontsize()) if chapter is None else \
            self.fitted(chapter)
        self.sentence.set_text(text)
        self.sentence.set_fontsize(size)
        return [self.sentence]


    def fitted(self, chapter: int) -> tuple[str, float]:
        """Chapter ``chapter``'s sentence wrapped to the band, and its font size."""
        shown = self.shown[chapter]
        if shown is None:
            renderer = self._fig.canvas.get_renderer()  # type: ignore[attr-defined]
            shown = self.shown[chapter] = _fit(
                self.sentence, renderer, self.story.chapters[chapter].sentence, self._room,
                self.height_px * 0.92, self._points)
        return shown


def _rule(fig: Figure, y: float, theme: Theme) -> Artist:
    from matplotlib.lines import Line2D

    return Line2D([EDGE, 1 - EDGE], [y, y], transform=fig.transFigure, color=theme.faint,
                  linewidth=0.8)


def _shrink_to(text: Text, renderer, width: float, height: float, points: float) -> None:
    """Make ``text`` smaller (to :data:`MIN_SHRINK` of ``points``) until it fits."""
    size = points
    while size > MIN_SHRINK * points:
        box = text.get_window_extent(renderer)
        if box.width <= width and box.height <= height:
            return
        size *= 0.92
        text.set_fontsize(size)


def _fit(text: Text, renderer, sentence: str, width: float, height: float,
         points: float) -> tuple[str, float]:
    """``sentence`` broken into lines no wider than ``width`` pixels, at the largest size
    (from ``points`` down) at which the lines fit ``height``; at the smallest size, the
    lines that fit, the last cut with "…"."""
    size = points
    while True:
        text.set_fontsize(size)
        lines = _wrap(text, renderer, sentence, width)
        text.set_text("\n".join(lines))
        if text.get_window_extent(renderer).height <= height:
            return "\n".join(lines), size
        if size * 0.92 < MIN_SHRINK * points:
            break
        size *= 0.92
    while len(lines) > 1:  # the smallest size still overflows: keep what fits
        lines = lines[:-1]
        lines[-1] = _ellipsis(text, renderer, lines[-1] + " …", width)
        text.set_text("\n".join(lines))
        if text.get_window_extent(renderer).height <= height:
            break
    return "\n".join(lines), size


def _wrap(text: Text, renderer, sentence: str, width: float) -> list[str]:
    """Greedy word wrap of ``sentence`` at ``text``'s size; a word wider than ``width``
    alone is cut."""
    lines: list[str] = []
    line = ""
    for word in sentence.split():
        candidate = f"{line} {word}" if line else word
        text.set_text(candidate)
        if text.get_window_extent(renderer).width <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
        text.set_text(line)
        if text.get_window_extent(renderer).width > width:  # one word alone is too wide
            line = _ellipsis(text, renderer, line, width)
    if line:
        lines.append(line)
    return lines or [""]


def _ellipsis(text: Text, renderer, line: str, width: float) -> str:
    """``line`` shortened, ending in "…", until it is no wider than ``width``."""
    text.set_text(line)
    while len(line) > 1 and text.get_window_extent(renderer).width > width:
        line = line[:-2].rstrip() + "…"
        text.set_text(line)
    return line
