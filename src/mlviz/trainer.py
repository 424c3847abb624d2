"""The Trainer protocol and the training loop that turns snapshots into a Run."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .config import Config
from .dataset import Dataset
from .schedule import FrameSchedule
from .snapshot import Snapshot, frozen_array


@runtime_checkable
class Trainer(Protocol):
    """Trains on a dataset and yields one :class:`Snapshot` per epoch, epochs increasing.

    A trainer is built from its algorithm's config (``Algorithm.trainer(config)``) and holds
    no state between runs: calling ``run`` twice with the same config gives the same snapshots.
    """

    def run(self, dataset: Dataset) -> Iterator[Snapshot]: ...


@dataclass(frozen=True)
class Run:
    """A finished training run: what every panel receives in ``setup``.

    ``snapshots`` are the ones chosen to be drawn (one per frame); ``epochs`` and ``losses``
    hold the whole history, every epoch, so loss curves stay smooth however sparse the frames.
    """

    config: Config
    dataset: Dataset
    snapshots: tuple[Snapshot, ...]
    epochs: np.ndarray
    losses: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "epochs", frozen_array(np.asarray(self.epochs, dtype=int)))
        object.__setattr__(self, "losses", frozen_array(np.asarray(self.losses, dtype=float)))

    @property
    def n_frames(self) -> int:
        return len(self.snapshots)

    def losses_until(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The loss history up to and including ``epoch``: (epochs, losses)."""
        stop = int(np.searchsorted(self.epochs, epoch, side="right"))
        return self.epochs[:stop], self.losses[:stop]


def train(
    trainer: Trainer,
    dataset: Dataset,
    config: Config,
    schedule: FrameSchedule | None = None,
    on_epoch: Callable[[Snapshot], None] | None = None,
) -> Run:
    """Run ``trainer`` to the end and keep the snapshots ``schedule`` chooses to draw.

    Without a frame budget only wanted snapshots (and the latest) are held in memory.
    """
    schedule = schedule or FrameSchedule.every()
    keep_all = schedule.budget is not None
    kept: list[Snapshot] = []
    epochs: list[int] = []
    losses: list[float] = []
    last: Snapshot | None = None
    for snapshot in trainer.run(dataset):
        if not isinstance(snapshot, Snapshot):
            raise TypeError(f"trainer yielded {type(snapshot).__name__}, not a Snapshot")
        if last is not None and snapshot.epoch <= last.epoch:
            raise ValueError(f"epochs must increase: {snapshot.epoch} after {last.epoch}")
        if keep_all or schedule.wants(snapshot.epoch):
            kept.append(snapshot)
        epochs.append(snapshot.epoch)
        losses.append(snapshot.loss if math.isfinite(snapshot.loss) else math.nan)
        last = snapshot
        if on_epoch is not None:
            on_epoch(snapshot)
    if last is None:
        raise ValueError("the trainer yielded no snapshot")
    if not kept or kept[-1] is not last:
        kept.append(last)
    chosen = schedule.select([s.epoch for s in kept])
    return Run(
        config=config,
        dataset=dataset,
        snapshots=tuple(kept[i] for i in chosen),
        epochs=np.array(epochs),
        losses=np.array(losses),
    )
