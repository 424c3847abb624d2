"""Preparing a sweep: its configs, scenes and data, then training and synchronising."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..algorithm import Algorithm
from ..config import Config, merge_settings, moved_frame_budget, parse_settings
from ..errors import ConfigError, MlvizError
from ..optional import optional_dependencies
from ..prepared import Prepared
from ..scene import Scene
from ..schedule import FrameSchedule
from .declare import sweep_defaults
from .runs import Sweep, frame_epochs
from .spec import check_size, choose_overlay, parse_sweep, show_value
from .training import TrainingJob, train_jobs, union_schedule

if TYPE_CHECKING:
    from ..dataset import Dataset, DataSource
    from ..plugins import Registry


def sweep_scene(algorithm: Algorithm, config: Config, dataset: Dataset | None = None) -> Scene:
    """The scene a sweep draws each run with: the declared sweep scene, or the algorithm's
    (given the run's dataset, where its factory takes one)."""
    declared = sweep_defaults(algorithm).scene
    if declared is None:
        return algorithm.make_scene(config, dataset)
    return replace(algorithm, scene=declared).make_scene(config, dataset)


def _check_scenes(algorithm: Algorithm, scenes: Sequence[Scene], keys: Sequence[str]) -> None:
    kinds = [tuple(type(panel) for panel in scene.panels) for scene in scenes]
    if any(kind != kinds[0] for kind in kinds):
        raise ConfigError(f"--sweep {' and '.join(keys)} changes {algorithm.name}'s panels; "
                          "a sweep compares runs panel by panel, so sweep another key")


def prepare_sweep(
    algorithm: str | Algorithm,
    sweep: Mapping[str, Any] | Sequence[str],
    *,
    overlay: str | Sequence[str] | None = None,
    frames: int | None = None,
    data: DataSource | None = None,
    fps: float | None = None,
    registry: Registry | None = None,
    settings: list[str] | None = None,
    record_params: bool = False,
    epoch_limit: int | None = None,
    time_limit: float | None = None,
    progress: bool = False,
    processes: int | None = None,
    **overrides: Any,
) -> Prepared:
    """Train one run per swept value (or pair of values) and synchronise them.

    ``sweep``: ``{"lr": [0.01, 0.1, 1.0]}`` (one or two keys), or ``--sweep`` strings
    ``["lr=0.01,0.1,1"]``. ``overlay``: which panels are drawn overlaid (see
    :func:`choose_overlay`). The other arguments are :func:`mlviz.prepare`'s, for every
    run; the algorithm's sweep ``settings`` apply where these leave a key unset. A sweep
    over ``seed`` keeps the data of the base seed, so only the training's randomness
    changes; any other key builds each run's data from its own config. ``processes``:
    runs trained at once (default: two where the cores allow; see :func:`train_jobs`).
    """
    from ..dataset import UserData
    from ..progress import bar as progress_bar
    from ..session import registry as session_registry

    if isinstance(algorithm, str):
        algorithm = session_registry(registry).get(algorithm)
    defaults = sweep_defaults(algorithm)
    swept = parse_sweep(sweep, algorithm.config, defaults)
    keys = tuple(key for key, _ in swept)
    values = merge_settings(algorithm.config, overrides, parse_settings(settings or ()))
    frames = moved_frame_budget(algorithm.config, algorithm.name, values, frames)
    for key in keys:
        if key in values:
            given = f"--seed {values[key]}" if key == "seed" else f"--set {key}"
            raise ConfigError(f"{key} is swept, so {given} cannot also set it; give it once")
    if frames is not None and frames < 1:
        raise MlvizError(f"--frames must be at least 1, got {frames}")
    if fps is not None and fps <= 0:
        raise MlvizError(f"--fps must be positive, got {fps}")
    base_values = {**{k: v for k, v in defaults.settings.items() if k not in keys},
                   **values}
    base = algorithm.config.from_overrides(base_values)
    configs = []
    for combination in itertools.product(*(v for _, v in swept)):
        chosen_values = dict(zip(keys, combination))
        try:
            configs.append(algorithm.config.from_overrides({**base_values, **chosen_values}))
        except ConfigError as exc:
            label = ", ".join(f"{k}={show_value(v)}" for k, v in chosen_values.items())
            raise ConfigError(f"--sweep {label}: {exc}") from None
    with optional_dependencies(algorithm.name):
        datasets: dict[Any, Any] = {}
        for config in configs:
            data_config = config.replace(seed=base.seed) if "seed" in keys else config
            if data_config not in datasets:
                datasets[data_config] = algorithm.make_dataset(data_config, data)
        run_data = [datasets[config.replace(seed=base.seed) if "seed" in keys else config]
                    for config in configs]
        scenes = [sweep_scene(algorithm, config, dataset)
                  for config, dataset in zip(configs, run_data)]
        _check_scenes(algorithm, scenes, keys)
        chosen = choose_overlay(scenes[0], overlay, defaults.overlay)
        check_size(algorithm, scenes[0], chosen, len(configs))
        jobs = []
        schedules = [algorithm.schedule(config) for config in configs]
        schedule = union_schedule(schedules, frames)
        for config, scene, dataset in zip(configs, scenes, run_data):
            traces = (*scene.required_traces(), *(("params",) if record_params else ()))
            jobs.append(TrainingJob(algorithm, config, dataset, schedule, traces,
                             defaults.trainer, defaults.divergence, epoch_limit, time_limit))
    with progress_bar(len(jobs), desc=f"training {len(jobs)} runs", unit="run",
                      enabled=progress) as bar:
        runs = train_jobs(jobs, processes, on_done=bar.update)
    budget = schedule.budget
    result = Sweep(keys, tuple(v for _, v in swept), tuple(runs), frame_epochs(runs, budget),
                   tuple(scenes), chosen)
    source = "" if data is None else UserData(data).describe()
    return prepared_sweep(algorithm, base, result, fps or algorithm.fps, schedule, source)


def prepared_sweep(algorithm: Algorithm, config: Config, sweep: Sweep, fps: float,
                   schedule: FrameSchedule | None = None, source: str = "") -> Prepared:
    """A :class:`~mlviz.prepared.Prepared` drawing ``sweep`` (its first run and scene
    stand for ``run`` and ``scene``; ``config`` is the one before the swept values)."""
    return Prepared(algorithm, config, sweep.runs[0], sweep.scenes[0], fps, schedule, source,
                    dpi=sweep.dpi, sweep=sweep)
