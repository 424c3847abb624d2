"""The renderer: blitted frames equal full redraws; RedrawPanel fallback; frame sizes."""

from __future__ import annotations

import numpy as np
import pytest

from mlviz import Config, Dataset, Panel, RedrawPanel, Run, Scene, Snapshot
from mlviz.panels import LossCurvePanel, MetricCurvePanel
from mlviz.renderer import Renderer
from mlviz.testing import panel_figure
from mlviz.theme import DARK, LIGHT


def make_run(n: int = 12) -> Run:
    snaps, w = [], np.array([1.8, -1.5])
    for epoch in range(n):
        snaps.append(Snapshot(epoch, float(w @ w), {"w": w}))
        w = w * 0.8
    return Run(Config(), Dataset(np.zeros((2, 2))), tuple(snaps),
               [s.epoch for s in snaps], [s.loss for s in snaps])


class BowlPanel(Panel):
    """A static 3D bowl with a moving point: exercises 3D blitting."""

    name = "test-bowl"
    projection = "3d"

    def setup(self, ax, run):
        g = np.linspace(-2, 2, 30)
        x, y = np.meshgrid(g, g)
        ax.plot_surface(x, y, x**2 + y**2, cmap="viridis", alpha=0.6)
        ax.view_init(18, -35)
        (self.point,) = ax.plot([], [], [], "o", color="red", markersize=8)

    def update(self, snapshot):
        w = snapshot.params["w"]
        self.point.set_data_3d([w[0]], [w[1]], [w @ w])
        return [self.point]


class TrailPanel(RedrawPanel):
    """Redraws everything each frame."""

    name = "test-trail"

    def draw(self, ax, run, snapshot):
        ax.plot(run.epochs[: snapshot.epoch + 1], run.losses[: snapshot.epoch + 1], "k-")
        ax.set_xlim(0, run.epochs[-1])
        ax.set_ylim(0, run.losses.max())


def as_rgb(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3]


@pytest.mark.parametrize("panels", [[LossCurvePanel(), BowlPanel()], [TrailPanel(), BowlPanel()]])
def test_blitted_frames_match_full_redraws(panels):
    run = make_run()
    renderer = Renderer(Scene(panels, title="test"), run)
    frames = list(renderer.frames())
    assert len(frames) == run.n_frames
    assert frames[0].shape == (540, 960, 3) and frames[0].dtype == np.uint8
    assert not np.array_equal(frames[1], frames[7])  # something moves
    for index in (0, 7, run.n_frames - 1):
        reference = as_rgb(Renderer(Scene(panels, title="test"), run).figure_at(index))
        differs = np.abs(reference.astype(int) - frames[index]).max(axis=2) > 60
        assert differs.mean() < 0.002, f"frame {index}: {differs.sum()} pixels differ"


def test_dpi_sets_the_frame_size():
    renderer = Renderer(Scene([LossCurvePanel()], figsize=(4, 3)), make_run(3), dpi=50)
    assert renderer.frame_size == (200, 150)
    assert next(iter(renderer.frames())).shape == (150, 200, 3)


def test_selected_frames_only():
    renderer = Renderer(Scene([LossCurvePanel()], figsize=(4, 3)), make_run(6))
    seen = []
    frames = list(renderer.frames(on_frame=seen.append, indices=[5]))
    assert len(frames) == 1 and seen == [5]


def test_scene_checks():
    with pytest.raises(ValueError, match="at least one panel"):
        Scene([])
    with pytest.raises(ValueError, match="width_ratios"):
        Scene([LossCurvePanel()], width_ratios=(1, 2))
    assert Scene([LossCurvePanel()] * 5, cols=2).rows == 3


@pytest.mark.mpl_image_compare
def test_loss_curve_panel_image():
    return panel_figure(LossCurvePanel(ylabel="MSE", title="Mean squared error"), make_run(), 6)


# --- the metric curve follows the theme ------------------------------------------------------

def _curve_parts(fig):
    """(curve lines, dashed reference lines, reference labels, readout) of a metric panel."""
    ax = fig.axes[0]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    solid = [line for line in ax.lines if line not in dashed]
    labels = [text for text in ax.texts if text.get_text() == "floor"]
    readout = [text for text in ax.texts if text.get_text().startswith("epoch ")]
    return solid, dashed, labels, readout


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=lambda t: t.name)
def test_metric_curve_takes_its_colours_from_the_theme(theme):
    from matplotlib.colors import same_color

    panel = MetricCurvePanel("loss", references={"floor": 0.5})
    fig = Renderer(Scene([panel], figsize=(4, 3)), make_run(), theme=theme.name).figure_at(6)
    solid, dashed, labels, readout = _curve_parts(fig)
    assert len(solid) == 2 and len(dashed) == 1 and len(labels) == 1 and len(readout) == 1
    for line in solid:  # the curve and its marker
        assert same_color(line.get_color(), theme.loss), (theme.name, line.get_color())
    assert same_color(dashed[0].get_color(), theme.muted)
    assert same_color(labels[0].get_color(), theme.muted)
    assert same_color(readout[0].get_color(), theme.text)
    assert panel.color is None  # the scene's panel is not changed by drawing it
    # A colour the caller chose wins over the theme's.
    chosen = MetricCurvePanel("loss", color=theme.good)
    fig = Renderer(Scene([chosen], figsize=(4, 3)), make_run(), theme=theme.name).figure_at(6)
    assert all(same_color(line.get_color(), theme.good) for line in _curve_parts(fig)[0])


def test_loss_curve_is_the_theme_loss_colour_and_fonts_scale():
    from matplotlib.colors import same_color

    big = DARK.scaled(1.5)
    for theme, size in ((LIGHT, 9), (big, 13.5)):
        panel = LossCurvePanel()
        fig = Renderer(Scene([panel], figsize=(4, 3)), make_run(), theme=theme).figure_at(6)
        solid, _, _, readout = _curve_parts(fig)
        assert all(same_color(line.get_color(), theme.loss) for line in solid)
        assert readout[0].get_fontsize() == pytest.approx(size)


def test_overlaid_runs_differ_in_line_style_too():
    import matplotlib.pyplot as plt

    runs = [make_run(), make_run(8), make_run(10)]
    panel = MetricCurvePanel("loss")
    panel.theme = DARK
    fig, ax = plt.subplots()
    try:
        panel.setup_overlay(ax, runs, ["a", "b", "c"], DARK.colors(3))
        panel.update_overlay([run.snapshots[-1] for run in runs])
        assert [line.get_color() for line in panel.lines] == DARK.colors(3)
        assert [line.get_linestyle() for line in panel.lines] == ["-", "--", "-."]
        assert [line.get_linestyle() for line in ax.get_legend().get_lines()] == ["-", "--", "-."]
    finally:
        plt.close(fig)


# --- The caption strip and the story --------------------------------------------------------


def _story(sentence: str = "The loss falls fast at first."):
    from mlviz.story import Chapter, Story

    return Story((Chapter("start", 0, sentence), Chapter("later", 6, "Then it levels off.")),
                 objective=r"$J(w) = \frac{1}{n}\sum_i (w x_i - y_i)^2$")


def _band_texts(fig):
    from matplotlib.lines import Line2D

    rule = [a for a in fig.artists if isinstance(a, Line2D)]  # the band's top edge
    band = rule[0].get_ydata()[0] * fig.bbox.height
    return band, [t for t in fig.texts if t.get_text() and
                  t.get_window_extent(fig.canvas.get_renderer()).y1 <= band + 1]


def test_the_caption_strip_shows_the_playing_chapter_below_the_panels_at_the_same_size():
    scene = Scene([LossCurvePanel()], figsize=(6.4, 3.6))
    plain = Renderer(scene, make_run())
    strip = Renderer(scene, make_run(), story=_story())
    assert strip.frame_size == plain.frame_size == (640, 360)
    frames = list(strip.frames())
    assert frames[0].shape == next(iter(plain.frames())).shape
    for index, sentence in ((2, "The loss falls fast at first."), (8, "Then it levels off.")):
        fig = strip.figure_at(index)
        band, texts = _band_texts(fig)
        assert band > 10 and {t.get_text() for t in texts} == {sentence, _story().objective}
        for ax in fig.axes:  # the panels sit above the band
            assert ax.get_tightbbox(fig.canvas.get_renderer()).y0 >= band - 1
    # blitting draws the same pixels as a figure drawn whole
    assert np.array_equal(frames[8], np.asarray(strip.figure_at(8).canvas.buffer_rgba())[..., :3])


@pytest.mark.parametrize("font_scale", [1.0, 1.5])
def test_a_long_sentence_is_wrapped_or_shrunk_inside_the_frame(font_scale):
    from mlviz.theme import resolve_theme

    long = ("A very long sentence that tells the student everything about what is going on "
            "in this chapter of the run, so that it cannot possibly fit on a single line of "
            "the caption strip at the bottom of a small frame.")
    theme = resolve_theme(None, font_scale=font_scale)
    fig = Renderer(Scene([LossCurvePanel()], figsize=(6.4, 3.6)), make_run(),
                   story=_story(long), theme=theme).figure_at(2)
    renderer = fig.canvas.get_renderer()
    band, texts = _band_texts(fig)
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert len(boxes) == 2 and "\n" in texts[-1].get_text() or len(boxes) == 2
    for box in boxes:  # inside the frame and the band
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y0 >= 0 and box.y1 <= band + 1
    left, right = sorted(boxes, key=lambda b: b.x0)
    assert left.x1 <= right.x0  # the sentence never runs into the objective


def test_write_animation_passes_chapters_and_draws_the_strip_only_where_asked(tmp_path):
    import dataclasses

    import mlviz
    from mlviz.api import write_animation
    from mlviz.plugins import load_registry
    from mlviz.prepared import tell_story

    registry = load_registry()
    base = registry.get("perceptron")
    prepared = mlviz.prepare(base, frames=4)
    epochs = [int(s.epoch) for s in prepared.run.snapshots]
    story = _story()
    story = dataclasses.replace(story, chapters=(
        dataclasses.replace(story.chapters[0], start=epochs[0]),
        dataclasses.replace(story.chapters[1], start=epochs[2])))
    told = dataclasses.replace(base, story=lambda config, run: story)
    assert tell_story(told, prepared.config, prepared.run) == story
    broken = dataclasses.replace(base, story=lambda config, run: "no story")
    from mlviz.errors import ContractError

    with pytest.raises(ContractError, match="story of perceptron.*mlviz.story.Story"):
        tell_story(broken, prepared.config, prepared.run)
    prepared = dataclasses.replace(prepared, story=story)
    assert prepared.chapters() == [(0, "start", story.chapters[0].sentence),
                                   (2, "later", "Then it levels off.")]
    with_strip, without = tmp_path / "a.png", tmp_path / "b.png"
    write_animation(prepared, with_strip, jobs=1)
    write_animation(prepared, without, jobs=1, caption=False)
    plain = tmp_path / "c.png"
    write_animation(dataclasses.replace(prepared, story=None), plain, jobs=1)
    from PIL import Image

    a, b, c = (np.asarray(Image.open(p)) for p in (with_strip, without, plain))
    assert a.shape == b.shape == c.shape and np.array_equal(b, c) and not np.array_equal(a, b)


def test_a_panel_whose_update_returns_no_artists_is_named():
    from mlviz.errors import ContractError

    class Wrong(LossCurvePanel):
        name = "wrong-panel"

        def update(self, snapshot):
            super().update(snapshot)
            return 3

    with pytest.raises(ContractError, match="panel wrong-panel: update.. must return"):
        Renderer(Scene([Wrong()], figsize=(4, 3)), make_run(3), dpi=30).figure_at(1)


def test_the_command_line_draws_the_strip_unless_no_caption(tmp_path, monkeypatch):
    import dataclasses

    import mlviz.plugins
    from mlviz.cli import main
    from mlviz.story import Chapter, Story

    registry = mlviz.plugins.load_registry()
    base = registry.algorithms["perceptron"]
    story = Story((Chapter("all", 0, "The boundary turns toward the mistakes."),),
                  objective=r"$\sum_i \max(0, -y_i w^T x_i)$")
    registry.algorithms["perceptron"] = dataclasses.replace(base, story=lambda c, r: story)
    monkeypatch.setattr(mlviz.plugins, "load_registry", lambda: registry)
    from PIL import Image

    shots = {}
    for name, extra in (("on.png", []), ("off.png", ["--no-caption"])):
        assert main(["render", "perceptron", "-o", str(tmp_path / name), "--frames", "2",
                     "-q", "--size", "640x360", *extra]) == 0
        shots[name] = np.asarray(Image.open(tmp_path / name))
    registry.algorithms["perceptron"] = dataclasses.replace(base, story=None)  # no story
    assert main(["render", "perceptron", "-o", str(tmp_path / "none.png"), "--frames", "2",
                 "-q", "--size", "640x360"]) == 0
    registry.algorithms["perceptron"] = base
    none = np.asarray(Image.open(tmp_path / "none.png"))
    assert shots["on.png"].shape == shots["off.png"].shape == none.shape == (360, 640, 3)
    assert np.array_equal(shots["off.png"], none) and not np.array_equal(shots["on.png"], none)
