"""A Scene: the panels of one animation, their grid, size and title."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .panel import Panel

#: 16:9 at 100 dpi gives 960 x 540 pixels.
DEFAULT_FIGSIZE = (9.6, 5.4)


@dataclass
class Scene:
    """Panels laid out row by row on a ``rows`` x ``cols`` grid (one row by default)."""

    panels: Sequence[Panel]
    title: str = ""
    cols: int | None = None
    figsize: tuple[float, float] = DEFAULT_FIGSIZE
    width_ratios: Sequence[float] | None = None
    height_ratios: Sequence[float] | None = None
    panel_names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if not self.panels:
            raise ValueError("a scene needs at least one panel")
        self.panels = list(self.panels)
        if self.cols is None:
            self.cols = len(self.panels)
        if self.width_ratios is not None and len(self.width_ratios) != self.cols:
            raise ValueError("width_ratios needs one entry per column")
        self.panel_names = [type(p).name or type(p).__name__ for p in self.panels]

    @property
    def rows(self) -> int:
        return math.ceil(len(self.panels) / self.cols)
