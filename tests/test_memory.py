"""Memory stays bounded however long a trainer runs, one that never ends included: the
snapshots kept to be drawn and the traces are thinned on the fly, evenly, under the
limits :mod:`mlviz.limits` states (``DEFAULT_FRAMES``, ``MAX_SNAPSHOT_BYTES``,
``MAX_TRACE_ROWS``, ``MAX_TRACE_BYTES``)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mlviz import Config, Dataset, FrameSchedule, Snapshot, limits, traced, train
from mlviz.prepared import frame_captions
from mlviz.thinning import (
    MUST_KEEP,
    WANTED,
    FrameKeeper,
    TraceRows,
    keyframe_level,
    thin_snapshots,
)

DATA = Dataset(np.zeros((3, 2)))
MB = 2**20


@dataclass(frozen=True)
class BigSnapshot(Snapshot):
    weights: np.ndarray = None
    accuracy: float = traced(0.0)
    path: np.ndarray = traced(None)
    keyframe: bool = False


def accuracy(epoch: int) -> float:
    return -5.0 if epoch == 3001 else 1.0 - 1.0 / (epoch + 2)


def loss(epoch: int) -> float:
    return 100.0 if epoch == 4097 else 1.0 / (epoch + 1)


class Endless:
    """Never stops: every epoch a ``size``-float field and a ``trace``-float trace
    (updated in place, as real trainers do); a loss spike at 4097 and an accuracy dip at
    3001, epochs a thinned history skips."""

    def __init__(self, size: int = 10, trace: int = 2, keyframes: bool = False) -> None:
        self.size, self.trace, self.keyframes = size, trace, keyframes

    def run(self, dataset):
        weights, path = np.zeros(self.size), np.zeros(self.trace)
        epoch = 0
        while True:
            weights += 1.0
            path[:] = epoch
            yield BigSnapshot(epoch=epoch, loss=loss(epoch), weights=weights,
                              accuracy=accuracy(epoch), path=path, keyframe=self.keyframes)
            epoch += 1


def test_trace_rows_are_thinned_evenly_and_keep_the_last(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TRACE_ROWS", 64)
    rows = TraceRows(("epoch", "double"))
    for epoch in range(1000):
        rows.add([epoch, 2.0 * epoch])
        assert rows.rows <= 64
    arrays = rows.arrays()
    epochs = arrays["epoch"]
    assert rows.stride == 16 and 32 <= len(epochs) <= 65
    assert epochs[0] == 0 and epochs[-1] == 999
    assert set(np.diff(epochs[:-1])) == {rows.stride}  # evenly spread, then the last
    np.testing.assert_array_equal(arrays["double"], 2.0 * epochs)  # the rows stay whole
    assert not epochs.flags.writeable


def test_a_short_run_keeps_every_epoch_and_no_trace_ranges():
    run = train(Endless(), DATA, Config(), max_epochs=300)
    assert list(run.epochs) == list(range(300)) and run.trained == 0 and run.n_epochs == 300
    assert set(run.ranges) == {"weights"}  # as before: only the fields that are no trace


def test_a_long_run_keeps_an_even_history_with_every_epochs_range(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TRACE_ROWS", 256)
    run = train(Endless(trace=3), DATA, Config(), max_epochs=5000)
    epochs = run.epochs
    assert run.n_epochs == 5000 and len(epochs) <= 257 and run.trained == 5000
    assert epochs[0] == 0 and epochs[-1] == 4999
    gaps = set(np.diff(epochs[:-1]))
    assert len(gaps) == 1 and gaps.pop() in (16, 32)
    # each kept row is that epoch's values
    np.testing.assert_array_equal(run.trace("accuracy"), [accuracy(e) for e in epochs])
    np.testing.assert_array_equal(run.trace("path"), np.repeat(epochs[:, None], 3, axis=1))
    np.testing.assert_array_equal(run.losses, [loss(e) for e in epochs])
    # the spikes fell between kept rows, yet the ranges cover every epoch
    assert 4097 not in epochs and 3001 not in epochs
    assert run.trace_range("loss") == (loss(4999), 100.0)
    assert run.trace_range("accuracy") == (-5.0, accuracy(4999))
    assert run.trace_range("path") == (0.0, 4999.0)
    # frames are still spread over the whole run, and a caption whose epoch the history
    # skipped says the snapshot's own values
    drawn = [s.epoch for s in run.snapshots]
    assert len(drawn) == limits.DEFAULT_FRAMES and drawn[0] == 0 and drawn[-1] == 4999
    skipped = [i for i, s in enumerate(run.snapshots) if s.epoch not in epochs]
    assert skipped
    captions = frame_captions(run)
    for i in skipped:
        assert f"accuracy {accuracy(drawn[i]):.4g}" in captions[i]


def test_without_a_frame_budget_at_most_the_default_frames_are_drawn_evenly():
    run = train(Endless(), DATA, Config(), max_epochs=2 * limits.DEFAULT_FRAMES + 501)
    drawn = np.array([s.epoch for s in run.snapshots])
    assert len(drawn) == limits.DEFAULT_FRAMES
    assert drawn[0] == 0 and drawn[-1] == run.epochs[-1] == 2 * limits.DEFAULT_FRAMES + 500
    gaps = np.diff(drawn)
    assert gaps.max() - gaps.min() <= 1
    short = train(Endless(), DATA, Config(), max_epochs=limits.DEFAULT_FRAMES)
    assert [s.epoch for s in short.snapshots] == list(range(limits.DEFAULT_FRAMES))


def test_the_default_frame_budget_is_the_one_the_help_and_docs_state():
    from mlviz.cli import build_parser

    render = build_parser()._subparsers._group_actions[0].choices["render"]
    assert f"at most {limits.DEFAULT_FRAMES})" in " ".join(render.format_help().split())
    guide = (Path(__file__).resolve().parents[1] / "docs" / "plugins.rst").read_text()
    assert f"at most {limits.DEFAULT_FRAMES:,} (``DEFAULT_FRAMES``" in guide


@pytest.mark.parametrize("keyframes", [True, WANTED])
def test_keyframes_are_bounded_too(keyframes):
    alive = most = 0

    def gone():
        nonlocal alive
        alive -= 1

    class Counted(Endless):
        def run(self, dataset):
            nonlocal alive, most
            for snapshot in super().run(dataset):
                weakref.finalize(snapshot, gone)
                alive += 1
                most = max(most, alive)
                yield snapshot

    run = train(Counted(keyframes=keyframes), DATA, Config(), FrameSchedule.every(4),
                max_epochs=20_000)
    drawn = [s.epoch for s in run.snapshots]
    assert len(drawn) == 4 and drawn[0] == 0 and drawn[-1] == 19_999
    bound = FrameKeeper.SLACK * 4 + 1
    assert most <= 2 * bound + 2  # kept and keyframes, not 20 000


@dataclass(frozen=True)
class Leveled(Snapshot):
    keyframe: object = False


#: Must-keep (True, as 0.1 and 0.2 plugins mark them, or 2) and wanted (1) keyframes.
MUSTS, WANTS = {7, 23, 61, 62}, {3, 10, 30, 40, 50, 70, 80, 95}


class Leveling:
    """100 epochs: ``must`` at MUSTS, 1 at WANTS, False elsewhere."""

    def __init__(self, must: object = True) -> None:
        self.must = must

    def run(self, dataset):
        for epoch in range(100):
            yield Leveled(epoch=epoch, loss=float(epoch),
                          keyframe=self.must if epoch in MUSTS else 1 if epoch in WANTS
                          else False)


def test_keyframe_levels_old_true_is_must_keep():
    """``keyframe=True`` (mlviz 0.1, 0.2) keeps meaning "always draw", although True == 1."""
    assert [keyframe_level(Leveled(0, 0.0, keyframe=v))
            for v in (True, np.bool_(True), 2, 5, 1, np.int64(1), False, 0, None,
                      np.bool_(False))] == [MUST_KEEP] * 4 + [WANTED] * 2 + [0] * 4
    assert keyframe_level(Snapshot(0, 0.0)) == 0


def budgets_drawn(must: object, budget: int, thin: bool) -> list[int]:
    if thin:  # a finished run's snapshots, thinned (``mlviz render run.npz --frames``)
        return [s.epoch for s in thin_snapshots(list(Leveling(must).run(DATA)), budget)]
    return [s.epoch for s in train(Leveling(must), DATA, Config(),
                                   FrameSchedule.every(budget)).snapshots]


@pytest.mark.parametrize("thin", [False, True])
@pytest.mark.parametrize("must", [True, 2])
def test_a_budget_drops_fillers_then_wanted_then_must_keep_evenly(must, thin):
    last = 99
    for budget in (20, 40):  # room for all keyframes: the others fill the rest evenly
        drawn = budgets_drawn(must, budget, thin)
        assert len(drawn) == budget and drawn == sorted(drawn) and drawn[-1] == last
        assert MUSTS | WANTS <= set(drawn)
    # room for the must-keep ones and some wanted: those thinned evenly, no filler
    drawn = budgets_drawn(must, len(MUSTS) + 1 + 4, thin)
    assert MUSTS | {last} <= set(drawn) and len(drawn) == len(MUSTS) + 5
    assert set(drawn) - MUSTS - {last} == {3, 30, 70, 95}  # the 1st, 3rd, 6th, 8th wanted
    drawn = budgets_drawn(must, 3, thin)  # too few even for the must-keep ones
    assert drawn == [7, 61, 99]


def test_old_true_keyframes_draw_as_before_and_beat_wanted_ones():
    """Keyframes marked True are drawn exactly like 2 (must keep); were True taken for 1
    (wanted), they would be thinned with the wanted ones under a tight budget."""
    for budget in (3, 6, 9, 14, 30):
        for thin in (False, True):
            assert budgets_drawn(True, budget, thin) == budgets_drawn(2, budget, thin)
    assert MUSTS <= set(budgets_drawn(True, len(MUSTS) + 2, False))
    assert not MUSTS <= set(budgets_drawn(1, len(MUSTS) + 2, False))


@pytest.mark.parametrize("frames", [None, 5])
def test_memory_stays_under_the_limits_however_many_epochs(monkeypatch, frames):
    """A keep-everything trainer loop would hold 3000 x 96 KB = 280 MB here."""
    monkeypatch.setattr(limits, "MAX_SNAPSHOT_BYTES", 8 * MB)
    monkeypatch.setattr(limits, "MAX_TRACE_BYTES", 4 * MB)
    trainer = Endless(size=10_000, trace=2_000)  # 80 KB a snapshot, 16 KB a trace row
    tracemalloc.start()
    try:
        run = train(trainer, DATA, Config(), FrameSchedule.every(frames), max_epochs=3000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    snapshots = limits.MAX_SNAPSHOT_BYTES if frames is None else 25 * 80_000
    assert peak < snapshots + 1.6 * limits.MAX_TRACE_BYTES + 4 * MB, peak / MB
    assert run.n_epochs == 3000 and len(run.epochs) < 3000  # the history was thinned
    assert run.snapshots[-1].epoch == 2999 and run.n_frames <= (frames or 8 * MB // 80_000)


def test_ctrl_c_while_an_epoch_is_recorded_stops_after_recording_it():
    """The signal comes outside the trainer (here in ``on_epoch``, as it may in the
    recording of a long run's history): training stops with that epoch recorded whole."""
    def on_epoch(snapshot):
        if snapshot.epoch == 40:
            os.kill(os.getpid(), signal.SIGINT)

    handler = signal.getsignal(signal.SIGINT)
    run = train(Endless(trace=3), DATA, Config(), on_epoch=on_epoch, keep_on_interrupt=True)
    assert run.stopped == "interrupted" and run.epochs[-1] == 40 == run.snapshots[-1].epoch
    assert len(run.trace("path")) == len(run.trace("accuracy")) == 41
    assert signal.getsignal(signal.SIGINT) is handler  # put back
    with pytest.raises(KeyboardInterrupt):  # without keep_on_interrupt: raised as ever
        train(Endless(), DATA, Config(), on_epoch=on_epoch)


def test_ctrl_c_inside_the_trainer_stops_it_at_once():
    class Stuck(Endless):
        def run(self, dataset):
            for snapshot in super().run(dataset):
                yield snapshot
                if snapshot.epoch == 7:
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(30)  # an epoch that would take long: not waited for

    start = time.monotonic()
    run = train(Stuck(), DATA, Config(), keep_on_interrupt=True)
    assert run.stopped == "interrupted" and run.epochs[-1] == 7
    assert time.monotonic() - start < 10


# --- the command line, at the stated limits --------------------------------------------

PLUGIN = '''
from dataclasses import dataclass
import numpy as np
from mlviz import Algorithm, Config, Dataset, Scene, Snapshot, hookimpl, traced
from mlviz.panels import LossCurvePanel


@dataclass(frozen=True)
class EndlessConfig(Config):
    size: int = 100_000
    trace: int = 20_000


@dataclass(frozen=True)
class EndlessSnapshot(Snapshot):
    weights: np.ndarray = None
    path: np.ndarray = traced(None)


class Endless:
    def __init__(self, config):
        self.config = config

    def run(self, dataset):
        weights, path = np.zeros(self.config.size), np.zeros(self.config.trace)
        epoch = 0
        while True:
            weights += 1.0
            path += 1.0
            yield EndlessSnapshot(epoch=epoch, loss=1.0 / (epoch + 1), weights=weights,
                                  path=path)
            epoch += 1


@hookimpl
def mlviz_algorithms():
    return [Algorithm(name="endless", summary="never stops", config=EndlessConfig,
                      trainer=Endless, dataset=lambda c: Dataset(np.zeros((2, 1))),
                      scene=lambda c: Scene([LossCurvePanel()]))]
'''
#: What the process may map at most: a keep-everything loop runs out of it (and fails
#: the test) instead of taking the machine's memory. A bounded run maps about 0.7 GB.
ADDRESS_SPACE = 2 * 2**30


@pytest.fixture(scope="module")
def endless_site(tmp_path_factory) -> Path:
    """A distribution with an ``mlviz`` entry point: a trainer that never ends, with an
    800 KB snapshot field and a 160 KB trace every epoch."""
    site = tmp_path_factory.mktemp("site")
    (site / "endless_plugin.py").write_text(PLUGIN)
    info = site / "mlviz_endless-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlviz-endless\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mlviz]\nendless = endless_plugin\n")
    return site


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def render_endless(site: Path, cwd: Path, *args: str, interrupt_after: float | None = None
                   ) -> tuple[int, str, float]:
    """``mlviz render endless -o last.png ARGS``: (exit code, stderr, peak RSS in bytes),
    Ctrl-C (SIGINT) sent after ``interrupt_after`` seconds."""
    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(
        [sys.executable, "-m", "mlviz.cli", "render", "endless", "-o", "last.png", *args],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, preexec_fn=_limit_address_space)
    watchdog = threading.Timer(300, process.kill)  # a hung run fails, it does not hang
    watchdog.start()
    try:
        if interrupt_after is not None:
            time.sleep(interrupt_after)
            process.send_signal(signal.SIGINT)
        assert process.stderr is not None
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)  # the child's own peak memory
    finally:
        watchdog.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    return process.returncode, stderr, usage.ru_maxrss * 1024.0


@pytest.fixture(scope="module")
def start_rss(endless_site, tmp_path_factory) -> float:
    """The peak memory of a 2-epoch run: the interpreter, numpy, matplotlib, drawing."""
    code, stderr, peak = render_endless(endless_site, tmp_path_factory.mktemp("start"),
                                        "--max-epochs", "2")
    assert code == 0, stderr
    return peak


@pytest.mark.slow
@pytest.mark.parametrize("frames", [[], ["--frames", "5"]], ids=["no-budget", "frames-5"])
def test_an_endless_trainer_from_the_command_line_stays_bounded(endless_site, start_rss,
                                                                tmp_path, frames):
    """2500 epochs: keeping everything would take 2500 x 0.96 MB = 2.4 GB (and more than
    ADDRESS_SPACE allows; mlviz 0.2 peaked at 1.2 GB with ``--frames 5``, the traces
    held twice); the growth over a 2-epoch run stays under the limits (measured: 420 MB
    without a budget, 180 MB with ``--frames 5``)."""
    start = start_rss
    code, stderr, peak = render_endless(endless_site, tmp_path, "--max-epochs", "2500",
                                        *frames)
    assert code == 0, stderr
    assert "after 2500 epochs" in stderr
    snapshots = limits.MAX_SNAPSHOT_BYTES if not frames else 25 * 800_000
    bound = snapshots + 1.6 * limits.MAX_TRACE_BYTES + 64 * MB
    assert peak - start < bound, ((peak - start) / MB, bound / MB)
    assert (tmp_path / "last.png").stat().st_size > 0


@pytest.mark.slow
def test_an_endless_trainer_stops_on_ctrl_c_and_draws_what_was_trained(endless_site,
                                                                       tmp_path):
    code, stderr, peak = render_endless(endless_site, tmp_path, "--set", "trace=2000",
                                        interrupt_after=6.0)
    assert code == 0, stderr
    assert "training stopped (interrupted) after" in stderr
    assert (tmp_path / "last.png").stat().st_size > 0
    bound = limits.MAX_SNAPSHOT_BYTES + 1.6 * limits.MAX_TRACE_BYTES + 400 * MB
    assert peak < bound, (peak / MB, bound / MB)
