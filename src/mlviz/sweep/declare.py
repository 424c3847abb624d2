"""What an algorithm declares for its sweeps (:func:`declare_sweep`), and the limits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..algorithm import Algorithm
from ..config import Config
from ..scene import Scene
from ..trainer import Trainer

#: ``Run.stopped`` of a run a sweep stopped because its loss diverged.
DIVERGED = "diverged"
#: A run diverges when its loss grows past this many times its first value (or is not finite).
DIVERGENCE_FACTOR = 100.0
#: The most runs in one sweep, and the most side-by-side panel copies (runs × panels).
MAX_RUNS = 6
MAX_SIDE_CELLS = 12
#: The most ``--sweep`` keys: two make a grid.
MAX_KEYS = 2
#: Processes training the runs of a sweep at once.
TRAIN_JOBS = 2
#: Panel width to height the block layout aims at (16:9 frames).
TARGET_ASPECT = 1.3
#: Largest figure, in multiples of the default 16:9 size (1920 x 1080 pixels at 100 dpi).
MAX_SCALE = 2.0


@dataclass(frozen=True)
class SweepDefaults:
    """What an algorithm declares for sweeps (:func:`declare_sweep`).

    Attributes:
        values: default values per key, used by ``--sweep KEY`` without values (and the
            first is the one ``mlviz info`` suggests).
        settings: hyperparameters every run of a sweep gets unless the user sets them
            (k-means: one start per K, so that the seeds differ).
        overlay: names of the panels drawn overlaid by default (``None``: every panel
            that can).
        scene: the scene a sweep draws, from a run's config (``None``: the algorithm's).
        trainer: the trainer a sweep uses (``None``: the algorithm's); e.g. one that
            trains a learning rate that diverges instead of refusing it.
        divergence: a run diverges when its loss passes this many times its first value.
    """

    values: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    overlay: Sequence[str] | None = None
    scene: Callable[[Config], Scene] | None = None
    trainer: Callable[[Config], Trainer] | None = None
    divergence: float = DIVERGENCE_FACTOR


_DECLARED: dict[str, tuple[Algorithm, SweepDefaults]] = {}


def declare_sweep(algorithm: Algorithm, **defaults: Any) -> Algorithm:
    """Declare ``algorithm``'s :class:`SweepDefaults` (keyword arguments); return it.

    Called by a plugin module next to its ``Algorithm``, e.g.
    ``declare_sweep(MY_ALGO, values={"lr": (0.01, 0.1, 1.0)})``.
    """
    _DECLARED[algorithm.name] = (algorithm, SweepDefaults(**defaults))
    return algorithm


def sweep_defaults(algorithm: Algorithm) -> SweepDefaults:
    """The defaults ``algorithm`` declared (an equal algorithm: the registry's copy too)."""
    found = _DECLARED.get(algorithm.name)
    return found[1] if found is not None and found[0] == algorithm else SweepDefaults()
