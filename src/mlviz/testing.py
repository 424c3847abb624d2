"""Helpers for testing panels and scenes with pytest-mpl (``@pytest.mark.mpl_image_compare``).

Example::

    @pytest.mark.mpl_image_compare
    def test_elbow_panel():
        prepared = mlviz.prepare("kmeans", k_max=4)
        return panel_figure(ElbowPanel(), prepared.run, frame=-1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .panel import Panel
from .renderer import Renderer
from .scene import Scene
from .trainer import Run

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def scene_figure(scene: Scene, run: Run, frame: int = -1, dpi: float = 100) -> Figure:
    """The figure of a whole scene at one frame (negative counts from the end)."""
    return Renderer(scene, run, dpi=dpi).figure_at(frame)


def panel_figure(
    panel: Panel, run: Run, frame: int = -1, figsize: tuple[float, float] = (4.8, 4.0),
    dpi: float = 100,
) -> Figure:
    """The figure of a single panel at one frame."""
    return scene_figure(Scene([panel], figsize=figsize), run, frame, dpi)
