"""A Scene: the panels of one animation, where they sit, the figure's size and title."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .panel import Panel

if TYPE_CHECKING:
    from .trainer import Run

#: 16:9 at 100 dpi gives 960 x 540 pixels: the size of a scene of one or two columns.
DEFAULT_FIGSIZE = (9.6, 5.4)
#: The default size grows by a third of 16:9 for each column past two and each row past one.
GROWTH_PER_CELL = 1 / 3
#: Where a figure-wide legend may go (matplotlib's "outside" placements).
LEGEND_PLACES = ("lower center", "upper center", "right", "left")


@dataclass(frozen=True)
class Cell:
    """Where a panel sits on the grid: rows ``top:bottom`` and columns ``left:right``."""

    top: int
    bottom: int
    left: int
    right: int


@dataclass
class Scene:
    """The panels of an animation, laid out on a grid.

    By default panels fill a ``rows`` x ``cols`` grid row by row (one row unless ``cols``
    is given). ``mosaic`` places them instead, in the spirit of matplotlib's
    ``subplot_mosaic``: one letter per panel, rows separated by ``;`` (``"AB;CB"``: B spans
    both rows on the right); ``.`` leaves a cell empty. Each letter must cover a rectangle.
    Bind panels to letters by name with a mapping, ``Scene({"A": loss, "B": regions, "C":
    bars}, mosaic="AB;CB")``: a letter with no panel, or a panel whose letter is not on
    the mosaic, is an error. Given as a sequence, panels take the letters in order of their
    first appearance.

    ``figsize`` defaults to 16:9: 9.6 x 5.4 in (960 x 540 px at 100 dpi) for one row of up
    to two columns, a third larger for each further column or row (three columns: 12.8 x
    7.2 in). ``legend`` puts one figure-wide legend of every panel's
    labelled artists (a label shown once) outside the panels: ``"lower center"``,
    ``"upper center"``, ``"right"`` or ``"left"``.
    """

    panels: Sequence[Panel]  # or Mapping[str, Panel], bound by letter (a list after init)
    title: str = ""
    cols: int | None = None
    figsize: tuple[float, float] | None = None
    width_ratios: Sequence[float] | None = None
    height_ratios: Sequence[float] | None = None
    mosaic: str | None = None
    legend: str | None = None
    #: The mosaic letter of each panel, in order (filled in from a mapping of panels).
    letters: Sequence[str] | None = None
    panel_names: list[str] = field(init=False)
    cells: list[Cell] = field(init=False)
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        if not self.panels:
            raise ValueError("a scene needs at least one panel")
        given: object = self.panels
        if isinstance(given, Mapping):
            if self.mosaic is None:
                raise ValueError("panels bound to letters need a mosaic that places them")
            if self.letters is not None:
                raise ValueError("give panels as a mapping of letters, or letters=, not both")
            self.letters = tuple(str(letter) for letter in given)
            self.panels = list(given.values())
        self.panels = list(self.panels)
        if self.mosaic is not None:
            if self.letters is None:
                self.cells, self.rows, self.cols = parse_mosaic(self.mosaic, len(self.panels))
            else:
                self.letters = tuple(self.letters)
                self.cells, self.rows, self.cols = bind_mosaic(self.mosaic, self.letters,
                                                               self.panels)
        elif self.letters is not None:
            raise ValueError("letters= binds panels to a mosaic: give mosaic= too")
        else:
            if self.cols is None:
                self.cols = len(self.panels)
            if self.cols < 1:
                raise ValueError("cols must be at least 1")
            self.rows = -(-len(self.panels) // self.cols)
            self.cells = [Cell(i // self.cols, i // self.cols + 1, i % self.cols, i % self.cols + 1)
                          for i in range(len(self.panels))]
        if self.width_ratios is not None and len(self.width_ratios) != self.cols:
            raise ValueError("width_ratios needs one entry per column")
        if self.height_ratios is not None and len(self.height_ratios) != self.rows:
            raise ValueError("height_ratios needs one entry per row")
        if self.legend is not None and self.legend not in LEGEND_PLACES:
            raise ValueError(f"legend must be one of {', '.join(LEGEND_PLACES)}, "
                             f"got {self.legend!r}")
        if self.figsize is None:
            scale = 1 + GROWTH_PER_CELL * max(0, self.cols - 2, self.rows - 1)
            self.figsize = (DEFAULT_FIGSIZE[0] * scale, DEFAULT_FIGSIZE[1] * scale)
        self.panel_names = [type(p).name or type(p).__name__ for p in self.panels]

    def only(self, name: str) -> Scene:
        """This scene's panel ``name`` alone, at the default size (``--panel``). Where
        several panels share a name, ``NAME:N`` picks the N-th (from 1)."""
        from .errors import MlvizError

        base, _, number = name.partition(":")
        matches = [i for i, n in enumerate(self.panel_names) if n == base]
        choices = ", ".join(dict.fromkeys(self.panel_names))
        if not matches:
            raise MlvizError(f"no panel '{base}' in this scene; its panels: {choices}")
        if number:
            if not number.isdigit() or not 1 <= int(number) <= len(matches):
                raise MlvizError(f"panel '{name}': the scene has {len(matches)} panel(s) "
                                 f"'{base}'; give {base}:1 to {base}:{len(matches)}")
            index = matches[int(number) - 1]
        elif len(matches) > 1:
            raise MlvizError(f"the scene has {len(matches)} panels '{base}'; choose one with "
                             f"{base}:1 to {base}:{len(matches)}")
        else:
            index = matches[0]
        return Scene([self.panels[index]], title=self.title, legend=self.legend)

    def sized(self, width: int, height: int) -> tuple[Scene, float]:
        """This scene drawn ``width`` x ``height`` pixels: (scene, dpi). The figure keeps
        its area in inches, so text and lines keep their size relative to the panels
        (a bigger frame is sharper, not busier); only the aspect ratio follows the size."""
        assert self.figsize is not None  # set in __post_init__
        figsize, dpi = fit_figsize(self.figsize, width, height)
        return replace(self, figsize=figsize), dpi

    def required_traces(self) -> tuple[str, ...]:
        """Every trace some panel of this scene reads (for :func:`mlviz.train`)."""
        names: list[str] = []
        for panel in self.panels:
            for name in panel.requires()[1]:
                if name not in names:
                    names.append(name)
        return tuple(names)

    def check(self, run: Run, algorithm: str = "") -> None:
        """Raise :class:`~mlviz.errors.ContractError` naming the first panel whose data
        ``run`` lacks: a snapshot field or a trace. Called before the first frame."""
        from .errors import ContractError

        snapshot = run.snapshots[0]
        where = f" in {algorithm}" if algorithm else ""
        for panel, name in zip(self.panels, self.panel_names):
            fields, traces = panel.requires()
            for wanted in fields:
                if not snapshot.has(wanted):
                    raise ContractError(
                        f"panel {name}{where} needs the snapshot field '{wanted}', which "
                        f"{type(snapshot).__name__} does not have"
                    )
            for wanted in traces:
                if not run.has_trace(wanted):
                    raise ContractError(
                        f"panel {name}{where} needs the trace '{wanted}', which the run did "
                        f"not record (recorded: {', '.join(run.trace_names)})"
                    )


def fit_figsize(figsize: tuple[float, float], width: int, height: int
                ) -> tuple[tuple[float, float], float]:
    """(figsize, dpi) giving ``width`` x ``height`` pixels from a figure of the same area as
    ``figsize`` (see :meth:`Scene.sized`)."""
    new_width = math.sqrt(figsize[0] * figsize[1] * width / height)
    # matplotlib truncates inches x dpi to whole pixels: a hair more dpi keeps 1920 from
    # coming out as 1919.99... -> 1919.
    return (new_width, new_width * height / width), width / new_width * (1 + 1e-9)


def mosaic_cells(mosaic: str) -> tuple[dict[str, Cell], int, int]:
    """Every letter's cell on a mosaic like ``"AB;CB"``, in order of first appearance:
    (cells by letter, rows, cols)."""
    rows = [row.strip() for row in mosaic.replace("\n", ";").split(";") if row.strip()]
    if not rows or len({len(row) for row in rows}) != 1:
        raise ValueError(f"mosaic {mosaic!r}: every row needs the same number of cells")
    letters: list[str] = []
    for row in rows:
        for letter in row:
            if letter != "." and letter not in letters:
                letters.append(letter)
    cells = {}
    for letter in letters:
        where = [(r, c) for r, row in enumerate(rows) for c, x in enumerate(row) if x == letter]
        top, bottom = min(r for r, _ in where), max(r for r, _ in where) + 1
        left, right = min(c for _, c in where), max(c for _, c in where) + 1
        if len(where) != (bottom - top) * (right - left):
            raise ValueError(f"mosaic {mosaic!r}: panel '{letter}' does not cover a rectangle")
        cells[letter] = Cell(top, bottom, left, right)
    return cells, len(rows), len(rows[0])


def parse_mosaic(mosaic: str, count: int) -> tuple[list[Cell], int, int]:
    """The cells of ``count`` panels on a mosaic like ``"AB;CB"``, given to the panels in
    order of the letters' first appearance: (cells, rows, cols)."""
    cells, rows, cols = mosaic_cells(mosaic)
    if len(cells) != count:
        raise ValueError(f"mosaic {mosaic!r} names {len(cells)} panels; the scene has {count}")
    return list(cells.values()), rows, cols


def bind_mosaic(mosaic: str, letters: Sequence[str], panels: Sequence[Panel]
                ) -> tuple[list[Cell], int, int]:
    """The cells of panels bound to mosaic letters by name (``letters[i]`` is panel i's):
    (cells, rows, cols). Every letter of the mosaic needs exactly one panel."""
    cells, rows, cols = mosaic_cells(mosaic)
    if len(letters) != len(panels):
        raise ValueError(f"{len(letters)} letters for {len(panels)} panels")
    name = {letter: type(panel).name or type(panel).__name__
            for letter, panel in zip(letters, panels)}
    bad = [letter for letter in letters if len(letter) != 1 or letter == "."]
    twice = sorted({letter for letter in letters if list(letters).count(letter) > 1})
    off = [f"'{letter}' ({name[letter]})" for letter in letters if letter not in cells]
    unbound = [f"'{letter}'" for letter in cells if letter not in letters]
    problems = ([f"letters must be single characters other than '.': {bad}"] if bad else []) \
        + ([f"letter(s) {', '.join(twice)} bound twice"] if twice else []) \
        + ([f"panel(s) bound to {', '.join(off)} but the mosaic has no such letter"]
           if off else []) \
        + ([f"no panel is bound to {', '.join(unbound)}"] if unbound else [])
    if problems:
        raise ValueError(f"mosaic {mosaic!r}: {'; '.join(problems)}")
    return [cells[letter] for letter in letters], rows, cols
