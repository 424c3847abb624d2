"""The Renderer: draws a :class:`~mlviz.composition.Composition` (a run and its scene, or
several runs laid out together): the static parts once, then each frame by blitting."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from .caption import CaptionBand
from .composition import Composition, Drawing
from .scene import Scene
from .theme import Theme, resolve_theme
from .trainer import Run

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    from .story import Story
    from .writers import Writer

DEFAULT_DPI = 100

#: Draws a renderer's frames in worker processes: given the renderer, the frame indices,
#: the positions wanted first and the number of processes, a context giving ``(position,
#: frame)`` pairs like :meth:`Renderer.draw_in_order` (the front end passes one built on
#: :func:`mlviz.parallel.draw_in_workers`; the renderer itself starts no process).
WorkerSource = Callable[["Renderer", Sequence[int], Sequence[int], int],
                        AbstractContextManager[Iterator[tuple[int, np.ndarray]]]]
#: Draws *and encodes* a renderer's frames in worker processes, writing them to the writer
#: in order: given the renderer, the writer, the frame indices, the number of processes and
#: the per-frame callback, the number written, or ``None`` having done nothing (the front
#: end passes :func:`mlviz.parallel.render_encoding_in_workers`).
EncoderSource = Callable[["Renderer", "Writer", Sequence[int], int,
                          "Callable[[int], None] | None"], "int | None"]


class Renderer:
    """Turns a :class:`~mlviz.composition.Composition` into RGB frames.

    ``Renderer(scene, run)`` draws one run (the one-cell composition);
    ``Renderer(composition)`` draws any. ``frames()`` yields one ``(height, width, 3)``
    uint8 array per frame. Static content is rendered once into a background; each frame
    restores it and draws only the artists the panels returned. A panel whose ``update``
    returns ``None`` forces a full redraw of that frame.

    Every figure it builds (one for ``frames()``, one per ``figure_at()``) sets up its own
    copies of the panels, so the two never disturb each other. Every scene is checked
    against its run (the fields and traces its panels need) before anything is drawn.
    ``story``: draw a caption strip below the panels (the playing chapter's sentence and
    the objective, :mod:`mlviz.caption`); the frame keeps its size. ``workers``: what
    :meth:`render` uses to draw with ``jobs`` > 1 (``None``: it draws here); ``encoders``:
    what it tries first, to have workers encode the frames too (``None``: never).
    """

    def __init__(self, scene: Scene | Composition, run: Run | None = None,
                 dpi: float = DEFAULT_DPI, algorithm: str = "",
                 theme: Theme | str | None = None, story: Story | None = None,
                 workers: WorkerSource | None = None,
                 encoders: EncoderSource | None = None) -> None:
        if isinstance(scene, Composition):
            composition = scene
        else:
            if run is None:
                raise TypeError("Renderer(scene, run) needs a run")
            if run.n_frames == 0:
                raise ValueError("the run has no snapshot to draw")
            composition = Composition.single(scene, run)
        composition.check(algorithm)
        self.composition = composition
        self.dpi = dpi
        self.theme = resolve_theme(theme)
        self.story = story
        self.workers = workers
        self.encoders = encoders

    @property
    def scene(self) -> Scene:
        """The (first) cell's scene."""
        return self.composition.cells[0].scene

    @property
    def run(self) -> Run:
        """The (first) cell's run."""
        return self.composition.cells[0].run

    @property
    def n_frames(self) -> int:
        return self.composition.n_frames

    @property
    def channels(self) -> int:
        """3 (RGB frames), or 4 (RGBA) for a transparent theme."""
        return 4 if self.theme.transparent else 3

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of each frame in pixels."""
        w, h = self.composition.figsize
        return int(round(w * self.dpi)), int(round(h * self.dpi))

    def _build(self) -> tuple[Figure, _Frame]:
        """A new figure with fresh copies of the panels set up on it."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        composition = self.composition
        fig = figure_class()(figsize=composition.figsize, dpi=self.dpi, layout="constrained")
        fig.mlviz_theme = self.theme  # type: ignore[attr-defined]  # drawn in its theme
        FigureCanvasAgg(fig)
        band = None
        if self.story is not None:
            band = CaptionBand(fig, self.story, [int(e) for e in composition.epochs],
                               self.theme)
        drawing = composition.layout.build(fig, composition, self.theme)
        return fig, _Frame(drawing, band)

    def _update(self, frame: _Frame, index: int) -> tuple[list[Artist], bool]:
        """Move the figure to frame ``index``: (changed artists, needs full redraw)."""
        changed, full = frame.drawing.update(index)
        if frame.band is not None:
            changed = [*changed, *frame.band.update(index)]
        return changed, full

    def frames(
        self,
        on_frame: Callable[[int], None] | None = None,
        indices: Sequence[int] | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield each frame (or only those at ``indices``) as an RGB array, in order."""
        with FrameDrawer(self) as drawer:
            for index in range(self.n_frames) if indices is None else indices:
                yield drawer.draw(index)
                if on_frame is not None:
                    on_frame(index)

    def figure_at(self, index: int = -1) -> Figure:
        """A static figure showing frame ``index`` (for notebooks, tests and posters).

        In Jupyter it displays as a PNG image by itself, without pyplot or ``%matplotlib``.
        """
        index = range(self.n_frames)[index]
        with self.theme.context():
            fig, frame = self._build()
            changed, _ = self._update(frame, index)
            for artist in changed:
                artist.set_animated(False)
            fig.canvas.draw()
            settle(fig, _bottom(frame))
        return fig

    def render(self, writer: Writer, on_frame: Callable[[int], None] | None = None,
               jobs: int = 1) -> int:
        """Write the frames ``writer`` needs (the caller closes it); return how many.

        A poster writer (``writer.last_frame_only``) gets the last frame alone. A writer
        that wants some frames ahead (``frames_wanted_first(count)``, then ``prime(frames)``:
        the GIF's palette samples) gets them first; each frame is still drawn once.
        With ``jobs`` > 1 the renderer's ``workers`` draw them in that many processes
        (:mod:`mlviz.parallel`, which draws short or cheap runs here) while this process
        encodes: the frames, and so the file, are the same as with one.
        """
        indices = [self.n_frames - 1] if writer.last_frame_only else list(range(self.n_frames))
        if self.encoders is not None and jobs > 1:  # workers that encode too, where they can
            done = self.encoders(self, writer, indices, jobs, on_frame)
            if done is not None:
                return done
        wanted = getattr(writer, "frames_wanted_first", None)
        first = list(dict.fromkeys(wanted(len(indices)))) if wanted and len(indices) > 1 else []
        if jobs > 1 and self.workers is not None:
            stream = self.workers(self, indices, first, jobs)
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
        with FrameDrawer(self) as drawer:
            yield ((position, drawer.draw(indices[position]))
                   for position in drawing_order(len(indices), first))


class _Frame:
    """A built figure's moving parts: the layout's drawing and the caption band."""

    def __init__(self, drawing: Drawing, band: CaptionBand | None) -> None:
        self.drawing = drawing
        self.band = band


def _bottom(frame: _Frame) -> float:
    """Pixels at the bottom of the frame the panels must leave free (the caption band)."""
    return 0.0 if frame.band is None else frame.band.height_px


def drawing_order(count: int, first: Sequence[int] = ()) -> list[int]:
    """Positions ``0 … count - 1``: those in ``first`` first, then the others in order."""
    early = set(first)
    return [*first, *(p for p in range(count) if p not in early)]


class FrameDrawer:
    """One figure that draws any frame of a renderer on request, blitting.

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
            self.figure, self._frame = renderer._build()
        except BaseException:
            self._stack.close()
            raise
        self._background = None
        self._settled = False

    def draw(self, index: int) -> np.ndarray:
        """Frame ``index`` as a fresh (height, width, 3) uint8 array."""
        changed, full = self._renderer._update(self._frame, index)
        for artist in changed:
            artist.set_animated(True)
        canvas: Any = self.figure.canvas
        if self._background is None or full:
            canvas.draw()  # static content (the layout is settled on the first draw)
            if not self._settled:
                self._settled = True
                settle(self.figure, _bottom(self._frame))
            if not full:
                self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        _draw_artists(canvas.get_renderer(), changed)
        return _rgb_frame(canvas, self._renderer.channels)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> FrameDrawer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


#: The former private name of :class:`FrameDrawer` (used by :mod:`mlviz.parallel`).
_Drawer = FrameDrawer

_FIGURE_CLASS: type | None = None


def skip_artist_docstrings() -> None:
    """Have matplotlib leave out the property tables of its artists' ``set`` docstrings.

    matplotlib writes them for every artist class as it imports (about 0.1 s, a tenth of
    ``mlviz render``'s start-up, which no number of workers shortens); only ``help()``
    shows them. For processes that never show them, e.g. the command line's: call it
    before matplotlib's artists are imported (else it does nothing). Pixels do not change.
    """
    import sys

    if "matplotlib.lines" in sys.modules:  # the artists are written already
        return
    import matplotlib.artist

    if hasattr(matplotlib.artist, "kwdoc"):
        matplotlib.artist.kwdoc = lambda artist: ""


def figure_class() -> type[Figure]:
    """matplotlib's Figure, plus ``_repr_png_`` so that Jupyter shows it as an image."""
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        from io import BytesIO

        from matplotlib.figure import Figure

        class MlvizFigure(Figure):
            """A matplotlib Figure that draws in its theme (``mlviz_theme``) wherever it is
            drawn: a figure drawn again later, outside the renderer (``savefig``, a notebook),
            must make any tick it adds in the theme's fonts, or labels change size and can
            leave the frame. IPython displays it as a PNG image."""

            mlviz_theme: Theme | None = None

            def draw(self, renderer: Any) -> None:
                if self.mlviz_theme is None:
                    return super().draw(renderer)
                with self.mlviz_theme.context():
                    return super().draw(renderer)

            def _repr_png_(self) -> bytes:
                buffer = BytesIO()
                canvas: Any = self.canvas
                canvas.print_png(buffer)
                return buffer.getvalue()

        _FIGURE_CLASS = MlvizFigure
    return _FIGURE_CLASS


def settle(fig: Figure, bottom: float = 0.0, passes: int = 3) -> None:
    """:func:`settle_layout` after the first draw, drawing again while anything moved (a
    shrunk panel may choose other ticks): at most ``passes`` times."""
    for _ in range(passes):
        if not settle_layout(fig, bottom):
            return
        fig.canvas.draw()


def settle_layout(fig: Figure, bottom: float = 0.0) -> bool:
    """Fix the layout the first draw found, and pull panels whose labels reach past the
    frame (or into the ``bottom`` pixels kept for a caption band) back inside it: 3D tick
    labels, which constrained layout does not see, and 2D axis labels pushed out when
    automatic ticks changed with the size constrained layout gave the panel. Shrink each
    such axes by its overflow. Return whether anything moved (then draw again)."""
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width, height = fig.bbox.width, fig.bbox.height
    moved = False
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        box = ax.get_tightbbox(renderer)
        if box is None:
            continue
        left, below = max(0.0, -box.x0), max(0.0, bottom - box.y0)
        right, top = max(0.0, box.x1 - width), max(0.0, box.y1 - height)
        if max(left, below, right, top) <= 1.0:
            continue
        margin = 3.0  # pixels kept free at the edge it reached
        pos = ax.get_position(original=True)
        x0 = pos.x0 + (left + margin * (left > 0)) / width
        x1 = pos.x1 - (right + margin * (right > 0)) / width
        y0 = pos.y0 + (below + margin * (below > 0)) / height
        y1 = pos.y1 - (top + margin * (top > 0)) / height
        if x1 - x0 > 0.05 and y1 - y0 > 0.05:
            ax.set_position((x0, y0, x1 - x0, y1 - y0))
            moved = True
    return moved


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
