"""A prepared animation: trained runs, the scene that draws them, and how they look.

:func:`mlviz.prepare` returns a :class:`Prepared` for one run and for a sweep alike: a
sweep is several runs in one composition (``sweep``), a single run the one-cell case.
Everything that draws, saves or plays it (:func:`mlviz.api.write_animation`,
:func:`mlviz.save_run`, the players) uses the same methods whichever it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .algorithm import Algorithm
from .composition import Composition
from .config import Config
from .errors import ContractError, MlvizError
from .limits import MAX_PIXELS, MAX_SIDE
from .renderer import DEFAULT_DPI, Renderer
from .scene import Scene
from .schedule import FrameSchedule
from .story import Chapter, Story, story_problems
from .theme import Theme, resolve_theme
from .thinning import thin_snapshots
from .trainer import Run

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from .plugins import Registry
    from .sweep import Sweep
    from .writers import Writer


#: ``--panel``: one panel is drawn on a figure of this size (inches) at this dpi, so that
#: its frame is the default 1280 x 720 pixels and its text sized for one panel.
PANEL_FIGSIZE = (9.6, 5.4)
PANEL_DPI = 1280 / 9.6 * (1 + 1e-9)  # (a hair more: matplotlib truncates to whole pixels)


@dataclass
class Prepared:
    """Trained runs and the scene to draw them: ready for :class:`~mlviz.Renderer`.

    For one run, ``run``, ``config`` and ``scene`` are its own. For a sweep
    (:func:`mlviz.prepare` with ``sweep=``), ``sweep`` holds every run and its scene
    (:class:`mlviz.sweep.Sweep`); ``run`` and ``scene`` are then its first run's and
    ``config`` the config before the swept values. ``schedule`` is the frame schedule
    training used and ``source`` says where the data came from (empty: the algorithm's
    default dataset). ``story`` is the lesson the algorithm tells about this run
    (``Algorithm.story``; ``None``: none). Save it with :func:`mlviz.save_run`; it
    pickles too.
    """

    algorithm: Algorithm
    config: Config
    run: Run
    scene: Scene
    fps: float
    schedule: FrameSchedule | None = None
    source: str = ""
    #: How it is drawn (see :meth:`styled`): ``None`` is the light theme at 100 dpi.
    theme: Theme | None = None
    dpi: float | None = None
    sweep: Sweep | None = None
    story: Story | None = None

    @property
    def runs(self) -> tuple[Run, ...]:
        """Every run drawn (one, or a sweep's in grid order)."""
        return self.composition().runs

    @property
    def labels(self) -> tuple[str, ...]:
        """What tells the runs apart (``KEY=VALUE``; ``("",)`` for one run)."""
        return tuple(cell.label for cell in self.composition().cells)

    @property
    def n_frames(self) -> int:
        return self.composition().n_frames

    @property
    def stopped(self) -> str:
        """Why training stopped early (``""``: it did not, or a sweep, which marks each run
        on the frame)."""
        return self.run.stopped if self.sweep is None else ""

    @property
    def overlay(self) -> tuple[int, ...]:
        """Indices of the scene's panels drawn once with every run on them (a sweep's)."""
        return () if self.sweep is None else self.sweep.overlay

    def composition(self) -> Composition:
        """The cells drawn, their frames' epochs and their layout."""
        if self.sweep is None:
            return Composition.single(self.scene, self.run)
        return self.sweep.composition()

    def renderer(self, dpi: float | None = None, caption: bool = False) -> Renderer:
        """A renderer of every frame; ``caption`` adds the story's caption strip."""
        return Renderer(self.composition(), dpi=dpi or self.dpi or DEFAULT_DPI,
                        algorithm=self.algorithm.name, theme=self.theme,
                        story=self.story if caption else None, workers=draw_in_workers,
                        encoders=render_encoding_in_workers)

    def captions(self) -> list[str]:
        """One text per frame (:func:`frame_captions`; a sweep's name every run)."""
        return frame_captions(self.run) if self.sweep is None else self.sweep.captions()

    def chapters(self) -> list[tuple[int, str, str]]:
        """``(first frame, title, sentence)`` of each chapter of the story a frame shows."""
        if self.story is None:
            return []
        firsts = self.story.first_frames([int(e) for e in self.composition().epochs])
        return [(first, chapter.title, chapter.sentence)
                for first, chapter in zip(firsts, self.story.chapters) if first is not None]

    def styled(self, *, theme: Theme | str | None = None, font_scale: float | None = None,
               size: tuple[int, int] | str | None = None, panel: str | None = None,
               registry: Registry | None = None) -> Prepared:
        """The same runs drawn differently: ``theme`` (a name such as ``"dark"``, or a
        :class:`~mlviz.theme.Theme`), fonts ``font_scale`` times larger, frames ``size``
        pixels (``(1920, 1080)`` or ``"1920x1080"``: the layout is kept, the resolution
        follows), or only the scene's panel ``panel`` (a name from ``mlviz info``; one
        run only)."""
        chosen = resolve_theme(theme or self.theme, registry, font_scale)
        dpi = self.dpi
        if self.sweep is not None:
            if panel is not None:
                raise MlvizError("--panel draws one panel of one run; a sweep draws them all "
                                 "(use --overlay to choose which are shared)")
            sweep = self.sweep
            if size is not None:
                sweep, dpi = sweep.sized(*parse_size(size))
            return replace(self, sweep=sweep, theme=chosen, dpi=dpi)
        scene = self.scene
        if panel is not None:  # the panel alone, without the scene's title, with the text
            # of a one-panel frame: 9.6 x 5.4 in drawn 1280 x 720 (text a third larger)
            scene = replace(scene.only(panel), title="", figsize=PANEL_FIGSIZE)
            dpi = PANEL_DPI
        if size is not None:
            scene, dpi = scene.sized(*parse_size(size))
        return replace(self, scene=scene, theme=chosen, dpi=dpi)

    def with_frames(self, frames: int | None) -> Prepared:
        """The same runs drawn on at most ``frames`` frames, spread evenly (keyframes and
        the last frame always kept)."""
        if frames is not None and frames < 1:
            raise MlvizError(f"--frames must be at least 1, got {frames}")
        if self.sweep is not None:
            sweep = self.sweep.with_frames(frames)
            return self if sweep is self.sweep else replace(self, sweep=sweep)
        if frames is None or frames >= self.run.n_frames:
            return self
        run = replace(self.run, snapshots=thin_snapshots(self.run.snapshots, frames))
        return replace(self, run=run)

    def with_overlay(self, overlay: str | Sequence[str] | None) -> Prepared:
        """The same runs with other panels overlaid (a sweep's; see
        :func:`mlviz.sweep.choose_overlay`)."""
        if self.sweep is None:
            raise MlvizError("--overlay chooses how a sweep's runs are drawn; this is one "
                             f"run of {self.algorithm.name}")
        sweep = self.sweep.with_overlay(overlay, self.algorithm)
        return replace(self, sweep=sweep, dpi=sweep.dpi)

    def _repr_html_(self) -> str:
        """Jupyter shows a prepared run as the interactive player (every frame, with
        captions); one over the player's size limit shows its last frame and a note."""
        from .player import notebook_player, page_title
        from .writers import DEFAULT_HOLD

        return notebook_player(self.renderer(), self.captions(), fps=self.fps,
                               hold=DEFAULT_HOLD, title=page_title(self),
                               chapters=self.chapters())

    def __repr__(self) -> str:
        if self.sweep is not None:
            return (f"<Prepared {self.algorithm.name}: a sweep of {self.sweep.n_runs} runs "
                    f"({'; '.join(self.sweep.labels)}), {self.sweep.n_frames} frames at "
                    f"{self.fps:g} fps>")
        return (f"<Prepared {self.algorithm.name}: {self.run.n_epochs} epochs, "
                f"{self.run.n_frames} frames at {self.fps:g} fps>")

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """IPython's text form: one short line, not the whole run."""
        printer.text(repr(self))


def draw_in_workers(renderer: Renderer, indices: Sequence[int], first: Sequence[int],
                    jobs: int) -> AbstractContextManager[Iterator[tuple[int, np.ndarray]]]:
    """A renderer's frames drawn by ``jobs`` worker processes where that pays off
    (:mod:`mlviz.parallel`), else here: the renderer's ``workers``."""
    from . import parallel

    if parallel.worth_it(len(indices), jobs):
        return parallel.draw_in_workers(renderer, indices, first, jobs)
    return renderer.draw_in_order(indices, first)


def render_encoding_in_workers(renderer: Renderer, writer: Writer, indices: Sequence[int],
                               jobs: int, on_frame: Callable[[int], None] | None
                               ) -> int | None:
    """Workers that draw and encode the frames, where that pays off
    (:func:`mlviz.parallel.render_encoding_in_workers`): the renderer's ``encoders``."""
    from . import parallel

    if not parallel.worth_it(len(indices), jobs):
        return None
    return parallel.render_encoding_in_workers(renderer, writer, indices, jobs, on_frame)


def tell_story(algorithm: Algorithm, config: Config, run: Run) -> Story | None:
    """``algorithm``'s story of ``run`` (``None``: it tells none), checked: a
    :class:`ContractError` naming the plugin lists what is wrong with it."""
    if algorithm.story is None:
        return None
    story = algorithm.story(config, run)
    if run.stopped and isinstance(story, Story) and len(run.epochs):
        # training stopped early: the chapters it never reached are not told
        last = int(run.epochs[-1])
        told = tuple(c for c in story.chapters
                     if not isinstance(c, Chapter) or not isinstance(c.start, (int, np.integer))
                     or c.start <= last)
        story = replace(story, chapters=told)
    problems = story_problems(story, [int(e) for e in run.epochs])
    if problems:
        plugin = f" (plugin {algorithm.plugin})" if algorithm.plugin else ""
        raise ContractError(f"the story of {algorithm.name}{plugin} is not valid: "
                            f"{'; '.join(problems)}")
    return story


#: ``--size``: each side of a frame at least this many pixels (with the width at least the
#: height, the largest sweep layout, 19.2 x 10.8 in, is then drawn at 10 dpi or more).
MIN_SIDE = 144
#: ``--size``: a frame at most this many times as wide as tall. Scenes are laid out for a
#: landscape frame: taller than wide, their titles and labels run into one another.
MAX_WIDE = 4


def parse_size(size: tuple[int, int] | str) -> tuple[int, int]:
    """``"1920x1080"`` or ``(1920, 1080)`` as (width, height) pixels, checked: each side
    :data:`MIN_SIDE` to :data:`~mlviz.limits.MAX_SIDE` pixels, at most
    :data:`~mlviz.limits.MAX_PIXELS` in all, 1 to :data:`MAX_WIDE` times as wide as tall.
    A :class:`MlvizError` otherwise, in pixels, one line."""
    try:
        if isinstance(size, str):
            width, height = (int(part) for part in size.lower().split("x"))
        else:
            width, height = (int(part) for part in size)
    except (TypeError, ValueError):
        raise MlvizError(f"a size is WIDTHxHEIGHT in pixels, like 1920x1080; got {size!r}") \
            from None
    wrong = [f"{side} pixels is over {MAX_SIDE}" for side in dict.fromkeys((width, height))
             if side > MAX_SIDE]
    wrong += [f"{side} pixels is under {MIN_SIDE}" for side in dict.fromkeys((width, height))
              if side < MIN_SIDE]
    if width * height > MAX_PIXELS and not wrong:
        wrong.append(f"{width * height:,} pixels in all is over {MAX_PIXELS:,}")
    if min(width, height) > 0 and height > width:
        wrong.append("it is taller than wide")
    elif min(width, height) > 0 and width > MAX_WIDE * height:
        wrong.append(f"it is {width / height:.4g} times as wide as tall")
    if wrong:
        raise MlvizError(
            f"size {width}x{height} is out of range ({'; '.join(wrong)}): a frame is "
            f"{MIN_SIDE} to {MAX_SIDE} pixels a side, {MAX_PIXELS:,} pixels at most, and "
            f"1 to {MAX_WIDE} times as wide as tall (e.g. 1920x1080, 1280x1280, 2560x640)")
    return width, height


def frame_captions(run: Run) -> list[str]:
    """One caption per drawn snapshot, from the run's record at that epoch: the epoch, the
    loss (left out when NaN) and every scalar trace the algorithm records (its metrics,
    e.g. ``"epoch 12 · loss 0.0345 · accuracy 0.95"``); parameters are left out.
    A sweep's captions name every run: :meth:`Prepared.captions`."""
    scalars = {name: values for name, values in run.traces.items()
               if values.ndim == 1 and not name.startswith("params.")}
    rows = np.searchsorted(run.epochs, [s.epoch for s in run.snapshots])
    out = []
    for snapshot, row in zip(run.snapshots, rows):
        loss = float(snapshot.loss)
        parts = [f"epoch {snapshot.epoch}", *([f"loss {loss:.4g}"] if loss == loss else [])]
        if row < len(run.epochs) and run.epochs[row] == snapshot.epoch:
            parts += [f"{name} {_number(values[row])}" for name, values in scalars.items()]
        else:  # a thinned run's traces skip this epoch: the snapshot's own values
            parts += [f"{name} {_number(snapshot.value(name))}" for name in scalars
                      if snapshot.has(name)]
        out.append(" · ".join(parts))
    return out


def _number(value: Any) -> str:
    """A trace value for a caption: yes/no for a flag, whole numbers as such, others to 4
    significant digits."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
