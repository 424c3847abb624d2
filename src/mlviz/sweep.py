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
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import os
import signal
import sys
import typing
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .algorithm import Algorithm
from .config import Config, merge_settings, moved_frame_budget, parse_settings
from .errors import ConfigError, MlvizError
from .renderer import DEFAULT_DPI, Renderer, _figure_class, _figure_legend, _fitted_title
from .scene import DEFAULT_FIGSIZE, GROWTH_PER_CELL, Scene, fit_figsize
from .schedule import FrameSchedule
from .snapshot import Snapshot
from .theme import Theme, resolve_theme
from .trainer import Run, Trainer, train

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    from .dataset import DataSource
    from .panel import Panel
    from .plugins import Registry

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


# ---------------------------------------------------------------------------------------
# What to sweep


def show_value(value: Any) -> str:
    """A hyperparameter value as ``--set`` writes it: ``0.1``, ``true``, ``2,12,1``."""
    if isinstance(value, tuple):
        return ",".join(map(show_value, value))
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _is_tuple(config: type[Config], key: str) -> bool:
    return typing.get_origin(typing.get_type_hints(config).get(key)) is tuple


def parse_sweep(spec: Mapping[str, Any] | Sequence[str], config: type[Config],
                defaults: SweepDefaults | None = None) -> list[tuple[str, tuple[Any, ...]]]:
    """``[(key, values), ...]`` from ``{"lr": [0.01, 0.1]}`` or ``["lr=0.01,0.1"]``.

    On the command line values are separated by ``,``, or by ``;`` for a hyperparameter
    that is itself a list (``layers=2,4,1;2,12,1``); ``KEY`` alone takes the algorithm's
    default values. Raises :class:`ConfigError` (one line) for an unknown key, a value of
    the wrong type, a single value, a repeated value or key, or more than two keys.
    """
    defaults = defaults or SweepDefaults()
    if isinstance(spec, (str, bytes)):
        spec = [spec]
    items: list[tuple[str, Any]]
    if isinstance(spec, Mapping):
        items = list(spec.items())
    else:
        items = []
        for text in spec:
            key, sep, values = str(text).partition("=")
            items.append((key.strip(), values if sep else None))
    if not items:
        raise ConfigError("--sweep needs KEY=V1,V2,...")
    if len(items) > MAX_KEYS:
        raise ConfigError(f"--sweep: at most {MAX_KEYS} keys (a grid of runs), got "
                          f"{len(items)}: {', '.join(key for key, _ in items)}")
    names = [f.name for f in dataclasses.fields(config)]
    parsed: list[tuple[str, tuple[Any, ...]]] = []
    for key, raw in items:
        if key not in names:
            try:
                config.from_overrides({key: None})
            except ConfigError as exc:
                raise ConfigError(f"--sweep: {exc}") from None
        if any(key == seen for seen, _ in parsed):
            raise ConfigError(f"--sweep {key} is given twice; give each key once")
        if raw is None:
            if key not in defaults.values:
                raise ConfigError(f"--sweep {key} needs values: --sweep {key}=V1,V2,...")
            raw = defaults.values[key]
        if isinstance(raw, str):
            separator = ";" if _is_tuple(config, key) else ","
            texts = [part.strip() for part in raw.split(separator) if part.strip()]
            shown = raw
        else:
            texts = list(raw) if isinstance(raw, Sequence) else [raw]
            shown = ",".join(map(show_value, texts))
        values = []
        for text in texts:
            try:
                values.append(config.value_of(key, text))
            except ConfigError as exc:
                raise ConfigError(f"--sweep {key}={shown}: {exc}") from None
        if len(values) < 2:
            raise ConfigError(f"--sweep {key}={shown} gives {len(values)} value; a sweep "
                              "compares two or more")
        repeated = [v for i, v in enumerate(values) if v in values[:i]]
        if repeated:
            raise ConfigError(f"--sweep {key}={shown} repeats {show_value(repeated[0])}")
        parsed.append((key, tuple(values)))
    return parsed


def max_runs(side_panels: int) -> int:
    """The most runs a sweep draws with ``side_panels`` panels side by side per run."""
    if side_panels <= 2:
        return MAX_RUNS
    return max(2, MAX_SIDE_CELLS // side_panels)


def can_overlay(panel: Panel) -> bool:
    """Whether ``panel`` draws several runs on one axis (``setup_overlay``/``update_overlay``)."""
    return callable(getattr(panel, "setup_overlay", None)) and \
        callable(getattr(panel, "update_overlay", None))


def choose_overlay(scene: Scene, overlay: str | Sequence[str] | None,
                   default: Sequence[str] | None = None) -> tuple[int, ...]:
    """Indices of the panels of ``scene`` drawn overlaid.

    ``overlay``: panel names (a list, or one comma-separated string), ``"all"`` (every
    panel that can), ``"none"`` (all side by side) or ``None`` (``default``, or all).
    """
    names = scene.panel_names
    able = [i for i, panel in enumerate(scene.panels) if can_overlay(panel)]
    if overlay is None:
        if default is None:
            return tuple(able)
        overlay = list(default)
    if isinstance(overlay, str):
        if overlay.strip().lower() == "all":
            return tuple(able)
        if overlay.strip().lower() == "none":
            return ()
        overlay = [part.strip() for part in overlay.split(",") if part.strip()]
    chosen = []
    for name in overlay:
        if name not in names:
            raise ConfigError(f"--overlay: no panel '{name}'; the panels are "
                              f"{', '.join(names)}")
        index = names.index(name)
        if index not in able:
            which = ", ".join(names[i] for i in able) or "none"
            raise ConfigError(f"--overlay: panel {name} cannot draw several runs on one axis "
                              f"(those that can: {which})")
        if index not in chosen:
            chosen.append(index)
    return tuple(sorted(chosen))


# ---------------------------------------------------------------------------------------
# The runs, synchronised


def frame_epochs(runs: Sequence[Run], budget: int | None = None) -> np.ndarray:
    """The epochs drawn: every run's drawn epochs together, thinned evenly to ``budget``."""
    epochs = np.unique(np.concatenate([[s.epoch for s in run.snapshots] for run in runs]))
    if budget is not None and len(epochs) > budget:
        picks = FrameSchedule.every(budget).select(list(epochs))
        epochs = epochs[picks]
    return epochs.astype(int)


def _frozen(values: np.ndarray) -> np.ndarray:
    values = np.array(values)
    values.setflags(write=False)
    return values


@dataclass(frozen=True, repr=False)
class Sweep:
    """The runs of a sweep and the epochs of its frames: what a sweep's panels draw.

    ``runs`` are in grid order (the first key's values down, the second's across), one
    per combination of ``values``. Frame ``i`` draws epoch ``epochs[i]``: for each run, its
    latest drawn snapshot at or before it (:meth:`snapshot`), or its first.
    """

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    runs: tuple[Run, ...]
    epochs: np.ndarray

    def __post_init__(self) -> None:
        count = math.prod(len(v) for v in self.values)
        if len(self.keys) != len(self.values) or count != len(self.runs):
            raise ValueError(f"a sweep of {' x '.join(str(len(v)) for v in self.values)} "
                             f"values needs {count} runs, got {len(self.runs)}")
        epochs = _frozen(np.asarray(self.epochs, dtype=int))
        if epochs.ndim != 1 or not len(epochs):
            raise ValueError("a sweep needs at least one frame epoch")
        object.__setattr__(self, "epochs", epochs)
        rows = []
        for run in self.runs:
            drawn = np.array([s.epoch for s in run.snapshots])
            rows.append(np.maximum(np.searchsorted(drawn, epochs, side="right") - 1, 0))
        object.__setattr__(self, "_rows", _frozen(np.array(rows, dtype=int)))
        object.__setattr__(self, "_combinations", list(itertools.product(*self.values)))

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

    def index(self, r: int, i: int) -> int:
        """Which of run ``r``'s snapshots frame ``i`` shows."""
        return int(self._rows[r, i])

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


# ---------------------------------------------------------------------------------------
# Training


@dataclass(frozen=True)
class _UnionSchedule(FrameSchedule):
    """Draws an epoch any of ``parts`` draws: every run of a sweep keeps the same epochs."""

    parts: tuple[FrameSchedule, ...] = ()

    def wants(self, epoch: int) -> bool:
        return any(part.wants(epoch) for part in self.parts)


def union_schedule(schedules: Sequence[FrameSchedule], frames: int | None) -> FrameSchedule:
    """One schedule for every run: the epochs any run's schedule draws, and the frame
    budget ``frames`` (else the largest of theirs)."""
    if all(s == schedules[0] for s in schedules):
        return schedules[0].with_budget(frames)
    budgets = [s.budget for s in schedules if s.budget is not None]
    budget = frames if frames is not None else (max(budgets) if budgets else None)
    return _UnionSchedule((), 1, budget, parts=tuple(schedules))


class _DivergenceGuard:
    """A trainer that stops the wrapped one once its loss diverges (``diverged_at``)."""

    def __init__(self, trainer: Trainer, factor: float) -> None:
        self.trainer = trainer
        self.factor = factor
        self.diverged_at: int | None = None

    def run(self, dataset) -> Iterator[Snapshot]:
        snapshots = iter(self.trainer.run(dataset))
        first = None
        try:
            for snapshot in snapshots:
                yield snapshot
                loss = float(snapshot.loss)
                if math.isfinite(loss):
                    if first is None:
                        first = loss
                    elif first > 0 and loss > self.factor * first:
                        self.diverged_at = snapshot.epoch
                        return
                elif first is not None:  # finite before: it overflowed
                    self.diverged_at = snapshot.epoch
                    return
        finally:
            close = getattr(snapshots, "close", None)
            if close is not None:
                close()


@dataclass(frozen=True)
class _Job:
    """Everything one run of a sweep needs, for a worker process."""

    algorithm: Algorithm
    config: Config
    dataset: Any
    schedule: FrameSchedule
    traces: tuple[str, ...]
    trainer: Callable[[Config], Trainer] | None
    divergence: float
    epoch_limit: int | None
    time_limit: float | None


def _train_one(job: _Job) -> Run:
    """Train one run of a sweep; a diverging run stops and says so (``Run.stopped``)."""
    from .api import optional_dependencies

    with optional_dependencies(job.algorithm.name):
        guard = _DivergenceGuard((job.trainer or job.algorithm.trainer)(job.config),
                                 job.divergence)
        run = train(guard, job.dataset, job.config, job.schedule, traces=job.traces,
                    max_epochs=job.epoch_limit, max_seconds=job.time_limit)
    if guard.diverged_at is not None:
        run = replace(run, stopped=DIVERGED)
    return run


def _worker_start() -> None:
    """In a training worker: Ctrl-C and stop signals are the main process's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    warnings.simplefilter("ignore")


def train_jobs(jobs: Sequence[_Job], processes: int | None = None,
               on_done: Callable[[], None] | None = None) -> list[Run]:
    """Train every job, ``processes`` at a time (default: two where the cores allow).

    Workers are forked, where that is safe (see :func:`mlviz.parallel.start_method`) and
    torch is not yet loaded here; otherwise the runs train here, one after another. A
    worker's failure that is not the user's (an :class:`MlvizError`) is trained again
    here, so that the error and the plugin it names are the one-process path's.
    """
    from .parallel import available_cores, start_method

    if processes is None:
        processes = min(TRAIN_JOBS, available_cores())
    processes = min(processes, len(jobs))
    if processes <= 1 or start_method() != "fork" or "torch" in sys.modules:
        runs = []
        for job in jobs:
            runs.append(_train_one(job))
            if on_done is not None:
                on_done()
        return runs
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with warnings.catch_warnings():  # Python >= 3.12 warns about forking with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pool = context.Pool(processes, initializer=_worker_start)
    try:
        pending = [pool.apply_async(_train_one, (job,)) for job in jobs]
        runs = []
        for job, result in zip(jobs, pending):
            try:
                runs.append(result.get())
            except MlvizError:
                raise
            except Exception:  # again here, for the real traceback and the plugin's name
                runs.append(_train_one(job))
            if on_done is not None:
                on_done()
        pool.close()
        return runs
    finally:
        pool.terminate()
        pool.join()


# ---------------------------------------------------------------------------------------
# Preparing


def sweep_scene(algorithm: Algorithm, config: Config) -> Scene:
    """The scene a sweep draws each run with: the declared sweep scene, or the algorithm's."""
    scene = sweep_defaults(algorithm).scene or algorithm.scene
    return scene(config)


def _check_scenes(algorithm: Algorithm, scenes: Sequence[Scene], keys: Sequence[str]) -> None:
    kinds = [tuple(type(panel) for panel in scene.panels) for scene in scenes]
    if any(kind != kinds[0] for kind in kinds):
        raise ConfigError(f"--sweep {' and '.join(keys)} changes {algorithm.name}'s panels; "
                          "a sweep compares runs panel by panel, so sweep another key")


def check_size(algorithm: Algorithm, scene: Scene, overlay: Sequence[int], runs: int) -> None:
    """:class:`ConfigError` if ``runs`` runs are too many for a readable frame."""
    side = len(scene.panels) - len(overlay)
    limit = max_runs(side)
    if runs > limit:
        how = f"{side} panel{'s' if side != 1 else ''} side by side per run" if side else \
            "every panel overlaid"
        raise ConfigError(f"--sweep: {runs} runs are too many for a readable frame: with "
                          f"{how}, {algorithm.name} shows at most {limit}")


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
) -> PreparedSweep:
    """Train one run per swept value (or pair of values) and synchronise them.

    ``sweep``: ``{"lr": [0.01, 0.1, 1.0]}`` (one or two keys), or ``--sweep`` strings
    ``["lr=0.01,0.1,1"]``. ``overlay``: which panels are drawn overlaid (see
    :func:`choose_overlay`). The other arguments are :func:`mlviz.prepare`'s, for every
    run; the algorithm's sweep ``settings`` apply where these leave a key unset. A sweep
    over ``seed`` keeps the data of the base seed, so only the training's randomness
    changes; any other key builds each run's data from its own config. ``processes``:
    runs trained at once (default: two where the cores allow; see :func:`train_jobs`).
    """
    from .api import optional_dependencies
    from .dataset import UserData
    from .plugins import load_registry
    from .progress import bar as progress_bar

    if isinstance(algorithm, str):
        algorithm = (registry or load_registry()).get(algorithm)
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
        scenes = [sweep_scene(algorithm, config) for config in configs]
        _check_scenes(algorithm, scenes, keys)
        chosen = choose_overlay(scenes[0], overlay, defaults.overlay)
        check_size(algorithm, scenes[0], chosen, len(configs))
        datasets: dict[Any, Any] = {}
        jobs = []
        schedules = [algorithm.schedule(config) for config in configs]
        schedule = union_schedule(schedules, frames)
        for config, scene in zip(configs, scenes):
            data_config = config.replace(seed=base.seed) if "seed" in keys else config
            if data_config not in datasets:
                datasets[data_config] = algorithm.make_dataset(data_config, data)
            traces = (*scene.required_traces(), *(("params",) if record_params else ()))
            jobs.append(_Job(algorithm, config, datasets[data_config], schedule, traces,
                             defaults.trainer, defaults.divergence, epoch_limit, time_limit))
    with progress_bar(len(jobs), desc=f"training {len(jobs)} runs", unit="run",
                      enabled=progress) as bar:
        runs = train_jobs(jobs, processes, on_done=bar.update)
    budget = schedule.budget
    result = Sweep(keys, tuple(v for _, v in swept), tuple(runs), frame_epochs(runs, budget))
    source = "" if data is None else UserData(data).describe()
    return PreparedSweep(algorithm, result, tuple(scenes), chosen, fps or algorithm.fps,
                         schedule=schedule, source=source)


@dataclass(repr=False)
class PreparedSweep:
    """The runs of a sweep and their scenes: ready for :class:`SweepRenderer`.

    It stands in for :class:`mlviz.Prepared` wherever a prepared run is drawn or saved
    (:func:`mlviz.api.write_animation`, :func:`mlviz.save_run`): ``run`` is the
    :class:`Sweep` (its ``n_frames`` is the frame count) and ``scene`` its layout.
    """

    algorithm: Algorithm
    sweep: Sweep
    scenes: tuple[Scene, ...]
    overlay: tuple[int, ...]
    fps: float
    schedule: FrameSchedule | None = None
    source: str = ""
    theme: Theme | None = None
    dpi: float | None = None
    size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if len(self.scenes) != self.sweep.n_runs:
            raise ValueError("a prepared sweep needs one scene per run")
        self.layout = SweepScene(self.scenes, self.overlay, self.sweep.shape,
                                 self.sweep.keys)
        if self.size is not None:
            self.layout.figsize, self.dpi = fit_figsize(self.layout.figsize, *self.size)

    def styled(self, *, theme: Theme | str | None = None, font_scale: float | None = None,
               size: tuple[int, int] | str | None = None, panel: str | None = None,
               registry: Any = None) -> PreparedSweep:
        """The same runs drawn with another theme, font scale or size (see
        :meth:`mlviz.Prepared.styled`); a sweep draws all its panels (no ``panel``)."""
        from .api import parse_size

        if panel is not None:
            raise MlvizError("--panel draws one panel of one run; a sweep draws them all "
                             "(use --overlay to choose which are shared)")
        chosen = resolve_theme(theme or self.theme, registry, font_scale)
        return replace(self, theme=chosen,
                       size=self.size if size is None else parse_size(size))

    @property
    def run(self) -> Sweep:
        """The sweep (what a :class:`~mlviz.Renderer` calls its run)."""
        return self.sweep

    @property
    def scene(self) -> SweepScene:
        """The layout of the sweep's figure (its ``figsize``, panels per run, overlays)."""
        return self.layout

    @property
    def runs(self) -> tuple[Run, ...]:
        return self.sweep.runs

    @property
    def labels(self) -> tuple[str, ...]:
        return self.sweep.labels

    def renderer(self, dpi: float | None = None) -> SweepRenderer:
        return SweepRenderer(self, dpi=dpi or self.dpi or DEFAULT_DPI, theme=self.theme)

    def with_frames(self, frames: int | None) -> PreparedSweep:
        """The same runs drawn on at most ``frames`` frames, spread evenly."""
        sweep = self.sweep.with_frames(frames)
        return self if sweep is self.sweep else replace(self, sweep=sweep)

    def with_overlay(self, overlay: str | Sequence[str] | None) -> PreparedSweep:
        """The same runs with other panels overlaid (see :func:`choose_overlay`)."""
        chosen = choose_overlay(self.scenes[0], overlay,
                                sweep_defaults(self.algorithm).overlay)
        check_size(self.algorithm, self.scenes[0], chosen, self.sweep.n_runs)
        return replace(self, overlay=chosen)

    def captions(self) -> list[str]:
        return self.sweep.captions()

    def _repr_html_(self) -> str:
        """Jupyter shows a sweep as the interactive player, every run captioned."""
        from .player import notebook_player
        from .writers import DEFAULT_HOLD

        return notebook_player(self.renderer(), self.captions(), fps=self.fps,
                               hold=DEFAULT_HOLD, title=f"{self.algorithm.name} sweep")

    def __repr__(self) -> str:
        return (f"<PreparedSweep {self.algorithm.name}: {self.sweep.n_runs} runs "
                f"({'; '.join(self.labels)}), {self.sweep.n_frames} frames at "
                f"{self.fps:g} fps>")

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(repr(self))


# ---------------------------------------------------------------------------------------
# Layout and drawing


def _ratios(scene: Scene) -> list[float]:
    """Each panel's width share: the scene's width ratios on one row, else equal."""
    if scene.mosaic is None and scene.rows == 1 and scene.width_ratios is not None:
        return [float(r) for r in scene.width_ratios]
    return [1.0] * len(scene.panels)


def _title(scenes: Sequence[Scene], keys: Sequence[str]) -> str:
    """The scenes' common title (cut at a word where they differ), and what is swept."""
    titles = [scene.title for scene in scenes]
    common = os.path.commonprefix(titles)
    if common != titles[0] or any(t != titles[0] for t in titles):
        common = common[:common.rfind(" ")] if " " in common else ""
    common = common.strip(" -–—,:;(")
    swept = " and ".join(keys)
    return f"{common} — by {swept}" if common else f"Compared by {swept}"


class SweepScene:
    """Where a sweep's panels go: a block of panels per run, on a grid of blocks (rows of
    the first key, columns of the second; one key: whatever comes nearest well-shaped
    panels), and the overlaid panels beside it (a column each, spanning every row) or
    below it (a row each, spanning every column).

    A block holds a run's side-by-side panels in a row, or (``vertical``) in a column,
    whichever shape suits the frame. ``figsize`` grows with the grid like a
    :class:`~mlviz.Scene`'s, to at most twice 16:9 (1920 x 1080 pixels at 100 dpi).
    """

    def __init__(self, scenes: Sequence[Scene], overlay: Sequence[int],
                 shape: Sequence[int], keys: Sequence[str] = ()) -> None:
        scene = scenes[0]
        count = len(scene.panels)
        self.overlay = tuple(overlay)
        self.side = tuple(i for i in range(count) if i not in self.overlay)
        ratios = _ratios(scene)
        mean = sum(ratios) / len(ratios)
        ratios = [r / mean for r in ratios]  # a panel of average width: 1
        self.side_ratios = [ratios[i] for i in self.side]
        self.blocks, self.vertical, self.below, columns, rows = self._arrange(shape)
        first_side = self.side[0] if self.side else count
        if self.below:
            self.left, self.right = (), ()
        else:
            self.left = tuple(i for i in self.overlay if i < first_side)
            self.right = tuple(i for i in self.overlay if i > first_side)
        block = 1.0 if self.vertical else sum(self.side_ratios)
        self.width_ratios = [*(max(ratios[i], 1.0) for i in self.left),
                             *([block] * self.blocks[1]),
                             *(max(ratios[i], 1.0) for i in self.right)] or [1.0]
        tall = len(self.side) if self.vertical else 1
        self.height_ratios = [*([tall] * self.blocks[0]),
                              *([1.0] * (len(self.overlay) if self.below else 0))]
        scale = _scale(columns, rows)
        self.figsize = (round(DEFAULT_FIGSIZE[0] * scale, 3), round(DEFAULT_FIGSIZE[1] * scale, 3))
        self.title = _title(scenes, keys)
        self.legend = scene.legend

    def _arrange(self, shape: Sequence[int]) -> tuple[tuple[int, int], bool, bool, int, int]:
        """((block rows, block columns), vertical blocks, overlays below, panel columns,
        panel rows) that bring the panels nearest :data:`TARGET_ASPECT` (an empty block
        slot costs)."""
        side, overlays = len(self.side), len(self.overlay)
        if not side:
            return (0, 0), False, False, overlays, 1
        runs = math.prod(shape)
        grids = [(shape[0], shape[1])] if len(shape) == 2 else \
            [(-(-runs // cols), cols) for cols in range(1, runs + 1)]
        best = None
        for rows, cols in grids:
            empty = rows * cols - runs
            if len(shape) == 1 and empty >= cols:
                continue
            for vertical in ((False, True) if side > 1 else (False,)):
                for below in ((False, True) if overlays else (False,)):
                    columns = cols if vertical else cols * side
                    panel_rows = rows * side if vertical else rows
                    if below:
                        panel_rows += overlays
                    else:
                        columns += overlays
                    scale = _scale(columns, panel_rows)
                    # Inches a panel has, less what its labels, titles and ticks take.
                    width = DEFAULT_FIGSIZE[0] * scale / columns - 0.6
                    height = DEFAULT_FIGSIZE[1] * scale / panel_rows - 0.9
                    cost = abs(math.log(max(width, 0.1) / max(height, 0.1) / TARGET_ASPECT)) \
                        + 0.4 * empty
                    if best is None or cost < best[0] - 1e-9:
                        best = (cost, (rows, cols), vertical, below, columns, panel_rows)
        assert best is not None
        return best[1:]

    def place(self, r: int) -> tuple[int, int]:
        """Grid row and column of run ``r``'s block."""
        return divmod(r, self.blocks[1])


def _scale(columns: int, rows: int) -> float:
    """How much larger than 16:9 at 9.6 x 5.4 in a figure of this many panels is."""
    return min(MAX_SCALE, 1 + GROWTH_PER_CELL * max(0, columns - 2, rows - 1))


@dataclass
class _Figure:
    """The panels of one sweep figure, as :class:`SweepRenderer` set them up."""

    side: list[list[Panel]]  # per run: its side-by-side panel copies
    overlays: list[Panel]
    titles: list[Any]  # per run: its block's title (a Text), None without blocks
    epoch: Any  # the frame's epoch (a Text)
    footer: Any  # runs' endings, when no block shows them (a Text or None)


def _limits_of(ax) -> list[str]:
    return ["x", "y", "z"] if getattr(ax, "name", "") == "3d" else ["x", "y"]


def share_limits(axes: Sequence[Any], keep: Sequence[bool]) -> None:
    """Give every axis of ``axes`` the union of the limits of those ``keep`` marks (all if
    none); the others are clipped to it (3D artists too)."""
    kept = [ax for ax, k in zip(axes, keep) if k] or list(axes)
    for dim in _limits_of(axes[0]):
        limits = [getattr(ax, f"get_{dim}lim")() for ax in kept]
        lo = min(min(pair) for pair in limits)
        hi = max(max(pair) for pair in limits)
        for ax in axes:
            current = getattr(ax, f"get_{dim}lim")()
            getattr(ax, f"set_{dim}lim")((hi, lo) if current[0] > current[1] else (lo, hi))
    for ax, k in zip(axes, keep):
        if not k and getattr(ax, "name", "") == "3d":
            for artist in ax.get_children():
                if hasattr(artist, "_axlim_clip"):  # matplotlib ≥ 3.10: clip 3D artists
                    artist._axlim_clip = True


class SweepRenderer(Renderer):
    """Draws a :class:`PreparedSweep`: the :class:`~mlviz.Renderer` interface
    (``frames``, ``figure_at``, ``render``, ``frame_size``; ``run.n_frames`` frames), so
    every writer, the HTML player and the worker processes of ``--jobs`` take it as is.

    Each figure sets up, per run, a copy of every side-by-side panel (then gives the
    copies of one panel the union of their limits) and one copy of every overlaid panel
    with all runs; each frame updates every run to its snapshot for the frame's epoch.
    """

    def __init__(self, prepared: PreparedSweep, dpi: float = DEFAULT_DPI,
                 theme: Theme | str | None = None) -> None:
        sweep = prepared.sweep
        for scene, run in zip(prepared.scenes, sweep.runs):
            scene.check(run, prepared.algorithm.name)
        self.prepared = prepared
        self.scene = prepared.layout
        self.run = sweep
        self.dpi = dpi
        self.theme = resolve_theme(theme)

    def _build(self) -> tuple[Figure, _Figure]:
        """A new figure with fresh copies of every panel set up on it."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        prepared, layout, sweep = self.prepared, self.scene, self.run
        fig = _figure_class()(figsize=layout.figsize, dpi=self.dpi, layout="constrained")
        FigureCanvasAgg(fig)
        rows, cols = layout.blocks
        grid = fig.add_gridspec(max(len(layout.height_ratios), 1), len(layout.width_ratios),
                                width_ratios=layout.width_ratios,
                                height_ratios=layout.height_ratios or None)
        theme = self.theme
        colors = theme.colors(sweep.n_runs)
        labels = sweep.labels
        side: list[list[Panel]] = []
        titles = []
        axes: dict[int, list[Any]] = {p: [] for p in layout.side}
        for r, (run, scene) in enumerate(zip(sweep.runs, prepared.scenes)):
            copies: list[Panel] = []
            if layout.side:
                row, col = layout.place(r)
                block = fig.add_subfigure(grid[row, len(layout.left) + col])
                inner = block.add_gridspec(len(layout.side), 1) if layout.vertical else \
                    block.add_gridspec(1, len(layout.side), width_ratios=layout.side_ratios)
                for j, p in enumerate(layout.side):
                    panel = copy.deepcopy(scene.panels[p])
                    panel.theme = theme
                    ax = block.add_subplot(inner[j, 0] if layout.vertical else inner[0, j],
                                           projection=panel.projection)
                    panel.setup(ax, run)
                    copies.append(panel)
                    axes[p].append(ax)
                longest = f"{labels[r]} — diverged at epoch {int(run.epochs[-1])}"
                titles.append(block.suptitle(longest, color=colors[r],
                                             fontsize=theme.fontsize(11.5), fontweight="bold"))
            else:
                titles.append(None)
            side.append(copies)
        keep = [run.stopped != DIVERGED for run in sweep.runs]
        for p in layout.side:
            share_limits(axes[p], keep)
        overlays = []
        beside = (*layout.left, *layout.right)
        for k, p in enumerate(layout.overlay if layout.below else beside):
            if layout.below:
                where = grid[rows + k, :]
            else:
                where = grid[:, k if k < len(layout.left) else k + cols]
            panel = copy.deepcopy(prepared.scenes[0].panels[p])
            panel.theme = theme
            ax = fig.add_subplot(where, projection=panel.projection)
            panel.setup_overlay(ax, sweep.runs, labels, colors)
            overlays.append(panel)
        if layout.title:
            _fitted_title(fig, layout.title)
        epoch = fig.text(0.995, 0.995, f"epoch {int(sweep.epochs[-1])}", ha="right",
                         va="top", fontsize=theme.fontsize(10), family="DejaVu Sans Mono",
                         color=theme.text)
        footer = None if layout.side else fig.text(0.5, 0.005, "", ha="center",
                                                   va="bottom", fontsize=theme.fontsize(9))
        if layout.legend:
            _figure_legend(fig, layout.legend)  # fig.axes holds the blocks' axes too
        return fig, _Figure(side, overlays, titles, epoch, footer)

    def _update(self, panels: _Figure, index: int) -> tuple[list[Artist], bool]:
        """Every run to its snapshot for frame ``index``: (changed artists, full redraw)."""
        sweep = self.run
        snapshots = [sweep.snapshot(r, index) for r in range(sweep.n_runs)]
        changed: list[Artist] = []
        full = False

        def add(artists) -> None:
            nonlocal full
            if artists is None:
                full = True
            else:
                changed.extend(artists)

        for copies, snapshot in zip(panels.side, snapshots):
            for panel in copies:
                add(panel.update(snapshot))
        for panel in panels.overlays:
            add(panel.update_overlay(snapshots))
        labels = sweep.labels
        endings = []
        for r, title in enumerate(panels.titles):
            status = sweep.status(r, index)
            if status:
                endings.append(f"{labels[r]} {status}")
            if title is not None:
                title.set_text(f"{labels[r]} — {status}" if status else labels[r])
                changed.append(title)
        panels.epoch.set_text(f"epoch {int(sweep.epochs[index])}")
        changed.append(panels.epoch)
        if panels.footer is not None:
            panels.footer.set_text(" · ".join(endings))
            changed.append(panels.footer)
        return changed, full

