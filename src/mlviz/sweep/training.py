"""Training a sweep's runs: one schedule for all, two processes at a time, divergence
stopped and marked."""

from __future__ import annotations

import math
import signal
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..algorithm import Algorithm
from ..config import Config
from ..errors import MlvizError
from ..optional import optional_dependencies
from ..schedule import FrameSchedule
from ..snapshot import Snapshot
from ..trainer import Run, Trainer, train
from .declare import DIVERGED, TRAIN_JOBS


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


class DivergenceGuard:
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
class TrainingJob:
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


def train_one(job: TrainingJob) -> Run:
    """Train one run of a sweep; a diverging run stops and says so (``Run.stopped``)."""
    with optional_dependencies(job.algorithm.name):
        guard = DivergenceGuard((job.trainer or job.algorithm.trainer)(job.config),
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


def train_jobs(jobs: Sequence[TrainingJob], processes: int | None = None,
               on_done: Callable[[], None] | None = None) -> list[Run]:
    """Train every job, ``processes`` at a time (default: two where the cores allow).

    Workers are forked, where that is safe (see :func:`mlviz.parallel.start_method`) and
    torch is not yet loaded here; otherwise the runs train here, one after another. A
    worker's failure that is not the user's (an :class:`MlvizError`) is trained again
    here, so that the error and the plugin it names are the one-process path's.
    """
    from ..parallel import available_cores, start_method

    if processes is None:
        processes = min(TRAIN_JOBS, available_cores())
    processes = min(processes, len(jobs))
    if processes <= 1 or start_method() != "fork" or "torch" in sys.modules:
        runs = []
        for job in jobs:
            runs.append(train_one(job))
            if on_done is not None:
                on_done()
        return runs
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with warnings.catch_warnings():  # Python >= 3.12 warns about forking with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pool = context.Pool(processes, initializer=_worker_start)
    try:
        pending = [pool.apply_async(train_one, (job,)) for job in jobs]
        runs = []
        for job, result in zip(jobs, pending):
            try:
                runs.append(result.get())
            except MlvizError:
                raise
            except Exception:  # again here, for the real traceback and the plugin's name
                runs.append(train_one(job))
            if on_done is not None:
                on_done()
        pool.close()
        return runs
    finally:
        pool.terminate()
        pool.join()
