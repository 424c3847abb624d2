"""The Renderer: lays out a scene, draws the static parts once, and blits each frame."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

import numpy as np

from .panel import Panel
from .scene import Scene
from .theme import Theme, resolve_theme
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

    Every figure it builds (one for ``frames()``, one per ``figure_at()``) sets up its own
    copies of the scene's panels, so the two never disturb each other. The scene is checked
    against the run (the fields and traces its panels need) before anything is drawn.
    """

    def __init__(self, scene: Scene, run: Run, dpi: float = DEFAULT_DPI,
                 algorithm: str = "", theme: Theme | str | None = None) -> None:
        if run.n_frames == 0:
            raise ValueError("the run has no snapshot to draw")
        scene.check(run, algorithm)
        self.scene = scene
        self.run = run
        self.dpi = dpi
        self.theme = resolve_theme(theme)

    @property
    def channels(self) -> int:
        """3 (RGB frames), or 4 (RGBA) for a transparent theme."""
        return 4 if self.theme.transparent else 3

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of each frame in pixels."""
        w, h = self.scene.figsize
        return int(round(w * self.dpi)), int(round(h * self.dpi))

    def _build(self) -> tuple[Figure, list[Panel]]:
        """A new figure with fresh copies of the scene's panels set up on it."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        scene = self.scene
        fig = _figure_class()(figsize=scene.figsize, dpi=self.dpi, layout="constrained")
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(
            scene.rows, scene.cols,
            width_ratios=scene.width_ratios, height_ratios=scene.height_ratios,
        )
        panels = [copy.deepcopy(panel) for panel in scene.panels]
        for panel in panels:
            panel.theme = self.theme
        for panel, cell in zip(panels, scene.cells):
            ax = fig.add_subplot(grid[cell.top:cell.bottom, cell.left:cell.right],
                                 projection=panel.projection)
            panel.setup(ax, self.run)
        if scene.title:
            _fitted_title(fig, scene.title)
        if scene.legend:
            _figure_legend(fig, scene.legend)
        return fig, panels

    def _update(self, panels: Sequence[Panel], index: int) -> tuple[list[Artist], bool]:
        """Update every panel to snapshot ``index``: (changed artists, needs full redraw)."""
        snapshot = self.run.snapshots[index]
        changed: list[Artist] = []
        full = False
        for panel in panels:
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
        with _Drawer(self) as drawer:
            for index in range(self.run.n_frames) if indices is None else indices:
                yield drawer.draw(index)
                if on_frame is not None:
                    on_frame(index)

    def figure_at(self, index: int = -1) -> Figure:
        """A static figure showing frame ``index`` (for notebooks, tests and posters).

        In Jupyter it displays as a PNG image by itself, without pyplot or ``%matplotlib``.
        """
        index = range(self.run.n_frames)[index]
        with self.theme.context():
            fig, panels = self._build()
            changed, _ = self._update(panels, index)
            for artist in changed:
                artist.set_animated(False)
            fig.canvas.draw()
            if _settle_layout(fig):
                fig.canvas.draw()
        return fig

    def render(self, writer: Writer, on_frame: Callable[[int], None] | None = None,
               jobs: int = 1) -> int:
        """Write the frames ``writer`` needs (the caller closes it); return how many.

        A poster writer (``writer.last_frame_only``) gets the last frame alone. A writer
        that wants some frames ahead (``frames_wanted_first(count)``, then ``prime(frames)``:
        the GIF's palette samples) gets them first; each frame is still drawn once. With
        ``jobs`` > 1 and enough frames, worker processes draw them
        (:mod:`mlviz.parallel`) while this process encodes: the frames, and so the file,
        are the same as with one.
        """
        from . import parallel

        indices = [self.run.n_frames - 1] if writer.last_frame_only else \
            list(range(self.run.n_frames))
        if parallel.worth_it(len(indices), jobs):  # workers that encode too, where they can
            done = parallel.render_encoding_in_workers(self, writer, indices, jobs, on_frame)
            if done is not None:
                return done
        wanted = getattr(writer, "frames_wanted_first", None)
        first = list(dict.fromkeys(wanted(len(indices)))) if wanted and len(indices) > 1 else []
        if parallel.worth_it(len(indices), jobs):
            stream = parallel.draw_in_workers(self, indices, first, jobs)
        else:
            stream = self.draw_in_order(indices, first)
        count = 0
        with stream as drawn:
            ahead = {position: frame for position, frame in (next(drawn) for _ in first)}
            if first:
                writer.prime([ahead[position] for position in first])
            for position, index in enumerate(indices):
                frame = ahead.pop(position) if position in ahead else next(drawn)[1]
                writer.write(frame)
                count += 1
                if on_frame is not None:
                    on_frame(index)
        return count

    @contextmanager
    def draw_in_order(self, indices: Sequence[int], first: Sequence[int] = ()
                      ) -> Iterator[Iterator[tuple[int, np.ndarray]]]:
        """``(position, frame)`` for every position of ``indices``: those in ``first``
        first, in that order, then the others in order; one figure, in this process."""
        with _Drawer(self) as drawer:
            yield ((position, drawer.draw(indices[position]))
                   for position in drawing_order(len(indices), first))


def drawing_order(count: int, first: Sequence[int] = ()) -> list[int]:
    """Positions ``0 … count - 1``: those in ``first`` first, then the others in order."""
    early = set(first)
    return [*first, *(p for p in range(count) if p not in early)]


class _Drawer:
    """One figure that draws any frame of a run on request, blitting.

    The first frame drawn settles the layout and (unless a panel asked for a full redraw)
    leaves the static background; every later frame restores it and draws the changed
    artists. A panel's ``update`` does not depend on earlier frames, so frames can be
    drawn in any order, and a copy of a drawer (a forked worker's) draws exactly the same
    pixels. Use it as a context manager: matplotlib's style stays set until it closes.
    """

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer
        self._stack = ExitStack()
        self._stack.enter_context(renderer.theme.context())
        try:
            self.figure, self._panels = renderer._build()
        except BaseException:
            self._stack.close()
            raise
        self._background = None
        self._settled = False

    def draw(self, index: int) -> np.ndarray:
        """Frame ``index`` of the run as a fresh (height, width, 3) uint8 array."""
        changed, full = self._renderer._update(self._panels, index)
        for artist in changed:
            artist.set_animated(True)
        canvas = self.figure.canvas
        if self._background is None or full:
            canvas.draw()  # static content (the layout is settled on the first draw)
            if not self._settled:
                self._settled = True
                if _settle_layout(self.figure):
                    canvas.draw()
            if not full:
                self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        _draw_artists(canvas.get_renderer(), changed)
        return _rgb_frame(canvas, self._renderer.channels)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> _Drawer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_FIGURE_CLASS: type | None = None


def _figure_class() -> type[Figure]:
    """matplotlib's Figure, plus ``_repr_png_`` so that Jupyter shows it as an image."""
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        from io import BytesIO

        from matplotlib.figure import Figure

        class MlvizFigure(Figure):
            """A matplotlib Figure that IPython displays as a PNG image."""

            def _repr_png_(self) -> bytes:
                buffer = BytesIO()
                self.canvas.print_png(buffer)
                return buffer.getvalue()

        _FIGURE_CLASS = MlvizFigure
    return _FIGURE_CLASS


def _settle_layout(fig: Figure) -> bool:
    """Fix the layout the first draw found, and pull 3D panels whose tick labels reach
    past the frame back inside it (constrained layout does not see 3D tick labels): shrink
    each such axes by its overflow. Return whether anything moved (then draw again)."""
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    moved = False
    for ax in fig.axes:
        if getattr(ax, "name", "") != "3d" or not ax.get_visible():
            continue
        box = ax.get_tightbbox(renderer)
        if box is None:
            continue
        left, bottom = max(0.0, -box.x0), max(0.0, -box.y0)
        right, top = max(0.0, box.x1 - width), max(0.0, box.y1 - height)
        if max(left, bottom, right, top) <= 1.0:
            continue
        margin = 3.0  # pixels kept free at the edge it reached
        pos = ax.get_position(original=True)
        x0 = pos.x0 + (left + margin * (left > 0)) / width
        x1 = pos.x1 - (right + margin * (right > 0)) / width
        y0 = pos.y0 + (bottom + margin * (bottom > 0)) / height
        y1 = pos.y1 - (top + margin * (top > 0)) / height
        if x1 - x0 > 0.05 and y1 - y0 > 0.05:
            ax.set_position((x0, y0, x1 - x0, y1 - y0))
            moved = True
    return moved


def _fitted_title(fig: Figure, text: str) -> None:
    """The figure's title, broken into two lines (at the space nearest its middle) when one
    line would be wider than the frame, as a large font scale makes it."""
    title = fig.suptitle(text)
    renderer = fig.canvas.get_renderer()
    if "\n" in text or title.get_window_extent(renderer).width <= 0.97 * fig.bbox.width:
        return
    spaces = [i for i, c in enumerate(text) if c == " "]
    if spaces:
        cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
        title.set_text(f"{text[:cut]}\n{text[cut + 1:]}")


def _figure_legend(fig: Figure, place: str) -> None:
    """One legend for the whole figure: every labelled artist of every panel, once each."""
    handles: dict[str, Artist] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if not handles:
        return
    if place not in ("lower center", "upper center"):
        fig.legend(handles.values(), handles.keys(), loc=f"outside {place}", ncols=1)
        return
    renderer = fig.canvas.get_renderer()
    for rows in range(1, len(handles) + 1):  # one row if it fits the width, else more
        columns = -(-len(handles) // rows)
        legend = fig.legend(handles.values(), handles.keys(), loc=f"outside {place}",
                            ncols=columns)
        if columns == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return
        legend.remove()


def _draw_artists(renderer, artists: list[Artist]) -> None:
    """Draw animated artists in z-order; 3D collections are projected first."""
    for artist in sorted(artists, key=lambda a: a.get_zorder()):
        project = getattr(artist, "do_3d_projection", None)
        if project is not None:
            project()
        artist.draw(renderer)


def _rgb_frame(canvas, channels: int = 3) -> np.ndarray:
    """A fresh (height, width, 3) uint8 copy of the canvas (Pillow drops alpha fastest),
    or (height, width, 4) with its alpha for ``channels=4``."""
    from PIL import Image

    width, height = canvas.get_width_height(physical=True)
    if channels == 4:
        return np.array(canvas.buffer_rgba(), dtype=np.uint8, copy=True)
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    return np.asarray(rgba.convert("RGB"))
