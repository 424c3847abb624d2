"""What a plugin registers: an algorithm, its trainer, its data and its scene."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .dataset import Dataset
from .errors import MlvizError
from .schedule import FrameSchedule
from .scene import Scene
from .trainer import Trainer


def _every_epoch(config: Config) -> FrameSchedule:
    return FrameSchedule.every()


@dataclass(frozen=True)
class Algorithm:
    """An animatable algorithm, as returned by the ``mlviz_algorithms`` hook.

    Attributes:
        name: command-line name (``mlviz render NAME``); lowercase words joined by ``-``.
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
    plugin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip().lower() or " " in self.name:
            raise ValueError(f"algorithm name must be lowercase without spaces: {self.name!r}")
        if not (isinstance(self.config, type) and issubclass(self.config, Config)):
            raise TypeError(f"{self.name}: config must be a Config subclass")

    def make_dataset(self, config: Config, data: str | Path | None = None) -> Dataset:
        """The default dataset, or the user's file when ``data`` is given."""
        if data is None:
            return self.dataset(config)
        if self.load_data is None:
            raise MlvizError(f"{self.name} does not accept --data files")
        return self.load_data(Path(data), config)
