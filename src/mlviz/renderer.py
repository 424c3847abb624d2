"""The Renderer: lays out a scene, draws the static parts once, and blits each frame."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING

import numpy as np

from .scene import Scene
from .style import STYLE
from .trainer import Run

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    from .writers import Writer

DEFAULT_DPI = 100


class Renderer:
    """Turns a :class:`Run` into RGB frames through the panels of a :class:`Scene`.

    ``frames()`` yields one ``(height, width, 3)`` uint8 array per snapshot. Static content
    is rendered once into a background; each frame restores it and draws only the artists
    the panels returned. A panel whose ``update`` returns ``None`` forces a full redraw of
    that frame.
    """

    def __init__(self, scene: Scene, run: Run, dpi: float = DEFAULT_DPI) -> None:
        if run.n_frames == 0:
            raise ValueError("the run has no snapshot to draw")
        self.scene = scene
        self.run = run
        self.dpi = dpi

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of each frame in pixels."""
        w, h = self.scene.figsize
        return int(round(w * self.dpi)), int(round(h * self.dpi))

    def _build(self) -> Figure:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        scene = self.scene
        fig = Figure(figsize=scene.figsize, dpi=self.dpi, layout="constrained")
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(
            scene.rows, scene.cols,
            width_ratios=scene.width_ratios, height_ratios=scene.height_ratios,
        )
        for index, panel in enumerate(scene.panels):
            row, col = divmod(index, scene.cols)
            ax = fig.add_subplot(grid[row, col], projection=panel.projection)
            panel.setup(ax, self.run)
        if scene.title:
            fig.suptitle(scene.title)
        return fig

    def _update(self, index: int) -> tuple[list[Artist], bool]:
        """Update every panel to snapshot ``index``: (changed artists, needs full redraw)."""
        snapshot = self.run.snapshots[index]
        changed: list[Artist] = []
        full = False
        for panel in self.scene.panels:
            artists = panel.update(snapshot)
            if artists is None:
                full = True
            else:
                changed.extend(artists)
        return changed, full

    def frames(
        self,
        on_frame: Callable[[int], None] | None = None,
        indices: Sequence[int] | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield each frame (or only those at ``indices``) as an RGB array, in order."""
        import matplotlib

        with ExitStack() as stack:
            stack.enter_context(matplotlib.rc_context(STYLE))
            fig = self._build()
            canvas = fig.canvas
            background = None
            for index in range(self.run.n_frames) if indices is None else indices:
                changed, full = self._update(index)
                for artist in changed:
                    artist.set_animated(True)
                if background is None or full:
                    canvas.draw()  # static content (the layout is settled on the first draw)
                    fig.set_layout_engine("none")
                    if not full:
                        background = canvas.copy_from_bbox(fig.bbox)
                else:
                    canvas.restore_region(background)
                _draw_artists(canvas.get_renderer(), changed)
                yield _rgb_frame(canvas)
                if on_frame is not None:
                    on_frame(index)

    def figure_at(self, index: int = -1) -> Figure:
        """A static figure showing frame ``index`` (for notebooks, tests and posters)."""
        import matplotlib

        index = range(self.run.n_frames)[index]
        with matplotlib.rc_context(STYLE):
            fig = self._build()
            changed, _ = self._update(index)
            for artist in changed:
                artist.set_animated(False)
            fig.canvas.draw()
            fig.set_layout_engine("none")
        return fig

    def render(self, writer: Writer, on_frame: Callable[[int], None] | None = None) -> int:
        """Write the frames ``writer`` needs (the caller closes it); return how many.

        A poster writer (``writer.last_frame_only``) gets the last frame alone.
        """
        indices = [self.run.n_frames - 1] if writer.last_frame_only else None
        count = 0
        for frame in self.frames(on_frame, indices):
            writer.write(frame)
            count += 1
        return count


def _draw_artists(renderer, artists: list[Artist]) -> None:
    """Draw animated artists in z-order; 3D collections are projected first."""
    for artist in sorted(artists, key=lambda a: a.get_zorder()):
        project = getattr(artist, "do_3d_projection", None)
        if project is not None:
            project()
        artist.draw(renderer)


def _rgb_frame(canvas) -> np.ndarray:
    """A fresh (height, width, 3) uint8 copy of the canvas (Pillow drops alpha fastest)."""
    from PIL import Image

    width, height = canvas.get_width_height(physical=True)
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    return np.asarray(rgba.convert("RGB"))
