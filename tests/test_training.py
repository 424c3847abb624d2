"""Snapshots, frame schedules and the training loop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from mlviz import Config, Dataset, FrameSchedule, Snapshot, train


@dataclass(frozen=True)
class LabelSnapshot(Snapshot):
    labels: np.ndarray = None


class CountingTrainer:
    """Yields ``n`` snapshots; mutates its weights in place, as real trainers do."""

    def __init__(self, n: int) -> None:
        self.n = n

    def run(self, dataset):
        w = np.zeros(2)
        for epoch in range(self.n):
            w += 1.0  # in place: snapshots must not see later values
            yield LabelSnapshot(epoch=epoch, loss=1.0 / (epoch + 1), params={"w": w},
                                labels=np.array([epoch]))


DATA = Dataset(np.zeros((3, 2)))


def test_snapshot_arrays_are_copied_and_read_only():
    w = np.array([1.0, 2.0])
    snap = LabelSnapshot(epoch=np.int64(3), loss=np.float32(0.5), params={"w": w}, labels=w)
    w[0] = 99.0
    assert snap.params["w"][0] == 1.0 and snap.labels[0] == 1.0
    assert type(snap.epoch) is int and type(snap.loss) is float
    with pytest.raises(ValueError):
        snap.params["w"][0] = 5.0
    with pytest.raises(TypeError):
        snap.params["v"] = w  # the mapping itself is read-only


def test_notebook_schedule_is_dense_early_and_sparse_late():
    schedule = FrameSchedule.notebook()
    epochs = list(range(3001))
    chosen = [epochs[i] for i in schedule.select(epochs)]
    assert chosen[:9] == [0, 1, 2, 3, 4, 5, 10, 15, 25]
    assert chosen[9:15] == [50, 200, 400, 600, 800, 1000]
    assert chosen[15:] == [1500, 2000, 2500, 3000]


def test_schedule_always_ends_on_the_last_snapshot_and_respects_a_budget():
    epochs = list(range(37))
    assert FrameSchedule.notebook().select(epochs)[-1] == 36
    picks = FrameSchedule.every(budget=10).select(epochs)
    assert len(picks) == 10 and picks[0] == 0 and picks[-1] == 36
    assert picks == sorted(set(picks))
    assert FrameSchedule.every(budget=100).select(epochs) == list(range(37))
    assert FrameSchedule.every(budget=1).select(epochs) == [36]
    assert FrameSchedule.notebook(budget=1).select(epochs) == [36]


def test_train_keeps_history_and_chosen_snapshots():
    run = train(CountingTrainer(30), DATA, Config(), FrameSchedule.notebook())
    assert [s.epoch for s in run.snapshots] == [0, 1, 2, 3, 4, 5, 10, 15, 25, 29]
    assert run.epochs.tolist() == list(range(30))
    assert run.losses[9] == pytest.approx(0.1)
    assert run.snapshots[-1].params["w"].tolist() == [30.0, 30.0]
    assert run.snapshots[0].params["w"].tolist() == [1.0, 1.0]
    epochs, losses = run.losses_until(4)
    assert epochs.tolist() == [0, 1, 2, 3, 4] and len(losses) == 5


def test_train_with_budget():
    run = train(CountingTrainer(50), DATA, Config(), FrameSchedule.every(budget=5))
    assert [s.epoch for s in run.snapshots] == [0, 12, 24, 36, 49]


def test_a_budget_keeps_memory_bounded_however_long_the_run():
    import weakref

    alive = most = 0

    def gone():
        nonlocal alive
        alive -= 1

    class Long:
        def run(self, dataset):
            nonlocal most, alive
            for epoch in range(20_000):
                snapshot = Snapshot(epoch=epoch, loss=1.0 / (epoch + 1))
                weakref.finalize(snapshot, gone)
                alive += 1
                most = max(most, alive)
                yield snapshot

    run = train(Long(), DATA, Config(), FrameSchedule.every(budget=4))
    assert [s.epoch for s in run.snapshots][0] == 0 and run.snapshots[-1].epoch == 19_999
    assert len(run.snapshots) == 4 and len(run.epochs) == 20_000
    gaps = np.diff([s.epoch for s in run.snapshots])
    assert gaps.max() < 1.5 * gaps.min()  # still spread evenly over the run
    assert most <= 4 * 4 + 4  # about SLACK × budget held at any time, not 20 000


def test_train_rejects_bad_trainers():
    class Backwards:
        def run(self, dataset):
            yield Snapshot(epoch=1, loss=0.0)
            yield Snapshot(epoch=1, loss=0.0)

    class Empty:
        def run(self, dataset):
            return iter(())

    with pytest.raises(ValueError, match="epochs must increase"):
        train(Backwards(), DATA, Config())
    with pytest.raises(ValueError, match="no snapshot"):
        train(Empty(), DATA, Config())


def test_a_budget_of_none_keeps_the_schedules_own_budget():
    schedule = FrameSchedule.notebook(budget=7)
    assert schedule.with_budget(None) is schedule
    assert schedule.with_budget(3).budget == 3


def test_a_budget_ends_on_the_last_epoch_even_when_the_rhythm_skips_it():
    run = train(CountingTrainer(15_002), DATA, Config(), FrameSchedule.notebook(budget=2))
    assert [s.epoch for s in run.snapshots] == [0, 15_001]
    run = train(CountingTrainer(15_002), DATA, Config(), FrameSchedule.notebook(budget=5))
    assert run.snapshots[-1].epoch == 15_001 and len(run.snapshots) == 5
