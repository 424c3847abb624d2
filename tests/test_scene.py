"""Scenes: mosaic layouts, figure-wide legends, default sizes, per-build panel state, and
the check of what panels need; the metric curve panel; traces recorded by train()."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from mlviz import Config, Dataset, FrameSchedule, Panel, Scene, Snapshot, train
from mlviz.errors import ContractError
from mlviz.panels import LossCurvePanel, MetricCurvePanel
from mlviz.panels.metric import READOUT_BOX
from mlviz.renderer import Renderer

DATA = Dataset(np.zeros((2, 2)))


@dataclass(frozen=True)
class CountSnapshot(Snapshot):
    traces: ClassVar[tuple[str, ...]] = ("accuracy", "params.w")

    accuracy: float = 0.0


class Climb:
    """Accuracy rises from 0.5 towards 1; the loss falls; w walks along a line."""

    def __init__(self, epochs: int = 40) -> None:
        self.epochs = epochs

    def run(self, dataset):
        for epoch in range(self.epochs):
            w = np.array([epoch, 2.0 * epoch])
            yield CountSnapshot(epoch, 1.0 / (epoch + 1), {"w": w, "b": np.array(1.0)},
                                accuracy=1 - 0.5 * 0.9**epoch)


def run_of(epochs=40, frames=None, traces=()):
    return train(Climb(epochs), DATA, Config(), FrameSchedule.every(frames), traces=traces)


def test_traces_are_recorded_every_epoch_whatever_the_frames():
    run = run_of(frames=3, traces=("params",))
    assert run.n_frames == 3 and len(run.epochs) == 40
    assert run.trace("accuracy").shape == (40,)
    assert run.trace("params.w").shape == (40, 2)
    assert run.trace("params").shape == (40, 3)  # w (2) and b (1), flattened per epoch
    np.testing.assert_array_equal(run.trace("accuracy", until=4),
                                  1 - 0.5 * 0.9 ** np.arange(5))
    epochs, values = run.history("params.w", until=2)
    assert epochs.tolist() == [0, 1, 2] and values.tolist() == [[0, 0], [1, 2], [2, 4]]
    assert run.trace_names == ("epoch", "loss", "accuracy", "params.w", "params.b", "params")
    with pytest.raises(KeyError, match="no trace 'speed' was recorded"):
        run.trace("speed")


def test_a_trace_that_changes_shape_or_does_not_exist_is_a_contract_error():
    @dataclass(frozen=True)
    class Growing(Snapshot):
        traces: ClassVar[tuple[str, ...]] = ("seen",)
        seen: np.ndarray = None

    class Grows:
        def run(self, dataset):
            for epoch in range(3):
                yield Growing(epoch, 0.0, seen=np.arange(epoch + 1))

    with pytest.raises(ContractError, match="trace 'seen' changed shape from \\(1,\\) to \\(2,\\)"):
        train(Grows(), DATA, Config())
    assert "nothing" not in train(Climb(3), DATA, Config(), traces=("nothing",)).traces


def test_training_limits_stop_and_say_why():
    run = train(Climb(1000), DATA, Config(), max_epochs=25)
    assert len(run.epochs) == 25 and run.stopped == "epoch limit"
    assert run.snapshots[-1].epoch == 24
    assert train(Climb(10), DATA, Config()).stopped == ""


def test_interrupt_keeps_what_was_trained_when_asked():
    class Interrupted:
        def run(self, dataset):
            yield from Climb(5).run(dataset)
            raise KeyboardInterrupt

    run = train(Interrupted(), DATA, Config(), keep_on_interrupt=True)
    assert run.stopped == "interrupted" and len(run.epochs) == 5
    with pytest.raises(KeyboardInterrupt):
        train(Interrupted(), DATA, Config())


class Needy(Panel):
    name = "needy"
    fields = ("accuracy",)
    traces = ("accuracy", "params")

    def setup(self, ax, run):
        self.line = ax.plot([], [])[0]

    def update(self, snapshot):
        return [self.line]


def test_a_scene_checks_what_its_panels_need_before_drawing():
    scene = Scene([LossCurvePanel(), Needy()])
    assert scene.required_traces() == ("loss", "accuracy", "params")
    with pytest.raises(ContractError, match="panel needy in demo needs the trace 'params'"):
        Renderer(scene, run_of(), algorithm="demo")
    Renderer(scene, run_of(traces=scene.required_traces()))  # all there: no error
    plain = train(_Plain(), DATA, Config())
    with pytest.raises(ContractError,
                       match="panel needy needs the snapshot field 'accuracy', which Snapshot"):
        Renderer(Scene([Needy()]), plain)


class _Plain:
    def run(self, dataset):
        yield Snapshot(0, 1.0)


@pytest.mark.parametrize("mosaic, rows, cols, cells", [
    ("AB;CB", 2, 2, [(0, 1, 0, 1), (0, 2, 1, 2), (1, 2, 0, 1)]),
    ("AAB", 1, 3, [(0, 1, 0, 2), (0, 1, 2, 3)]),
    ("A.;BC", 2, 2, [(0, 1, 0, 1), (1, 2, 0, 1), (1, 2, 1, 2)]),
])
def test_mosaic_cells(mosaic, rows, cols, cells):
    panels = [LossCurvePanel() for _ in cells]
    scene = Scene(panels, mosaic=mosaic)
    assert (scene.rows, scene.cols) == (rows, cols)
    assert [(c.top, c.bottom, c.left, c.right) for c in scene.cells] == cells


@pytest.mark.parametrize("mosaic, message", [
    ("AB;C", "same number of cells"),
    ("AB;BA", "does not cover a rectangle"),
    ("ABC", "names 3 panels; the scene has 2"),
])
def test_bad_mosaics(mosaic, message):
    with pytest.raises(ValueError, match=message):
        Scene([LossCurvePanel(), LossCurvePanel()], mosaic=mosaic)


def test_a_spanning_panel_is_drawn_over_both_rows():
    scene = Scene([LossCurvePanel(), MetricCurvePanel("accuracy"), LossCurvePanel()],
                  mosaic="AB;CB", figsize=(6, 4))
    fig = Renderer(scene, run_of(frames=4)).figure_at(-1)
    a, b, c = (ax.get_position() for ax in fig.axes)
    assert b.y0 < c.y1 and b.y1 > a.y0  # B reaches from C's row up into A's
    assert b.height > 1.5 * a.height and b.x0 > a.x1


def test_default_size_grows_with_columns_and_rows():
    one = LossCurvePanel()
    # 0.2's default, kept for plugins that set none (their baselines hold); every built-in
    # scene sets 12.8 x 7.2 in (1280 x 720 pixels at 100 dpi)
    assert Scene([one, one]).figsize == (9.6, 5.4)
    assert Scene([one, one, one]).figsize == pytest.approx((12.8, 7.2))
    assert Scene([one] * 4, cols=2).figsize == pytest.approx((12.8, 7.2))
    assert Scene([one], figsize=(3, 2)).figsize == (3, 2)
    assert Renderer(Scene([one] * 3), run_of()).frame_size == (1280, 720)


def test_a_figure_wide_legend_shows_each_label_once():
    class Labelled(Panel):
        def setup(self, ax, run):
            ax.plot([0, 1], [0, 1], label="shared")
            ax.plot([0, 1], [1, 0], label=f"own {id(self)}")

        def update(self, snapshot):
            return []

    fig = Renderer(Scene([Labelled(), Labelled()], legend="lower center", figsize=(6, 3)),
                   run_of()).figure_at(-1)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts.count("shared") == 1 and len(texts) == 3
    with pytest.raises(ValueError, match="legend must be one of"):
        Scene([Labelled()], legend="middle")


def test_frames_and_figure_at_do_not_share_panel_state():
    panel = MetricCurvePanel("accuracy")
    renderer = Renderer(Scene([panel], figsize=(4, 3)), run_of(frames=6), dpi=50)
    frames = renderer.frames()
    first = next(frames)
    poster = renderer.figure_at(-1)  # a second figure built in the middle of the animation
    rest = list(frames)
    fresh = list(Renderer(Scene([MetricCurvePanel("accuracy")], figsize=(4, 3)),
                          run_of(frames=6), dpi=50).frames())
    for a, b in zip([first, *rest], fresh):
        np.testing.assert_array_equal(a, b)
    assert poster.axes[0].lines[0].get_xdata().size == 40
    assert not hasattr(panel, "line")  # the scene's own panel was never set up


def _readout_box(panel, fig):
    """The readout's extent in axes fractions, and the curve's points in axes fractions."""
    ax = fig.axes[0]
    box = panel_readout(fig).get_window_extent(fig.canvas.get_renderer())
    box = box.transformed(ax.transAxes.inverted())
    xy = ax.transAxes.inverted().transform(ax.transData.transform(
        np.column_stack(ax.lines[-2].get_data())))
    return box, xy


def panel_readout(fig):
    return next(t for t in fig.axes[0].texts if "epoch" in t.get_text())


@pytest.mark.parametrize("trace, higher", [("accuracy", True), ("loss", False)])
def test_the_readout_never_covers_the_curve(trace, higher):
    run = run_of(traces=("accuracy",))
    panel = MetricCurvePanel(trace, higher_is_better=higher, references={"chance": 0.5})
    fig = Renderer(Scene([panel], figsize=(4.8, 3.6)), run).figure_at(-1)
    box, xy = _readout_box(panel, fig)
    inside = ((xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1)
              & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1))
    assert not inside.any()
    ax = fig.axes[0]
    level = ax.transAxes.inverted().transform(ax.transData.transform((0, 0.5)))[1]
    assert not box.y0 <= level <= box.y1  # nor does it sit on the reference line
    assert box.width <= READOUT_BOX[0] and box.height <= READOUT_BOX[1]
    text = panel_readout(fig).get_text()
    assert text.startswith("epoch 39\n")
    assert ("best 0.99" in text) == higher  # the best of a rising curve is its highest


def test_metric_curve_log_scale_and_reference_lines():
    run = run_of()
    panel = MetricCurvePanel("loss", log=True, references={"floor": 0.01})
    fig = Renderer(Scene([panel], figsize=(4.8, 3.6)), run).figure_at(-1)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    assert lo < 0.01 < 1.0 < hi  # the reference line and the whole curve are in view
    assert any(t.get_text() == "floor" for t in ax.texts)
    assert panel.requires() == ((), ("loss",))


def test_a_built_in_panel_in_another_algorithms_scene_says_what_it_misses():
    from mlviz import load_registry

    clusters = load_registry().panels["kmeans-clusters"]
    with pytest.raises(ContractError, match="panel kmeans-clusters in compare needs the "
                                            "snapshot field 'k', which CountSnapshot"):
        Renderer(Scene([clusters()]), run_of(), algorithm="compare")


def test_panel_alone_drops_the_scene_title_and_fills_a_1280x720_frame():
    import mlviz

    prepared = mlviz.prepare("linear-regression", frames=2)
    alone = prepared.styled(panel="linreg-fit")
    renderer = alone.renderer()
    assert renderer.frame_size == (1280, 720) and alone.scene.title == ""
    fig = renderer.figure_at(-1)
    assert fig._suptitle is None and [ax.get_title() for ax in fig.axes] == ["Linear regression"]
    # the panel's text is a third larger in pixels than in the whole scene's frame
    whole = prepared.renderer().figure_at(-1)
    size = {f: [ax.title.get_fontsize() * f.dpi for ax in f.axes if ax.get_title() ==
                "Linear regression"][0] for f in (fig, whole)}
    assert size[fig] == pytest.approx(size[whole] * 4 / 3, rel=0.01)
