"""The plugin contract of mlviz 0.3: scenes bind panels by letter, scene factories see the
dataset, traced fields and trace ranges, MetricCurvePanel's x trace and readout label,
artists kept on top, and the version check of installed plugins."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

import mlviz
from mlviz import Algorithm, Config, Dataset, Panel, Scene, Snapshot, param, traced
from mlviz.compat import excluded_by, requirement_conflicts
from mlviz.panels import MetricCurvePanel
from mlviz.renderer import Renderer
from mlviz.testing import panel_figure


@dataclass(frozen=True)
class GrowConfig(Config):
    steps: int = param(12, "boosting rounds", min=2)


@dataclass(frozen=True)
class GrowSnapshot(Snapshot):
    traces: ClassVar[tuple[str, ...]] = ("n_trees",)
    n_trees: int = 0
    accuracy: float = traced(0.0)
    margins: np.ndarray = None
    note: str = ""


class Grow:
    def __init__(self, config):
        self.config = config

    def run(self, dataset):
        for epoch in range(self.config.steps):
            margins = np.array([np.sin(epoch), -3.0 + epoch, 0.5])
            yield GrowSnapshot(epoch, 1.0 / (epoch + 1), n_trees=2 * epoch + 1,
                               accuracy=0.5 + epoch / 40, margins=margins, note=f"{epoch}")


def data(config=None):
    return Dataset(np.zeros((3, 1)), name="three zeros")


def grow(**changes):
    fields = dict(name="grow", summary="a growing ensemble", config=GrowConfig, trainer=Grow,
                  dataset=data, scene=lambda c: Scene([MetricCurvePanel("accuracy")]))
    return Algorithm(**{**fields, **changes})


class Named(Panel):
    def __init__(self, name):
        self.label = name

    def setup(self, ax, run):
        pass

    def update(self, snapshot):
        return []


# --- mosaics bind panels by letter ------------------------------------------------------

def test_a_mosaic_binds_panels_by_letter_whatever_their_order():
    wide, corner, side = Named("wide"), Named("corner"), Named("side")
    scene = Scene({"C": corner, "B": side, "A": wide}, mosaic="AB;CB")
    cells = dict(zip((p.label for p in scene.panels), scene.cells))
    assert (cells["wide"].top, cells["wide"].left) == (0, 0)
    assert (cells["side"].top, cells["side"].bottom, cells["side"].left) == (0, 2, 1)
    assert (cells["corner"].top, cells["corner"].left) == (1, 0)
    assert scene.letters == ("C", "B", "A")
    resized, _ = scene.sized(1920, 1080)  # a copy keeps the binding
    assert resized.cells == scene.cells and resized.letters == scene.letters


def test_the_order_form_still_binds_by_first_appearance():
    a, b = Named("a"), Named("b")
    scene = Scene([a, b], mosaic="BA")
    assert [(c.left) for c in scene.cells] == [0, 1]  # a takes B (first seen), b takes A


@pytest.mark.parametrize("panels, message", [
    ({"A": Named("x")}, "no panel is bound to 'B'"),
    ({"A": Named("x"), "B": Named("y"), "D": Named("z")},
     "bound to 'D' (Named) but the mosaic has no such letter"),
    ({"A": Named("x"), ".": Named("y"), "B": Named("z")}, "single characters other than '.'"),
])
def test_a_wrong_binding_is_an_error(panels, message):
    with pytest.raises(ValueError, match=None) as info:
        Scene(panels, mosaic="AB")
    assert message in str(info.value)


def test_bound_panels_need_a_mosaic():
    with pytest.raises(ValueError, match="need a mosaic"):
        Scene({"A": Named("x")})


# --- the scene factory receives the dataset ---------------------------------------------

def test_the_scene_factory_may_take_the_dataset_and_the_old_form_still_works():
    config = GrowConfig()
    new = grow(scene=lambda c, dataset: Scene([MetricCurvePanel("accuracy")],
                                              title=f"on {dataset.name}"),
               dataset=lambda c: Dataset(np.zeros((2, 1)), name="the default"))
    assert new.make_scene(config, data()).title == "on three zeros"
    assert new.make_scene(config).title == "on the default"  # mlviz info: no run yet
    old = grow(scene=lambda c: Scene([MetricCurvePanel("accuracy")], title="fixed"))
    assert old.make_scene(config, data()).title == "fixed"

    def keyword_only(config, *, extra=1):
        return Scene([MetricCurvePanel("accuracy")], title="keyword")

    assert grow(scene=keyword_only).make_scene(config, data()).title == "keyword"


# --- traced fields and ranges -----------------------------------------------------------

def test_a_traced_field_is_recorded_at_every_epoch():
    run = mlviz.prepare(grow(), frames=2).run
    assert run.n_frames == 2
    assert np.array_equal(run.trace("accuracy"), 0.5 + np.arange(12) / 40)
    assert mlviz.trainer.declared_traces(GrowSnapshot) == ("n_trees", "accuracy")


def test_ranges_cover_every_epoch_of_traces_and_numeric_fields_however_few_are_drawn():
    run = mlviz.prepare(grow(), frames=2).run
    assert run.trace_range("n_trees") == (1.0, 23.0)
    assert run.trace_range("loss") == (1.0 / 12, 1.0)
    lo, hi = run.trace_range("margins")  # a field that is no trace: kept over every epoch
    assert lo == -3.0 and hi == 8.0
    assert "margins" not in run.traces and "note" not in run.ranges
    with pytest.raises(KeyError, match="no range of 'note'"):
        run.trace_range("note")


def test_a_field_with_no_finite_value_has_a_nan_range():
    @dataclass(frozen=True)
    class Empty(Snapshot):
        gap: float = math.nan

    class Trainer:
        def __init__(self, config):
            pass

        def run(self, dataset):
            yield from (Empty(e, 1.0) for e in range(3))

    run = mlviz.train(Trainer(None), data(), GrowConfig())
    lo, hi = run.trace_range("gap")
    assert math.isnan(lo) and math.isnan(hi)


# --- MetricCurvePanel: an x trace and a readout label -----------------------------------

def test_metric_curve_against_another_trace_with_its_own_readout_label():
    run = mlviz.prepare(grow()).run
    panel = MetricCurvePanel("accuracy", x="n_trees", label="held-out accuracy",
                             readout_label="acc")
    assert panel.requires() == ((), ("accuracy", "n_trees"))
    fig = panel_figure(panel, run, frame=5)
    ax = fig.axes[0]
    line = next(ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1)
    assert np.array_equal(line.get_xdata(), 2 * np.arange(6) + 1)
    lo, hi = ax.get_xlim()
    assert lo < 1 and 23 < hi < 25  # the whole x range, not the epochs
    assert ax.get_xlabel() == "n_trees" and ax.get_ylabel() == "held-out accuracy"
    readout = [t.get_text() for t in ax.texts if "acc " in t.get_text()]
    assert readout == ["n_trees 11\nacc 0.625"]


def test_metric_curve_default_readout_is_unchanged():
    run = mlviz.prepare(grow()).run
    fig = panel_figure(MetricCurvePanel("accuracy"), run, frame=3)
    assert any(t.get_text() == "epoch 3\naccuracy 0.575" for t in fig.axes[0].texts)


# --- artists kept on top ----------------------------------------------------------------

class Flood(Panel):
    """A moving red square over the whole panel, and a legend that must stay readable."""

    def __init__(self, on_top=True):
        self.on_top = on_top

    def setup(self, ax, run):
        from matplotlib.patches import Rectangle

        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.plot([], [], color=self.theme.ink, label="a line")
        self.legend = ax.legend(loc="center", frameon=True, framealpha=1.0, borderpad=2)
        self.flood = ax.add_patch(Rectangle((0, 0), 1, 1, color="#ff0000", zorder=10))
        if self.on_top:
            self.keep_on_top(self.legend)

    def update(self, snapshot):
        self.flood.set_width(0.5 + snapshot.epoch / 100)
        return [self.flood]


def test_a_legend_kept_on_top_stays_above_moving_artists():
    run = mlviz.prepare(grow()).run
    red = {}
    for on_top in (True, False):
        scene = Scene([Flood(on_top)], figsize=(3, 3))
        frames = list(Renderer(scene, run).frames(indices=[0, 5]))
        red[on_top] = [int(np.all(f == [255, 0, 0], axis=2).sum()) for f in frames]
    # Kept on top, the legend's opaque box hides part of the red square on every frame.
    assert all(on + 1000 < off for on, off in zip(red[True], red[False]))


# --- plugins that exclude the running mlviz ---------------------------------------------

@pytest.mark.parametrize("requires, version, excluded", [
    (["mlviz>=0.1,<0.2", "numpy>=1.24"], "0.2.0", "mlviz<0.2,>=0.1"),
    (["mlviz>=0.3,<0.4"], "0.3.1", None),
    (["mlviz<0.2; extra == 'old'"], "0.3.0", None),
    (["MLViz>=1.0"], "0.3.0", "MLViz>=1.0"),
    (["numpy", "not a requirement ("], "0.3.0", None),
])
def test_a_requirement_that_excludes_the_running_version_is_found(requires, version,
                                                                  excluded):
    assert excluded_by(requires, version) == excluded


def test_no_installed_plugin_conflicts_here():
    assert requirement_conflicts() == []
    assert requirement_conflicts("0.0.1") == []  # built-in plugins declare no pin


def test_a_field_named_like_a_snapshot_method_is_ranged_too():
    @dataclass(frozen=True)
    class Shadow(Snapshot):
        value: float = 0.0

    class Trainer:
        def __init__(self, config):
            pass

        def run(self, dataset):
            yield from (Shadow(e, 1.0, value=float(e * e)) for e in range(4))

    assert mlviz.train(Trainer(None), data(), GrowConfig()).trace_range("value") == (0.0, 9.0)


def test_ranges_fold_batch_by_batch_and_across_shapes(monkeypatch):
    from mlviz import trainer

    monkeypatch.setattr(trainer, "RANGE_BATCH", 5)  # several batches in a short run

    @dataclass(frozen=True)
    class Ragged(Snapshot):
        sizes: np.ndarray = None

    class Trainer:
        def __init__(self, config):
            pass

        def run(self, dataset):  # arrays of growing length: no single array per batch
            for e in range(9):
                values = np.arange(e + 1, dtype=float) - 2 * e
                values[0] = np.inf if e == 4 else values[0]
                yield Ragged(e, 1.0, sizes=values)

    run = mlviz.train(Trainer(None), data(), GrowConfig())
    assert run.trace_range("sizes") == (-16.0, 0.0)
