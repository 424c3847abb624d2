"""What a plugin registers: an algorithm, its trainer, its data and its scene."""

from __future__ import annotations

import dataclasses
import inspect
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import Config
from .dataset import Dataset, UserData
from .errors import DataError, MlvizWarning
from .limits import MAX_POINTS, check_magnitude
from .scene import Scene
from .schedule import FrameSchedule
from .trainer import Trainer

if TYPE_CHECKING:
    from .story import Story
    from .trainer import Run


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
        scene: builds the default :class:`~mlviz.Scene` (its panels): ``scene(config,
            dataset)``, given the validated config and the dataset the run trains on (the
            default one or the user's ``--data``: a title can describe it). A factory of
            mlviz 0.1 and 0.2, ``scene(config)``, works unchanged. Call it through
            :meth:`make_scene`.
        dataset_help: describes the default dataset for ``mlviz info``.
        load_data: builds the dataset from a user's data (``--data``, or ``data=`` in
            Python), given as a :class:`~mlviz.UserData` (a CSV file, an array or
            a DataFrame, with the columns the user chose: ``UserData.select``) and the
            validated config (``None``: not supported). Checks that involve the data
            (enough rows for the config, say) belong here, since ``Config.validate``
            never sees it. A loader of mlviz 0.1 that reads the path with
            :func:`mlviz.read_csv` works unchanged.
        data_help: the columns ``load_data`` expects, for ``mlviz info`` (e.g. "two
            numeric columns x, y; optional header").
        no_data_reason: why the algorithm takes no user data (when ``load_data`` is
            ``None``), for ``mlviz info`` and the error ``--data`` gets.
        dataset_params: hyperparameters that only shape the default dataset (n_points,
            noise, …): setting one together with user data is an error, not ignored.
        schedule: chooses which epochs become frames (default: every epoch).
        fps: default frames per second of the animation.
        max_points: most data points drawn; a larger ``--data`` file is evenly sampled.
        story: the lesson, as data: given the config and the finished run, the
            :class:`~mlviz.story.Story` (chapters over epoch ranges, one sentence each, and
            the objective as mathtext) that the player and caption strip show
            (``None``: no chapters).
        record_only: the algorithm only draws run records that something else made (e.g.
            ``watched-model``, recorded by :func:`mlviz.watch`): nothing trains it, so the
            gallery and the conformance checks leave it out.
        plugin: where it came from; filled in by the registry.
    """

    name: str
    summary: str
    config: type[Config]
    # The factories take the ``config`` class's instances: ``Any`` (not ``Config``), so a
    # factory typed with the plugin's own Config subclass type-checks (callables are
    # contravariant in their arguments).
    trainer: Callable[[Any], Trainer]
    dataset: Callable[[Any], Dataset]
    scene: Callable[..., Scene]  # scene(config) or scene(config, dataset)
    dataset_help: str = ""
    load_data: Callable[[UserData, Any], Dataset] | None = None
    data_help: str = ""
    no_data_reason: str = ""
    dataset_params: tuple[str, ...] = ()
    schedule: Callable[[Any], FrameSchedule] = _every_epoch
    fps: float = 5.0
    max_points: int = MAX_POINTS
    story: Callable[[Any, Run], Story] | None = None
    record_only: bool = False
    plugin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not valid_name(self.name):
            raise ValueError(f"algorithm name must be lowercase letters, digits and '-': "
                             f"{self.name!r}")
        if not (isinstance(self.config, type) and issubclass(self.config, Config)):
            raise TypeError(f"{self.name}: config must be a Config subclass")
        unknown = set(self.dataset_params) - {f.name for f in dataclasses.fields(self.config)}
        if unknown:
            raise ValueError(f"{self.name}: dataset_params names no hyperparameter: "
                             f"{', '.join(sorted(unknown))}")

    def make_scene(self, config: Config, dataset: Dataset | None = None) -> Scene:
        """The scene of a run on ``dataset``: ``scene(config, dataset)``, or ``scene(config)``
        for a factory that takes the config alone (decided by its signature). Without a
        dataset (``mlviz info``), a factory that takes one gets the default dataset."""
        if _takes_dataset(self.scene):
            return self.scene(config, self.dataset(config) if dataset is None else dataset)
        return self.scene(config)

    def make_dataset(self, config: Config, data: Any = None) -> Dataset:
        """The default dataset, or the user's data when ``data`` is given: a path to a CSV
        file, a numpy array, a pandas DataFrame or a :class:`~mlviz.UserData`.

        Values must be finite and of a size the algorithms can square (:mod:`mlviz.limits`);
        user data of more than ``max_points`` rows is evenly sampled, with a warning.
        """
        if data is None:
            dataset = self.dataset(config)
            where = f"{self.name}'s dataset"
        else:
            user = UserData(data, algorithm=self.name)
            self.check_user_data(config)
            assert self.load_data is not None  # check_user_data refused it otherwise
            dataset = self.load_data(user, config)
            where = user.name
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

    def check_user_data(self, config: Config) -> None:
        """:class:`DataError` if this algorithm takes no user data, or if ``config`` sets a
        hyperparameter that only shapes the default dataset (``dataset_params``)."""
        if self.load_data is None:
            reason = self.no_data_reason or "its plugin reads no data"
            raise DataError(f"{self.name} does not accept --data: {reason}")
        defaults = {f.name: f.default for f in dataclasses.fields(config)}
        changed = [name for name in self.dataset_params
                   if getattr(config, name) != defaults[name]]
        if changed:
            settings = ", ".join(f"{name}={_show(getattr(config, name))}" for name in changed)
            raise DataError(f"{settings} only {'shapes' if len(changed) == 1 else 'shape'} "
                            f"{self.name}'s default dataset, which --data replaces; leave "
                            f"{'it' if len(changed) == 1 else 'them'} out")


def _takes_dataset(factory: Callable[..., Any]) -> bool:
    """Whether a scene factory takes a second positional argument (the dataset)."""
    try:
        parameters = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # no signature (a builtin): the 0.1 form
        return False
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return True
    return len(positional) >= 2


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)
