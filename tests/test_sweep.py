"""Sweeps: runs compared in one animation, synchronised by epoch, with shared limits,
labels, held finished runs, shown diverging runs, records, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import mlviz
from mlviz import Algorithm, Config, ConfigError, Dataset, Panel, Scene, Snapshot, param
from mlviz.api import write_animation
from mlviz.panels import MetricCurvePanel
from mlviz.plugins import Registry, load_registry
from mlviz.record import SWEEP_FORMAT, load_run, save_run
from mlviz.sweep import (
    DIVERGED,
    MAX_RUNS,
    declare_sweep,
    frame_epochs,
    max_runs,
    parse_sweep,
    prepare_sweep,
)

REPO = Path(__file__).resolve().parents[1]


# --- A toy algorithm whose runs we control exactly --------------------------------------


@dataclass(frozen=True)
class ToyConfig(Config):
    epochs: int = param(10, "epochs", min=1, max=1000)
    rate: float = param(0.5, "the loss is rate ** epoch", min=0.0, max=10.0)
    scale: float = param(1.0, "the toy panel's x limit", min=0.1, max=100.0)
    every: int = param(1, "draw every n-th epoch", min=1, max=10)


@dataclass(frozen=True)
class ToySnapshot(Snapshot):
    value: float = 0.0


class ToyTrainer:
    def __init__(self, config: ToyConfig) -> None:
        self.config = config

    def run(self, dataset) -> Iterator[ToySnapshot]:
        for epoch in range(self.config.epochs + 1):
            yield ToySnapshot(epoch=epoch, loss=self.config.rate ** epoch,
                              value=self.config.scale * epoch)


class EpochPanel(Panel):
    """Writes the epoch of the snapshot it was given; x limits from the run's config."""

    name = "toy-epoch"
    fields = ("value",)

    def setup(self, ax, run) -> None:
        ax.set_xlim(0, run.config.scale)
        ax.set_ylim(-run.config.scale, 1)
        self.text = ax.text(0.5, 0.5, "", transform=ax.transAxes, gid="toy-epoch")

    def update(self, snapshot):
        self.text.set_text(str(snapshot.epoch))
        return [self.text]


def toy_scene(config: ToyConfig) -> Scene:
    return Scene([EpochPanel(), MetricCurvePanel("loss", log=True)], title="Toy")


def toy_schedule(config: ToyConfig):
    return mlviz.FrameSchedule(late_step=config.every)


TOY = Algorithm(name="toy", summary="a toy", config=ToyConfig, trainer=ToyTrainer,
                dataset=lambda config: Dataset(np.zeros((2, 1))), scene=toy_scene,
                schedule=toy_schedule)
declare_sweep(TOY, values={"rate": (0.5, 0.8)})


def toy_sweep(sweep, **kwargs) -> mlviz.Prepared:
    return prepare_sweep(TOY, sweep, processes=1, **kwargs)


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))
            if t.get_text()]


# --- Synchronisation, holding, divergence -----------------------------------------------


def test_frame_i_shows_epoch_e_of_every_run_and_finished_runs_hold():
    prepared = toy_sweep({"epochs": [4, 10, 7]})
    sweep = prepared.sweep
    assert list(sweep.epochs) == list(range(11))  # the union of the runs' drawn epochs
    assert sweep.labels == ("epochs=4", "epochs=10", "epochs=7")
    renderer = prepared.renderer(dpi=30)
    for i in (2, 4, 5, 7, 10):
        e = int(sweep.epochs[i])
        fig = renderer.figure_at(i)
        shown = [t.get_text() for t in fig.findobj(lambda a: a.get_gid() == "toy-epoch")]
        # each run's panel shows epoch e, or its last epoch once it has finished
        assert shown == [str(min(e, last)) for last in (4, 10, 7)]
        titles = [block._suptitle.get_text() for block in fig.subfigs]  # one per run
        expected = [f"epochs={last} — finished at epoch {last}" if e > last else
                    f"epochs={last}" for last in (4, 10, 7)]
        assert titles == expected
        assert f"epoch {e}" in texts(fig)
    assert sweep.status(0, 4) == "" and sweep.status(0, 5) == "finished at epoch 4"


def test_runs_on_other_rhythms_share_one_and_a_budget_shows_the_latest_epoch_before():
    # every run is trained on the union of the runs' rhythms: each has every frame's epoch
    sweep = toy_sweep({"every": [1, 3]}, epochs=7).sweep
    assert list(sweep.epochs) == list(range(8))
    for i, e in enumerate(sweep.epochs):
        assert sweep.snapshot(0, i).epoch == sweep.snapshot(1, i).epoch == e
    # a frame budget thins each run on its own: a run then shows its latest drawn epoch
    # at or before the frame's (its first before it has one)
    sweep = toy_sweep({"epochs": [4, 10]}, frames=3).sweep
    assert len(sweep.epochs) == 3 and sweep.epochs[0] == 0 and sweep.epochs[-1] == 10
    for r, run in enumerate(sweep.runs):
        drawn = [s.epoch for s in run.snapshots]
        for i, e in enumerate(sweep.epochs):
            before = [d for d in drawn if d <= e]
            assert sweep.snapshot(r, i).epoch == (before[-1] if before else drawn[0])
    assert sweep.snapshot(0, 2).epoch == 4 and sweep.status(0, 2) == "finished at epoch 4"
    thinned = frame_epochs(sweep.runs, 2)
    assert list(thinned) == [0, 10]


def test_a_diverging_run_is_shown_stopped_and_clipped_not_refused():
    prepared = toy_sweep({"rate": [0.5, 3.0]}, epochs=20)
    tame, wild = prepared.runs
    assert tame.stopped == "" and len(tame.epochs) == 21
    # 3 ** 5 = 243 passes 100 times the first loss: the run stops there
    assert wild.stopped == DIVERGED and int(wild.epochs[-1]) == 5
    sweep = prepared.sweep
    i = int(np.searchsorted(sweep.epochs, 5))
    assert sweep.status(1, i - 1) == "" and sweep.status(1, i) == "diverged at epoch 5"
    assert "rate=3: diverged at epoch 5" in sweep.captions()[-1]
    fig = prepared.renderer(dpi=30).figure_at(-1)
    overlay = next(ax for ax in fig.axes if ax.get_yscale() == "log")
    lo, hi = overlay.get_ylim()
    assert hi < 3.0 ** 5  # the limits hold the tame run; the wild one is clipped
    wild_marker = [line for line in overlay.lines if line.get_marker() == "^"]
    assert len(wild_marker) == 1 and wild_marker[0].get_ydata()[0] == hi


def test_side_by_side_copies_share_the_union_of_their_limits_except_a_diverged_one():
    prepared = toy_sweep({"scale": [1.0, 4.0, 2.0]})
    fig = prepared.renderer(dpi=30).figure_at(0)
    panels = [ax for ax in fig.axes if ax.get_yscale() == "linear"]
    assert len(panels) == 3
    assert {ax.get_xlim() for ax in panels} == {(0.0, 4.0)}
    assert {ax.get_ylim() for ax in panels} == {(-4.0, 1.0)}
    # a diverged run's own limits are left out of the union: it is clipped to the others'
    wild = toy_sweep({"scale": [1.0, 50.0]}, rate=3.0, epochs=3)
    assert [run.stopped for run in wild.runs] == ["", ""]
    wild = prepare_sweep(TOY, {"scale": [1.0, 50.0], "rate": [0.5, 3.0]}, processes=1,
                         epochs=8)
    assert [run.stopped for run in wild.runs] == ["", DIVERGED, "", DIVERGED]
    fig = wild.renderer(dpi=30).figure_at(0)
    panels = [ax for ax in fig.axes if ax.get_yscale() == "linear"]
    assert {ax.get_xlim() for ax in panels} == {(0.0, 50.0)}  # from the tame scale=50 run
    assert wild.sweep.shape == (2, 2) and wild.composition().layout.blocks == (2, 2)
    assert wild.sweep.labels[1] == "scale=1, rate=3"


def test_overlay_draws_every_run_on_one_axis_with_a_legend_or_side_by_side():
    prepared = toy_sweep({"rate": [0.5, 0.8, 0.9]})
    assert prepared.overlay == (1,)  # the metric curve can: it is overlaid by default
    fig = prepared.renderer(dpi=30).figure_at(-1)
    overlay = next(ax for ax in fig.axes if ax.get_yscale() == "log")
    legend = [t.get_text() for t in overlay.get_legend().get_texts()]
    assert legend == ["rate=0.5", "rate=0.8", "rate=0.9"]
    curves = [line for line in overlay.lines if len(line.get_xdata()) > 1]
    assert len(curves) == 3 and len(fig.axes) == 4
    for line, rate in zip(curves, (0.5, 0.8, 0.9)):
        np.testing.assert_allclose(line.get_ydata(), rate ** np.arange(11))
    apart = prepared.with_overlay("none")
    assert apart.overlay == () and len(apart.renderer(dpi=30).figure_at(0).axes) == 6


def test_captions_name_every_run():
    captions = toy_sweep({"epochs": [2, 3]}).captions()
    assert captions[0] == "epoch 0 · epochs=2: loss 1 · epochs=3: loss 1"
    assert captions[-1] == ("epoch 3 · epochs=2: loss 0.25 (finished at epoch 2) · "
                            "epochs=3: loss 0.125")


def test_training_in_two_processes_gives_the_same_runs():
    one = toy_sweep({"rate": [0.5, 0.9, 3.0]})
    two = prepare_sweep(TOY, {"rate": [0.5, 0.9, 3.0]}, processes=2)
    for a, b in zip(one.runs, two.runs):
        assert np.array_equal(a.losses, b.losses) and a.stopped == b.stopped


# --- Errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, message", [
    (["rat=1,2"], "--sweep: unknown hyperparameter 'rat' (did you mean 'rate'?)"),
    (["epochs=3,abc"], "--sweep epochs=3,abc: epochs expects an integer, got 'abc'"),
    (["rate=0.5"], "--sweep rate=0.5 gives 1 value; a sweep compares two or more"),
    (["rate=0.5,0.50"], "--sweep rate=0.5,0.50 repeats 0.5"),
    (["rate=1,2", "rate=3,4"], "--sweep rate is given twice"),
    (["rate=1,2", "epochs=1,2", "scale=1,2"], "--sweep: at most 2 keys"),
    (["epochs"], "--sweep epochs needs values: --sweep epochs=V1,V2,..."),
    ({"epochs": [5, 5000]}, "--sweep epochs=5000: epochs=5000 is out of range"),
])
def test_a_bad_sweep_is_one_line(spec, message):
    with pytest.raises(ConfigError) as caught:
        toy_sweep(spec)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_too_many_runs_for_a_readable_frame_says_the_limit():
    assert max_runs(1) == max_runs(2) == MAX_RUNS == 6 and max_runs(3) == 4
    with pytest.raises(ConfigError, match=r"^--sweep: 7 runs are too many for a readable frame:"
                       r" with 1 panel side by side per run, toy shows at most 6$"):
        toy_sweep({"epochs": list(range(1, 8))})
    with pytest.raises(ConfigError, match="with 2 panels side by side per run, toy shows at "
                                          "most 6"):
        toy_sweep({"epochs": [1, 2, 3], "rate": [0.1, 0.2, 0.3]}, overlay="none")


def test_a_swept_key_cannot_be_set_too_and_overlay_needs_a_panel_that_can():
    with pytest.raises(ConfigError, match="rate is swept, so --set rate cannot also set it"):
        toy_sweep(["rate=0.1,0.2"], settings=["rate=0.3"])
    with pytest.raises(ConfigError, match="panel toy-epoch cannot draw several runs"):
        toy_sweep(["rate=0.1,0.2"], overlay="toy-epoch")
    with pytest.raises(mlviz.MlvizError, match="give --sweep"):
        mlviz.prepare(TOY, overlay="metric-curve")


def test_parse_sweep_takes_python_values_cli_text_and_declared_defaults():
    assert parse_sweep({"rate": [0.1, 1]}, ToyConfig) == [("rate", (0.1, 1.0))]
    assert parse_sweep(["epochs=3, 5"], ToyConfig) == [("epochs", (3, 5))]
    assert toy_sweep(["rate"]).sweep.values == ((0.5, 0.8),)
    # a list hyperparameter's values are separated by ';'
    from mlviz_nn.trainer import NNConfig
    assert parse_sweep(["layers=2,4,1;2,16,1"], NNConfig) == \
        [("layers", ((2, 4, 1), (2, 16, 1)))]


# --- Built-in algorithms, records, writers, the command line ------------------------------


def test_linear_regression_refuses_a_diverging_rate_alone_but_shows_it_in_a_sweep():
    with pytest.raises(ConfigError, match="lr=1.05 diverges"):
        mlviz.prepare("linear-regression", lr=1.05)
    prepared = mlviz.prepare("linear-regression", sweep={"lr": [0.1, 1.05]}, epochs=40)
    good, bad = prepared.runs
    assert good.stopped == "" and int(good.epochs[-1]) == 40
    assert bad.stopped == DIVERGED and 5 < int(bad.epochs[-1]) < 40
    assert bad.losses[-1] > 10 * bad.losses[0]  # its declared factor: ten times


def test_kmeans_seed_sweep_keeps_the_data_and_applies_its_sweep_settings():
    prepared = mlviz.prepare("kmeans", sweep=["seed=0,1"], frames=6)
    first, second = prepared.runs
    assert np.array_equal(first.dataset.X, second.dataset.X)  # only the start changes
    assert (first.config.n_init, first.config.k_max) == (1, 3)  # declared for sweeps
    assert prepared.sweep.n_frames <= 6 and prepared.sweep.scenes[0].panel_names[0] == "metric-curve"


def test_a_sweep_is_saved_and_drawn_again_as_one_record(tmp_path):
    prepared = mlviz.prepare("kmeans", sweep={"seed": [0, 3]}, frames=5)
    path = save_run(prepared, tmp_path / "sweep.npz")
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["record.json"][()]))
        assert meta["format"] == SWEEP_FORMAT and len(meta["runs"]) == 2
        assert meta["sweep"]["keys"] == ["seed"] and meta["sweep"]["overlay"] == ["metric-curve"]
        # the runs share their data: it is written once
        assert sum(name.endswith("dataset/X") for name in archive.files) == 1
    again = load_run(path)
    assert isinstance(again, mlviz.Prepared) and again.labels == ("seed=0", "seed=3")
    assert np.array_equal(again.sweep.epochs, prepared.sweep.epochs)
    for a, b in zip(prepared.runs, again.runs):
        assert np.array_equal(a.losses, b.losses) and a.config == b.config
    before = next(prepared.renderer(dpi=25).frames(indices=[2]))
    after = next(again.renderer(dpi=25).frames(indices=[2]))
    assert np.array_equal(before, after)
    assert again.with_overlay("none").overlay == ()


def test_the_html_player_captions_every_run(tmp_path):
    prepared = toy_sweep({"epochs": [2, 3]})
    registry = Registry(algorithms={"toy": TOY}, writers=load_registry().writers)
    out = tmp_path / "toy.html"
    assert write_animation(prepared, out, dpi=20, registry=registry, jobs=1) == 4
    page = out.read_text()
    for caption in prepared.captions():
        assert json.dumps(caption)[1:-1] in page or caption in page
    notebook = prepared._repr_html_()  # Jupyter shows the same player
    assert json.dumps(prepared.captions()[-1])[1:-1] in notebook


def test_info_suggests_the_declared_sweep(capsys):
    from mlviz.cli import main

    assert main(["info", "neural-network"]) == 0
    assert "sweep: --sweep layers compares layers=2,2,1;2,4,1;2,16,1" in capsys.readouterr().out


@pytest.mark.slow
def test_frames_drawn_by_workers_are_the_frames_drawn_here():
    prepared = toy_sweep({"rate": [0.5, 0.9]}, epochs=20)
    renderer = prepared.renderer(dpi=25)

    class Collect:
        last_frame_only = False

        def __init__(self):
            self.frames = []

        def write(self, frame):
            self.frames.append(frame)

    here, workers = Collect(), Collect()
    assert renderer.render(here, jobs=1) == renderer.render(workers, jobs=2) == 21
    assert all(np.array_equal(a, b) for a, b in zip(here.frames, workers.frames))


@pytest.mark.slow
def test_command_line_sweep_render_train_and_record(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    mlviz_cmd = [sys.executable, "-m", "mlviz.cli"]

    def run(*args):
        return subprocess.run([*mlviz_cmd, *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=300)

    done = run("render", "kmeans", "--sweep", "seed=0,3", "--frames", "4", "--dpi", "40",
               "-o", "km.gif", "--quiet")
    assert done.returncode == 0, done.stderr
    from PIL import Image
    gif = Image.open(tmp_path / "km.gif")
    assert gif.n_frames == 4 and gif.size == (512, 288)
    done = run("train", "kmeans", "--sweep", "seed=0,3", "--frames", "4", "-o", "km.npz")
    assert done.returncode == 0 and "2 runs" in done.stdout, done.stderr
    done = run("render", "km.npz", "-o", "km.png", "--dpi", "40", "--overlay", "none")
    assert done.returncode == 0 and (tmp_path / "km.png").is_file(), done.stderr
    bad = run("render", "km.npz", "--sweep", "seed=1,2")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "--sweep cannot change a recorded run" in bad.stderr
    bad = run("render", "linear-regression", "--sweep", "lr=0.1")
    assert bad.returncode == 2 and "gives 1 value" in bad.stderr and not list(
        tmp_path.glob("linear-regression*"))


# --- Showing the comparison -------------------------------------------------------------


def _run_with_losses(losses, stopped=""):
    from mlviz.trainer import Run

    snapshots = tuple(ToySnapshot(epoch=e, loss=v) for e, v in enumerate(losses))
    return Run(config=ToyConfig(), dataset=Dataset(np.zeros((2, 1))), snapshots=snapshots,
               epochs=np.arange(len(losses)), losses=np.asarray(losses, float), traces={},
               stopped=stopped)


def test_runs_converging_a_decade_apart_get_a_log_epoch_axis():
    from mlviz.sweep import convergence_epoch, log_epochs

    fast = _run_with_losses([100 * 0.5 ** e for e in range(201)])  # 95 % of the way by ~5
    slow = _run_with_losses([100 * 0.985 ** e for e in range(201)])
    assert convergence_epoch(fast) == 5 and 150 < convergence_epoch(slow) < 201
    assert log_epochs([fast, slow])
    assert not log_epochs([slow, _run_with_losses([100 * 0.98 ** e for e in range(201)])])
    diverged = _run_with_losses([1, 10, 1000], stopped=DIVERGED)
    assert convergence_epoch(diverged) is None and not log_epochs([fast, diverged])
    # drawn: the overlaid loss curve of such a sweep is on a log epoch axis, else linear
    far = toy_sweep({"rate": [0.2, 0.97]}, epochs=200)
    near = toy_sweep({"rate": [0.5, 0.6]}, epochs=20)
    scales = [[ax.get_xscale() for ax in p.renderer(dpi=30).figure_at(-1).axes
               if ax.get_xlabel() == "epoch"] for p in (far, near)]
    assert scales == [["symlog"], ["linear"]]


class PathPanel(Panel):
    """Draws a run's own line in the theme's loss colour (like a descent path)."""

    name = "toy-path"

    def setup(self, ax, run) -> None:
        ax.set_title("The path")
        (self.line,) = ax.plot([0, 1], [0, 1], color=self.theme.loss, gid="toy-path")

    def update(self, snapshot):
        return [self.line]


def test_each_run_has_its_colour_everywhere_and_titles_say_what_differs_once():
    algorithm = Algorithm(name="toy-path", summary="a toy", config=ToyConfig,
                          trainer=ToyTrainer, dataset=TOY.dataset, schedule=toy_schedule,
                          scene=lambda config: Scene([PathPanel(), MetricCurvePanel("loss")],
                                                     title="Toy"))
    prepared = prepare_sweep(algorithm, {"rate": [0.5, 0.8, 0.9]}, processes=1)
    fig = prepared.renderer(dpi=30).figure_at(-1)
    from matplotlib.colors import to_hex

    paths = [to_hex(line.get_color()) for line in fig.findobj(lambda a: a.get_gid() == "toy-path")]
    from matplotlib.lines import Line2D

    curves = [to_hex(line.get_color()) for line in fig.findobj(Line2D)
              if str(line.get_label()).startswith("rate=")]
    colours = [c.lower() for c in mlviz.theme.resolve_theme(None).colors(3)]
    assert paths == colours and curves[:3] == colours  # the path and curve of run i match
    titles = [ax.get_title() for ax in fig.axes if ax.get_title().strip() == "The path"]
    assert len(titles) == 1  # said once, in the first column; the runs' labels above each
    assert [block._suptitle.get_text() for block in fig.subfigs] == \
        ["rate=0.5", "rate=0.8", "rate=0.9"]


def test_a_sweep_frame_is_1280x720_unless_a_size_is_asked_for():
    prepared = toy_sweep({"rate": [0.5, 0.8, 0.9]})
    assert prepared.renderer().frame_size == (1280, 720)
    assert prepared.styled(size="1920x1080").renderer().frame_size == (1920, 1080)


def test_the_old_sweep_names_still_work():
    import warnings

    from mlviz.sweep import PreparedSweep, SweepRenderer

    prepared = toy_sweep({"rate": [0.5, 0.8]})
    assert isinstance(prepared, PreparedSweep)  # one type now: mlviz.Prepared
    with pytest.warns(DeprecationWarning, match="prepared.renderer"):
        old = SweepRenderer(prepared, dpi=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = prepared.renderer(dpi=30)
    assert np.array_equal(next(old.frames()), next(new.frames()))


class SurfacePanel(Panel):
    """Draws a static 'surface' over the extent of the runs it is compared with."""

    name = "toy-surface"

    def share_runs(self, runs) -> None:
        self.shared = list(runs)

    def setup(self, ax, run) -> None:
        extent = max(r.config.scale for r in getattr(self, "shared", [run]))
        ax.plot([0, extent], [0, 0], gid="toy-surface")

    def update(self, snapshot):
        return []


def test_a_panel_that_shares_runs_draws_one_extent_for_every_run_but_diverged_ones():
    algorithm = Algorithm(name="toy-surface", summary="a toy", config=ToyConfig,
                          trainer=ToyTrainer, dataset=TOY.dataset, schedule=toy_schedule,
                          scene=lambda config: Scene([SurfacePanel(), MetricCurvePanel("loss")]))
    prepared = prepare_sweep(algorithm, {"scale": [1.0, 50.0, 7.0], "rate": [0.5, 3.0]},
                             processes=1, epochs=8)
    stopped = [run.stopped for run in prepared.runs]
    assert stopped.count(DIVERGED) == 3  # the three runs at rate 3
    fig = prepared.renderer(dpi=30).figure_at(0)
    extents = [line.get_xdata()[-1] for line in fig.findobj(lambda a: a.get_gid() == "toy-surface")]
    assert extents == [50.0] * 6  # the tame runs' union, in every run's copy
