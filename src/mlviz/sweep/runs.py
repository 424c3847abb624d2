"""The runs of a sweep, synchronised by epoch (:class:`Sweep`)."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..algorithm import Algorithm
from ..composition import Composition, RunCell
from ..errors import MlvizError
from ..scene import Scene, fit_figsize
from ..schedule import FrameSchedule
from ..snapshot import Snapshot
from ..trainer import Run
from .declare import DIVERGED, sweep_defaults
from .layout import FRAME_SIZE, SweepLayout
from .spec import check_size, choose_overlay, show_value


def frame_epochs(runs: Sequence[Run], budget: int | None = None) -> np.ndarray:
    """The epochs drawn: every run's drawn epochs together, thinned evenly to ``budget``."""
    epochs = np.unique(np.concatenate([[s.epoch for s in run.snapshots] for run in runs]))
    if budget is not None and len(epochs) > budget:
        picks = FrameSchedule.every(budget).select(list(epochs))
        epochs = epochs[picks]
    return epochs.astype(int)


@dataclass(frozen=True, repr=False)
class Sweep:
    """The runs of a sweep, the epochs of its frames, and how it is drawn.

    ``runs`` are in grid order (the first key's values down, the second's across), one
    per combination of ``values``. Frame ``i`` draws epoch ``epochs[i]``: for each run, its
    latest drawn snapshot at or before it (:meth:`snapshot`), or its first. ``scenes``
    (one per run) draw them, with the panels at ``overlay`` drawn once with every run on
    them; ``size`` is the frame's size in pixels (``None``: the layout's own).
    """

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    runs: tuple[Run, ...]
    epochs: np.ndarray
    scenes: tuple[Scene, ...] = ()
    overlay: tuple[int, ...] = ()
    size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        count = math.prod(len(v) for v in self.values)
        if len(self.keys) != len(self.values) or count != len(self.runs):
            raise ValueError(f"a sweep of {' x '.join(str(len(v)) for v in self.values)} "
                             f"values needs {count} runs, got {len(self.runs)}")
        epochs = np.array(self.epochs, dtype=int)
        epochs.setflags(write=False)
        if epochs.ndim != 1 or not len(epochs):
            raise ValueError("a sweep needs at least one frame epoch")
        object.__setattr__(self, "epochs", epochs)
        if self.scenes and len(self.scenes) != len(self.runs):
            raise ValueError("a sweep needs one scene per run")
        object.__setattr__(self, "scenes", tuple(self.scenes))
        object.__setattr__(self, "overlay", tuple(self.overlay))

    def __repr__(self) -> str:
        return (f"<Sweep of {self.n_runs} runs ({'; '.join(self.labels)}), "
                f"{self.n_frames} frames>")

    @property
    def n_frames(self) -> int:
        return len(self.epochs)

    @property
    def n_runs(self) -> int:
        return len(self.runs)

    @property
    def shape(self) -> tuple[int, ...]:
        """Runs per key: ``(3,)`` for three values, ``(2, 3)`` for a grid."""
        return tuple(len(v) for v in self.values)

    def settings(self, r: int) -> dict[str, Any]:
        """The swept values of run ``r``, key by key."""
        return dict(zip(self.keys, self._combinations[r]))

    @property
    def labels(self) -> tuple[str, ...]:
        """``KEY=VALUE`` of every run (joined by a comma for a grid)."""
        return tuple(", ".join(f"{k}={show_value(v)}" for k, v in self.settings(r).items())
                     for r in range(self.n_runs))

    @property
    def description(self) -> str:
        """What is swept, as ``--sweep`` writes it: ``lr=0.01,0.1 × seed=0,1`` (values that
        are lists separated by ``;``)."""
        parts = []
        for key, values in zip(self.keys, self.values):
            between = ";" if any(isinstance(value, tuple) for value in values) else ","
            parts.append(f"{key}={between.join(map(show_value, values))}")
        return " × ".join(parts)

    def composition(self) -> Composition:
        """The runs as cells of one animation, on the sweep's layout (:mod:`.layout`)."""
        if not self.scenes:
            raise ValueError("this sweep has no scenes to draw its runs with")
        cells = tuple(RunCell(run, scene, label)
                      for run, scene, label in zip(self.runs, self.scenes, self.labels))
        layout = SweepLayout(self)
        figsize = fit_figsize(layout.figsize, *(self.size or FRAME_SIZE))[0]
        return Composition(cells, self.epochs, layout, figsize)

    @property
    def dpi(self) -> float:
        """The resolution that draws the layout at the frame's size (:data:`FRAME_SIZE`
        unless ``size`` says)."""
        return fit_figsize(SweepLayout(self).figsize, *(self.size or FRAME_SIZE))[1]

    def sized(self, width: int, height: int) -> tuple[Sweep, float]:
        """This sweep drawn ``width`` x ``height`` pixels: (sweep, dpi)."""
        sized = replace(self, size=(width, height))
        return sized, sized.dpi

    def with_overlay(self, overlay: str | Sequence[str] | None, algorithm: Algorithm) -> Sweep:
        """The same runs with other panels overlaid (see :func:`choose_overlay`)."""
        chosen = choose_overlay(self.scenes[0], overlay, sweep_defaults(algorithm).overlay)
        check_size(algorithm, self.scenes[0], chosen, self.n_runs)
        return replace(self, overlay=chosen)

    def index(self, r: int, i: int) -> int:
        """Which of run ``r``'s snapshots frame ``i`` shows."""
        return int(self._rows[r, i])

    @functools.cached_property
    def _combinations(self) -> list[tuple[Any, ...]]:
        return list(itertools.product(*self.values))

    @functools.cached_property
    def _rows(self) -> np.ndarray:
        drawn = [[s.epoch for s in run.snapshots] for run in self.runs]
        return np.array([np.maximum(np.searchsorted(d, self.epochs, side="right") - 1, 0)
                         for d in drawn], dtype=int)

    def snapshot(self, r: int, i: int) -> Snapshot:
        return self.runs[r].snapshots[self.index(r, i)]

    def status(self, r: int, i: int) -> str:
        """How run ``r`` stands at frame ``i``: ``""`` while it runs, else "finished at
        epoch N", "diverged at epoch N" (from the frame of epoch N on) or "stopped at
        epoch N (time limit)"."""
        run = self.runs[r]
        last = int(run.epochs[-1])
        epoch = int(self.epochs[i])
        if run.stopped == DIVERGED:
            return f"diverged at epoch {last}" if epoch >= last else ""
        if epoch <= last:
            return ""
        if run.stopped:
            return f"stopped at epoch {last} ({run.stopped})"
        return f"finished at epoch {last}"

    def captions(self) -> list[str]:
        """One line per frame: its epoch, then every run's label and loss, or how it ended."""
        labels = self.labels
        out = []
        for i, epoch in enumerate(self.epochs):
            parts = [f"epoch {epoch}"]
            for r in range(self.n_runs):
                status = self.status(r, i)
                loss = float(self.snapshot(r, i).loss)
                text = status if status.startswith("diverged") else \
                    (f"loss {loss:.4g}" if loss == loss else "")
                if status and not status.startswith("diverged"):
                    text = f"{text} ({status})" if text else status
                parts.append(f"{labels[r]}: {text}".rstrip(": "))
            out.append(" · ".join(parts))
        return out

    def with_frames(self, frames: int | None) -> Sweep:
        """The same runs drawn on at most ``frames`` of these epochs, spread evenly."""
        if frames is None or frames >= self.n_frames:
            return self
        if frames < 1:
            raise MlvizError(f"--frames must be at least 1, got {frames}")
        picks = FrameSchedule.every(frames).select(list(self.epochs))
        return replace(self, epochs=self.epochs[picks])
