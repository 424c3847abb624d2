"""Frames drawn by worker processes (``--jobs``): the same pixels and bytes as one process,
and failures that are one line and leave nothing.

A throwaway plugin (``par-line``: a dot moving along a line, its curve on a second panel)
draws 24 small frames; ``fail_at`` makes its panel raise, or kill the process drawing, at
one epoch, so that the failure happens in a worker and not in the main process, which
draws the first frame itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from mlviz import parallel
from mlviz.cli import main
from mlviz.errors import LimitError
from mlviz.writers import GifWriter, open_writer

PLUGIN = '''
import os
import signal
from dataclasses import dataclass

import numpy as np

from mlviz import Algorithm, Config, Dataset, Panel, Scene, Snapshot, hookimpl, param
from mlviz.panels import LossCurvePanel


@dataclass(frozen=True)
class LineConfig(Config):
    steps: int = param(24, "epochs", min=1)
    fail_at: int = param(-1, "epoch at which the panel fails (-1: never)")
    failure: str = param("raise", "how it fails", choices=("raise", "kill", "stop"))
    slow: float = param(0.0, "seconds each frame takes at least", min=0)


@dataclass(frozen=True)
class LineSnapshot(Snapshot):
    x: float = 0.0


class LineTrainer:
    def __init__(self, config):
        self.config = config

    def run(self, dataset):
        for epoch in range(self.config.steps):
            yield LineSnapshot(epoch=epoch, loss=1.0 / (epoch + 1), x=epoch / 23.0)


class DotPanel(Panel):
    """A dot on a line."""

    name = "par-dot"
    fields = ("x",)

    def setup(self, ax, run):
        self.config = run.config
        ax.set_xlim(-0.1, 1.1)
        ax.set_ylim(-0.1, 1.1)
        ax.plot([0, 1], [0, 1], color="#999999")
        self.dot, = ax.plot([], [], "o", color="#d62728", markersize=8)
        self.label = ax.set_title(" ")

    def update(self, snapshot):
        if self.config.slow:
            import time
            time.sleep(self.config.slow)
        if snapshot.epoch == self.config.fail_at:
            if self.config.failure == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.config.failure == "stop":
                open("worker.marker", "w").close()
                import time
                time.sleep(60)
            raise RuntimeError(f"no dot at epoch {snapshot.epoch}")
        self.dot.set_data([snapshot.x], [snapshot.x])
        self.label.set_text(f"x = {snapshot.x:.3f}")
        return [self.dot, self.label]


@hookimpl
def mlviz_algorithms():
    return [Algorithm(name="par-line", summary="a dot moving along a line",
                      config=LineConfig, trainer=LineTrainer,
                      dataset=lambda c: Dataset(np.zeros((2, 1))),
                      scene=lambda c: Scene([DotPanel(), LossCurvePanel()],
                                            figsize=(3.2, 1.8)))]


@hookimpl
def mlviz_panels():
    return [DotPanel]
'''

HINT = "(set MLVIZ_TRACEBACK=1 or pass --traceback to see where)"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A site folder with the throwaway ``mlviz-parline`` distribution."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "par_line_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = folder / "mlviz_parline-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlviz-parline\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mlviz]\npar-line = par_line_plugin\n")
    return folder


@pytest.fixture
def with_site(site, monkeypatch, tmp_path):
    """The plugin installed; cwd an empty folder; workers started however cheap a frame."""
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(parallel, "MIN_DRAW_SECONDS", 0.0)
    monkeypatch.setattr(parallel, "MIN_FRAME_SECONDS", 0.0)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


class Collect:
    """A writer that keeps every frame (the renderer's side of the contract only)."""

    last_frame_only = False

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def write(self, frame: np.ndarray) -> None:
        self.frames.append(np.array(frame))


def prepared(name: str, **overrides):
    from mlviz.api import prepare

    return prepare(name, **overrides)


def frames_of(renderer, jobs: int, method: str | None = None) -> list[np.ndarray]:
    writer = Collect()
    if method is None:
        renderer.render(writer, jobs=jobs)
    else:  # the same split, with the workers started another way
        with parallel.draw_in_workers(renderer, list(range(renderer.run.n_frames)), [], jobs,
                                      method=method) as drawn:
            writer.frames = [frame for _, frame in sorted(drawn, key=lambda pair: pair[0])]
    return writer.frames


def assert_same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x.shape == y.shape and np.array_equal(x, y), f"frame {i} differs"


def test_two_jobs_draw_the_same_frames_as_one(with_site):
    renderer = prepared("par-line").renderer(dpi=50)
    one = frames_of(renderer, jobs=1)
    assert len(one) == 24 and parallel.worth_it(24, 2)
    assert not np.array_equal(one[1], one[2])  # the frames do differ
    assert_same(frames_of(renderer, jobs=2), one)
    assert_same(frames_of(renderer, jobs=3), one)


@pytest.mark.slow
def test_a_real_scene_in_2d_and_3d_is_the_same_with_workers():
    for name, overrides in (("kmeans", {"k_max": 6, "max_iter": 5, "stop_early": False}),
                            ("perceptron", {})):
        renderer = prepared(name, frames=parallel.MIN_FRAMES, **overrides).renderer(dpi=40)
        assert renderer.run.n_frames == parallel.MIN_FRAMES
        forked = frames_of(renderer, jobs=2, method=parallel.start_method())
        assert_same(forked, frames_of(renderer, jobs=1))


@pytest.mark.slow
def test_spawned_workers_draw_the_same_frames_too(with_site):
    """Where forking is not safe the workers are spawned: each builds its own figure and
    settles the layout on the same first frame."""
    renderer = prepared("par-line").renderer(dpi=50)
    assert_same(frames_of(renderer, jobs=2, method="spawn"), frames_of(renderer, jobs=1))


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_files_are_byte_identical_for_any_jobs_with_workers_encoding(with_site, tmp_path,
                                                                    monkeypatch, suffix):
    """Workers draw and encode (quantize, diff, compress) their frames; this process only
    writes them in order: the file is the one process's, and the spooled one's."""
    from mlviz.writers import Writer

    # Encoding workers are forked only (a thread left by an earlier test would mean spawn)
    monkeypatch.setattr(parallel, "start_method", lambda: "fork")
    encoded = []
    write_encoded = Writer.write_encoded
    monkeypatch.setattr(Writer, "write_encoded",
                        lambda self, item: (encoded.append(1), write_encoded(self, item)))
    renderer = prepared("par-line").renderer(dpi=50)
    paths = {}
    for jobs in (1, 2, 3):
        encoded.clear()
        paths[jobs] = tmp_path / f"j{jobs}{suffix}"
        with open_writer(paths[jobs], fps=5) as writer:
            assert renderer.render(writer, jobs=jobs) == 24
        # From ENCODE_FROM_JOBS jobs, every frame came encoded from the workers; below,
        # workers draw and this process encodes.
        assert len(encoded) == (24 if jobs >= parallel.ENCODE_FROM_JOBS else 0), jobs
    spooled = tmp_path / f"spooled{suffix}"
    with open_writer(spooled, fps=5) as writer:  # frames written in order, no priming
        for frame in renderer.frames():
            writer.write(frame)
    assert paths[1].read_bytes() == paths[2].read_bytes() == paths[3].read_bytes() == \
        spooled.read_bytes()


def test_the_main_process_draws_two_frames_when_workers_encode(with_site, tmp_path,
                                                                monkeypatch):
    """With encoding workers this process draws the layout's frame and one more (what a
    frame costs), then only orders and writes bytes: the workers draw the palette's
    samples and every other frame."""
    from mlviz.renderer import FrameDrawer

    monkeypatch.setattr(parallel, "start_method", lambda: "fork")
    drawn: list[int] = []
    real = FrameDrawer.draw
    monkeypatch.setattr(FrameDrawer, "draw", lambda self, i: (drawn.append(i), real(self, i))[1])
    renderer = prepared("par-line").renderer(dpi=30)
    with open_writer(tmp_path / "a.gif", fps=5) as writer:
        assert renderer.render(writer, jobs=2) == 24
    assert drawn == GifWriter(tmp_path / "b.gif", fps=5).frames_wanted_first(24)[:2]


def test_workers_take_every_position_once_sharing_the_last_ranges():
    """Each worker owns a range; one out of frames takes the second half of the largest
    range left (when it has MIN_STEAL frames or more): every position is taken once."""
    import multiprocessing
    import random

    for count, workers, seed in ((75, 2, 0), (75, 3, 1), (24, 2, 2), (9, 4, 3), (100, 7, 4)):
        bounds = [count * w // workers for w in range(workers + 1)]
        ranges = multiprocessing.get_context("fork").Array(
            "q", [b for w in range(workers) for b in bounds[w:w + 2]])
        taken: list[int] = []
        steals = 0
        active = list(range(workers))
        rng = random.Random(seed)
        while active:
            worker = rng.choice(active)
            before = (ranges[2 * worker], ranges[2 * worker + 1])
            position = parallel._take(ranges, worker)
            if position is None:
                active.remove(worker)
                continue
            steals += position != before[0]
            taken.append(position)
        assert sorted(taken) == list(range(count)), (count, workers)
        assert steals <= count // parallel.MIN_STEAL


def test_the_gif_writer_takes_its_palette_frames_first(tmp_path):
    writer = GifWriter(tmp_path / "a.gif", fps=5)
    try:
        picks = writer.frames_wanted_first(100)
        assert picks[0] == 0 and picks[-1] == 99 and len(picks) == GifWriter.palette_samples
        assert writer.frames_wanted_first(3) == [0, 1, 2]
        frame = np.full((8, 10, 3), 255, np.uint8)
        writer.prime([frame, frame, frame])
        writer.write(frame)
        with pytest.raises(RuntimeError, match="before the first frame"):
            writer.prime([frame])
    finally:
        writer.abort()
    assert listing(tmp_path) == []


def test_short_runs_are_drawn_here(with_site, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("workers started for a short run")

    monkeypatch.setattr(parallel, "draw_in_workers", refuse)
    renderer = prepared("par-line", steps=parallel.MIN_FRAMES - 1).renderer(dpi=30)
    writer = Collect()
    assert renderer.render(writer, jobs=8) == parallel.MIN_FRAMES - 1
    assert not parallel.worth_it(parallel.MIN_FRAMES - 1, 8)
    assert not parallel.worth_it(1000, 1)


def test_cheap_frames_are_drawn_here(with_site, monkeypatch):
    """Workers start only when the second frame says the rest is worth it."""
    def refuse(*args, **kwargs):
        raise AssertionError("workers started for cheap frames")

    monkeypatch.setattr(parallel, "MIN_DRAW_SECONDS", 60.0)
    monkeypatch.setattr(parallel, "_Worker", refuse)
    renderer = prepared("par-line").renderer(dpi=30)
    assert_same(frames_of(renderer, jobs=2), frames_of(renderer, jobs=1))


def test_jobs_are_checked():
    assert parallel.check_jobs(3) == 3
    for bad in (0, -1, 2.5, True, parallel.MAX_JOBS + 1):
        with pytest.raises(LimitError, match="jobs must be a whole number"):
            parallel.check_jobs(bad)
    assert parallel.default_jobs() == parallel.available_cores() >= 1
    assert parallel.pays_off(0.02, 30, 2) and not parallel.pays_off(0.02, 30, 1)
    assert not parallel.pays_off(0.005, 1000, 2)  # cheaper to draw than to encode
    assert not parallel.pays_off(0.1, 2, 2)  # too little left


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_a_panel_failing_in_a_worker_is_the_one_line_of_one_process(with_site, capsys,
                                                                     suffix):
    """The frame a worker failed on is drawn again here, so the error names the plugin
    and its panel exactly as with --jobs 1; the output is not written."""
    (with_site / f"out{suffix}").write_bytes(b"previous")
    expected = ("mlviz: error: plugin par-line (mlviz-parline 0.1) failed in its panel "
                f"par-dot: RuntimeError: no dot at epoch 17 {HINT}")
    for jobs in ("3", "2", "1"):  # workers that encode (GIF) or draw (MP4); none
        status = main(["render", "par-line", "--set", "fail_at=17", "-j", jobs,
                       "-o", f"out{suffix}", "-q", "--dpi", "30"])
        err = capsys.readouterr().err.strip()
        assert status == 1 and err == expected, (jobs, err)
        assert listing(with_site) == [f"out{suffix}"]
        assert (with_site / f"out{suffix}").read_bytes() == b"previous"


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_a_worker_that_dies_is_one_line_and_leaves_nothing(with_site, capsys, suffix):
    # Frame 10: not one of the two frames this process draws itself.
    from mlviz.writers.palette import palette_picks

    assert 10 not in palette_picks(24, GifWriter.palette_samples)[:2]
    for jobs in ("3", "2"):  # workers that encode (GIF) or draw (MP4): three, two
        status = main(["render", "par-line", "--set", "fail_at=10", "--set", "failure=kill",
                       "-j", jobs, "-o", f"out{suffix}", "-q", "--dpi", "30"])
        err = capsys.readouterr().err.strip()
        assert status == 2, jobs
        assert err == ("mlviz: error: a render worker died (killed by SIGKILL); nothing was "
                       "written; try --jobs 1 or fewer frames (--frames) if memory is short")
        assert listing(with_site) == []


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_sigterm_to_the_process_group_stops_the_workers_and_leaves_nothing(site, tmp_path):
    """The whole group (mlviz and its workers) gets SIGTERM while a worker is drawing: one
    line, exit 128 + 15, no temporary file, no worker left running."""
    (tmp_path / "out.gif").write_bytes(b"previous")
    import mlviz

    # This mlviz (the one under test), not whichever the interpreter would find.
    source = Path(mlviz.__file__).parents[1]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": f"{site}{os.pathsep}{source}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mlviz.cli", "render", "par-line", "--set", "fail_at=20",
         "--set", "failure=stop", "--set", "slow=0.04", "-j", "2", "-o", "out.gif", "-q", "--dpi", "30"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 90
    while not (tmp_path / "worker.marker").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)
    workers = children_of(process.pid)
    assert workers, "no worker process"
    os.killpg(process.pid, signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert err.strip() == "mlviz: stopped by SIGTERM; nothing was written"
    assert listing(tmp_path) == ["out.gif", "worker.marker"]
    assert (tmp_path / "out.gif").read_bytes() == b"previous"
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", f"worker {pid} still runs"


def test_writers_without_a_frame_encoder_keep_drawing_workers(with_site, tmp_path,
                                                              monkeypatch):
    """APNG (no frame encoder): workers draw, this process encodes, as before."""
    started = []
    real = parallel._Worker
    monkeypatch.setattr(parallel, "_Worker", lambda *a, **k: started.append(1) or real(*a, **k))
    renderer = prepared("par-line").renderer(dpi=30)
    paths = [tmp_path / f"j{jobs}.apng" for jobs in (1, 3)]
    for jobs, path in zip((1, 3), paths):
        with open_writer(path, fps=5) as writer:
            assert parallel.render_encoding_in_workers(renderer, writer, [0], 3) is None
            assert renderer.render(writer, jobs=jobs) == 24
    assert started and paths[0].read_bytes() == paths[1].read_bytes()
