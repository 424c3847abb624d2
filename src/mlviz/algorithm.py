"""What a plugin registers: an algorithm, its trainer, its data and its scene."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import Config
from .dataset import Dataset
from .errors import DataError, MlvizError, MlvizWarning
from .limits import MAX_POINTS, check_magnitude
from .schedule import FrameSchedule
from .scene import Scene
from .trainer import Trainer


def _every_epoch(config: Config) -> FrameSchedule:
    return FrameSchedule.every()


#: Algorithm (and panel) names: lowercase letters and digits, words joined by single '-'.
NAME_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NAME_MAX = 64


def valid_name(name: object) -> bool:
    """Whether ``name`` is a valid algorithm or panel name (never a path: no '/', '.')."""
    return isinstance(name, str) and len(name) <= NAME_MAX and bool(NAME_PATTERN.fullmatch(name))


@dataclass(frozen=True)
class Algorithm:
    """An animatable algorithm, as returned by the ``mlviz_algorithms`` hook.

    Attributes:
        name: command-line name (``mlviz render NAME``): lowercase letters and digits,
            words joined by ``-`` (at most 64 characters).
        summary: one line for ``mlviz list``.
        config: the frozen :class:`~mlviz.Config` subclass holding the hyperparameters.
        trainer: builds a :class:`~mlviz.Trainer` from a config.
        dataset: builds the default dataset from a config.
        scene: builds the default :class:`~mlviz.Scene` (its panels) from a config.
        dataset_help: describes the default dataset for ``mlviz info``.
        load_data: reads a user's CSV file for ``--data`` (``None``: not supported). It
            gets the path and the validated config; checks that involve the data (enough
            rows for the config, say) belong here, since ``Config.validate`` never sees it.
        data_help: the columns ``load_data`` expects, for ``mlviz info`` (e.g. "two
            numeric columns x, y; optional header").
        schedule: chooses which epochs become frames (default: every epoch).
        fps: default frames per second of the animation.
        max_points: most data points drawn; a larger ``--data`` file is evenly sampled.
        plugin: where it came from; filled in by the registry.
    """

    name: str
    summary: str
    config: type[Config]
    trainer: Callable[[Config], Trainer]
    dataset: Callable[[Config], Dataset]
    scene: Callable[[Config], Scene]
    dataset_help: str = ""
    load_data: Callable[[Path, Config], Dataset] | None = None
    data_help: str = ""
    schedule: Callable[[Config], FrameSchedule] = _every_epoch
    fps: float = 5.0
    max_points: int = MAX_POINTS
    plugin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not valid_name(self.name):
            raise ValueError(f"algorithm name must be lowercase letters, digits and '-': "
                             f"{self.name!r}")
        if not (isinstance(self.config, type) and issubclass(self.config, Config)):
            raise TypeError(f"{self.name}: config must be a Config subclass")

    def make_dataset(self, config: Config, data: str | Path | None = None) -> Dataset:
        """The default dataset, or the user's file when ``data`` is given.

        Values must be finite and of a size the algorithms can square (:mod:`mlviz.limits`);
        a user's file of more than ``max_points`` rows is evenly sampled, with a warning.
        """
        if data is None:
            dataset = self.dataset(config)
        elif self.load_data is None:
            raise MlvizError(f"{self.name} does not accept --data files")
        else:
            dataset = self.load_data(Path(data), config)
        where = Path(data).name if data is not None else f"{self.name}'s dataset"
        for values in (dataset.X, dataset.y):
            if values is not None and values.dtype.kind in "fiu":
                if not np.all(np.isfinite(values)):
                    raise DataError(f"{where}: missing, NaN or infinite value")
                check_magnitude(values, where)
        if data is not None and dataset.n_samples > self.max_points:
            warnings.warn(MlvizWarning(
                f"{where} has {dataset.n_samples:,} rows; {self.name} draws at most "
                f"{self.max_points:,} points, so an even sample of them is used"
            ), stacklevel=2)
            dataset = dataset.sample(self.max_points)
        return dataset
