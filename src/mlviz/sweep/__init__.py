"""Sweeps: one run per value of a hyperparameter, compared in one animation.

``mlviz render NAME --sweep KEY=V1,V2,...`` (``mlviz.prepare(NAME, sweep={KEY: [...]})``)
trains one run per value, two at a time where the cores allow, and draws them together,
synchronised by epoch: frame ``i`` shows, for every run, its latest drawn snapshot at or
before the frame's epoch. Two keys make a grid of runs. Each panel of the algorithm's
scene is drawn either

* **side by side**: a copy per run, every copy with the union of their axis limits, so
  the runs compare at a glance (any panel, unchanged), or
* **overlaid**: once, with every run on it, for a panel that can (one with
  ``setup_overlay(ax, runs, labels, colors)`` and ``update_overlay(snapshots)``, such as
  :class:`mlviz.panels.MetricCurvePanel`).

A run that ends early holds its last state, marked "finished at epoch N". A run whose
loss becomes non-finite or grows past ``divergence`` times its first value is stopped and
marked "diverged at epoch N"; the limits shared by the other runs clip it. An algorithm
declares its defaults for sweeps with :func:`declare_sweep` (see ``docs/sweeps.rst``).

A sweep is drawn as a :class:`~mlviz.composition.Composition` of one cell per run by the
same :class:`~mlviz.Renderer` as a single run; :func:`mlviz.prepare` returns the same
:class:`~mlviz.prepared.Prepared`, whose ``sweep`` is the :class:`Sweep`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from ..prepared import Prepared
from ..renderer import DEFAULT_DPI, Renderer
from .declare import (
    DIVERGED,
    DIVERGENCE_FACTOR,
    MAX_KEYS,
    MAX_RUNS,
    MAX_SCALE,
    MAX_SIDE_CELLS,
    TARGET_ASPECT,
    TRAIN_JOBS,
    SweepDefaults,
    declare_sweep,
    sweep_defaults,
)
from .layout import (
    CONVERGED_SHARE,
    LOG_EPOCHS_RATIO,
    SweepDrawing,
    SweepLayout,
    can_share,
    convergence_epoch,
    log_epochs,
    share_limits,
)
from .prepare import prepare_sweep, prepared_sweep, sweep_scene
from .runs import Sweep, frame_epochs
from .spec import can_overlay, check_size, choose_overlay, max_runs, parse_sweep, show_value
from .training import DivergenceGuard, TrainingJob, train_jobs, union_schedule

if TYPE_CHECKING:
    from ..theme import Theme

#: What :func:`prepare_sweep` returned before 0.3: it is a :class:`~mlviz.prepared.Prepared`
#: now (one type for one run and for a sweep), whose ``sweep`` holds the runs.
PreparedSweep = Prepared
#: The former name of :class:`SweepLayout`.
SweepScene = SweepLayout


def SweepRenderer(prepared: Prepared, dpi: float = DEFAULT_DPI,  # noqa: N802 (was a class)
                  theme: Theme | str | None = None) -> Renderer:
    """Deprecated: a sweep is drawn by the :class:`~mlviz.Renderer` of any prepared run;
    use ``prepared.renderer(dpi)``."""
    warnings.warn("mlviz.sweep.SweepRenderer is deprecated: use prepared.renderer(dpi), "
                  "which draws a sweep like any run", DeprecationWarning, stacklevel=2)
    return Renderer(prepared.composition(), dpi=dpi, algorithm=prepared.algorithm.name,
                    theme=theme if theme is not None else prepared.theme)



__all__ = ["CONVERGED_SHARE", "DIVERGED", "DIVERGENCE_FACTOR", "LOG_EPOCHS_RATIO",
           "MAX_KEYS", "MAX_RUNS", "MAX_SCALE", "MAX_SIDE_CELLS", "TARGET_ASPECT",
           "TRAIN_JOBS", "DivergenceGuard", "PreparedSweep", "Sweep", "SweepDefaults",
           "SweepDrawing", "SweepLayout", "SweepRenderer", "SweepScene", "TrainingJob",
           "can_overlay", "can_share", "check_size", "choose_overlay", "convergence_epoch",
           "declare_sweep", "frame_epochs", "log_epochs", "max_runs", "parse_sweep",
           "prepare_sweep", "prepared_sweep", "share_limits", "show_value", "sweep_defaults",
           "sweep_scene", "train_jobs", "union_schedule"]
