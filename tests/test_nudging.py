"""weight-nudging: the nudging rule and its stop, the gradient against autograd and finite
differences, SGD with momentum against the update written by hand, and the pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlviz
from mlviz import ConfigError
from mlviz.testing import assert_frames_independent_of_budget, panel_figure, scene_figure
from mlviz_nudging.panels import (
    DataLinePanel,
    ErrorCurvePanel,
    ErrorStepsPanel,
    WeightPanel,
    act_paths,
)
from mlviz_nudging.trainer import (
    GRADIENT,
    NUDGING,
    NudgingConfig,
    NudgingTrainer,
    default_dataset,
    mean_error,
    mse,
    mse_grad,
    start_weight,
    tolerance_band,
)


def run_acts(**overrides):
    config = NudgingConfig(**overrides)
    dataset = default_dataset(config)
    snaps = list(NudgingTrainer(config).run(dataset))
    x, y = dataset.X[:, 0], dataset.y
    act1 = [s for s in snaps if s.act == NUDGING]
    act2 = [s for s in snaps if s.act == GRADIENT]
    return config, x, y, act1, act2


def test_nudging_moves_by_fixed_steps_and_stops_within_tolerance():
    config, x, y, act1, _ = run_acts()
    assert act1[0].weight == start_weight(config)
    assert abs(act1[-1].error) <= config.tolerance and act1[-1].done
    assert all(abs(s.error) > config.tolerance and not s.done for s in act1[:-1])
    for s, t in zip(act1, act1[1:]):
        assert t.weight == pytest.approx(s.next_weight)
        assert abs(t.weight - s.weight) == pytest.approx(config.nudge)
        assert np.sign(t.weight - s.weight) == -np.sign(s.error)  # towards lower error
        assert s.error == pytest.approx(np.mean(s.weight * x - y))
    assert act1[-1].next_weight == act1[-1].weight
    assert abs(act1[-1].weight - config.target) <= config.tolerance / x.mean()


def test_mse_gradient_matches_autograd_and_finite_differences():
    x = np.arange(1.0, 7.0)
    y = 3.0 * x
    for w in (-1.3, 0.4, 2.9, 3.0, 5.5):
        t = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        torch.mean((t * torch.tensor(x) - torch.tensor(y)) ** 2).backward()
        assert mse_grad(w, x, y) == pytest.approx(t.grad.item(), abs=1e-12)
        h = 1e-6
        numeric = (mse(w + h, x, y) - mse(w - h, x, y)) / (2 * h)
        assert mse_grad(w, x, y) == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    assert mse(3.0, x, y) == 0.0 and mean_error(3.0, x, y) == 0.0


def test_gradient_descent_is_sgd_with_momentum_on_the_mse():
    config, x, y, act1, act2 = run_acts(seed=7)
    w = act1[0].weight  # both acts start from the same weight
    velocity = 0.0
    for step, s in enumerate(act2):
        assert s.step == step
        assert s.weight == pytest.approx(w, rel=1e-12)
        grad = mse_grad(w, x, y)
        assert s.grad == pytest.approx(grad, rel=1e-9)  # autograd's gradient, stored
        velocity = grad if step == 0 else config.momentum * velocity + grad
        w = w - config.lr * velocity
        if not s.done:
            assert s.next_weight == pytest.approx(w, rel=1e-12)
    assert abs(act2[-1].error) <= config.tolerance
    assert len(act2) < len(act1) / 3  # the point of act 2: far fewer steps


def test_epochs_traces_and_seed():
    _, _, _, act1, act2 = run_acts(seed=3)
    snaps = act1 + act2
    assert [s.epoch for s in snaps] == list(range(len(snaps)))
    x = np.arange(1.0, 7.0)
    assert all(s.loss == pytest.approx(np.mean((s.weight * x - 3.0 * x) ** 2)) for s in snaps)
    assert run_acts(seed=4)[3][0].weight != act1[0].weight
    # every step's weight and act are traced, however few frames are drawn
    run = mlviz.prepare("weight-nudging", seed=3, frames=2).run
    assert run.n_frames == 2
    np.testing.assert_array_equal(run.trace("weight"), [s.weight for s in snaps])
    np.testing.assert_array_equal(run.trace("act"), [s.act for s in snaps])
    paths = act_paths(run, until=act2[2].epoch)
    np.testing.assert_array_equal(paths[NUDGING], [s.weight for s in act1])
    np.testing.assert_array_equal(paths[GRADIENT], [s.weight for s in act2[:3]])


def test_step_limit_when_nudges_overshoot_the_band():
    config, x, y, act1, _ = run_acts(nudge=1.0, tolerance=0.01, max_steps=20)
    low, high = tolerance_band(x, y, config.tolerance)
    assert high - low < config.nudge  # the band is narrower than a nudge: it can be jumped
    assert len(act1) == 21 and act1[-1].done and abs(act1[-1].error) > config.tolerance


def test_config_checks():
    with pytest.raises(ConfigError, match="w_low"):
        NudgingConfig(w_low=2.0, w_high=1.0)
    names = {p.name for p in NudgingConfig.params()}
    assert names >= {"target", "n_points", "w_low", "w_high", "nudge", "tolerance", "lr",
                     "momentum", "max_steps"}


# --- pictures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prepared():
    return mlviz.prepare("weight-nudging")


ACT1_FRAME, ACT2_FRAME = 10, 52  # step 10 of the nudges; step 4 of gradient descent


def test_default_run_has_one_frame_per_step(prepared):
    snaps = prepared.run.snapshots
    assert [s.epoch for s in snaps] == list(range(len(snaps)))
    assert snaps[ACT1_FRAME].act == NUDGING and snaps[ACT2_FRAME].act == GRADIENT


def test_frames_drawn_do_not_change_the_pictures(prepared):
    """Paths, limits and step axes come from traces: drawing 3 of the snapshots leaves the
    middle and the last frame pixel-identical."""
    assert_frames_independent_of_budget(prepared, frames=3)


@pytest.mark.mpl_image_compare
def test_nudging_data_panel(prepared):
    return panel_figure(DataLinePanel(), prepared.run, frame=ACT2_FRAME, figsize=(5.6, 4.0))


@pytest.mark.mpl_image_compare
def test_nudging_error_curve_panel(prepared):
    return panel_figure(ErrorCurvePanel(), prepared.run, frame=ACT2_FRAME)


@pytest.mark.mpl_image_compare
def test_nudging_weight_panel(prepared):
    return panel_figure(WeightPanel(), prepared.run, frame=ACT2_FRAME)


@pytest.mark.mpl_image_compare
def test_nudging_error_panel(prepared):
    return panel_figure(ErrorStepsPanel(), prepared.run, frame=ACT2_FRAME)


@pytest.mark.mpl_image_compare
def test_nudging_scene_act1(prepared):
    return scene_figure(prepared.scene, prepared.run, frame=ACT1_FRAME)


@pytest.mark.mpl_image_compare
def test_nudging_scene_act2(prepared):
    return scene_figure(prepared.scene, prepared.run, frame=ACT2_FRAME)


def test_diverging_gradient_descent_stops_and_still_draws():
    config, x, y, act1, act2 = run_acts(lr=0.2)  # lr · 2·mean(x²) > 2: every step overshoots
    assert act2[-1].done and len(act2) < config.max_steps
    assert abs(act2[-1].error) > 1e6 * abs(act2[0].error) * 0.999
    prepared = mlviz.prepare("weight-nudging", lr=0.2)
    fig = scene_figure(prepared.scene, prepared.run, frame=-1)
    assert fig.axes[0].get_ylim()[1] > 1e6


# --- the look (issue 12): legends that match the acts, readouts clear of every curve -------

def _drawn_points(artist, step: float = 2.0) -> np.ndarray:
    """Where ``artist`` (a line, a line collection) paints, in display pixels: its
    vertices and points every ``step`` pixels along its segments."""
    from matplotlib.collections import LineCollection

    if isinstance(artist, LineCollection):
        polylines = [artist.axes.transData.transform(seg) for seg in artist.get_segments()]
    else:
        polylines = [artist.get_transform().transform(artist.get_xydata())]
    parts = []
    for poly in polylines:
        poly = poly[np.all(np.isfinite(poly), axis=1)]
        parts.append(poly)
        for a, b in zip(poly[:-1], poly[1:]):
            count = int(np.hypot(*(b - a)) // step) + 2
            parts.append(a + np.linspace(0, 1, count)[:, None] * (b - a))
    return np.concatenate(parts) if parts else np.empty((0, 2))


def _hits(box, points: np.ndarray, margin: float = 1.0) -> int:
    """How many of ``points`` lie inside ``box`` (display pixels), ``margin`` in from its edges."""
    return int(np.sum((points[:, 0] > box.x0 + margin) & (points[:, 0] < box.x1 - margin)
                      & (points[:, 1] > box.y0 + margin) & (points[:, 1] < box.y1 - margin)))


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("frame", [0, ACT1_FRAME, ACT2_FRAME, -1])
def test_the_legend_shows_the_model_line_as_this_act_draws_it(prepared, theme, frame):
    from matplotlib.colors import to_hex

    fig = panel_figure(DataLinePanel(), prepared.run, frame=frame, theme=theme)
    ax = fig.axes[0]
    panel_line = next(line for line in ax.lines if line.get_label().startswith("model"))
    legend = ax.get_legend()
    (entry,) = [handle for handle, text in zip(legend.legend_handles, legend.get_texts())
                if text.get_text().startswith("model")]
    assert to_hex(entry.get_color()) == to_hex(panel_line.get_color())
    assert entry.get_linestyle() == panel_line.get_linestyle()
    snapshot = prepared.run.snapshots[frame]
    assert to_hex(panel_line.get_color()) == to_hex(ax.title.get_color())  # the act's colour
    texts = [text.get_text() for text in legend.get_texts()]
    assert f"w = {snapshot.weight:.3f} (step {snapshot.step})" in texts[2]
    assert f"mean error {snapshot.error:+.3f}" in texts[3]


def test_the_acts_differ_in_colour_line_style_and_marker(prepared):
    from mlviz.theme import LIGHT
    from mlviz_nudging.panels import act_style

    one, two = act_style(LIGHT, NUDGING), act_style(LIGHT, GRADIENT)
    assert all(one[key] != two[key] for key in ("color", "linestyle", "marker"))
    for panel in (WeightPanel(), ErrorStepsPanel()):
        ax = panel_figure(panel, prepared.run, frame=-1).axes[0]
        nudges, descent = (line for line in ax.lines if line.get_label().startswith("act"))
        assert (nudges.get_marker(), descent.get_marker()) == (one["marker"], two["marker"])
        assert nudges.get_linestyle() != descent.get_linestyle()


@pytest.mark.parametrize("overrides", [{}, {"seed": 3}, {"target": -2.0, "w_high": 2.0},
                                       {"lr": 0.03, "momentum": 0.5}])
def test_readouts_and_legends_stay_clear_of_every_curve(overrides):
    """The error curve's note and the data panel's legend (its readout) overlap no curve,
    no target line, no residual and no data point, in either act."""
    prepared = mlviz.prepare("weight-nudging", **overrides)
    snaps = prepared.run.snapshots
    act2 = [i for i, s in enumerate(snaps) if s.act == GRADIENT]
    for frame in (0, len(snaps) - len(act2) - 1, act2[0], act2[len(act2) // 2], act2[-1]):
        fig = panel_figure(ErrorCurvePanel(), prepared.run, frame=frame)
        ax = fig.axes[0]
        renderer = fig.canvas.get_renderer()
        (note,) = [t for t in ax.texts if t.get_text()]
        box = note.get_window_extent(renderer)
        for line in ax.lines:
            assert not _hits(box, _drawn_points(line)), (frame, note.get_text())

        fig = panel_figure(DataLinePanel(), prepared.run, frame=frame, figsize=(5.6, 4.0))
        ax = fig.axes[0]
        box = fig.axes[0].get_legend().get_window_extent(fig.canvas.get_renderer())
        residuals = [c for c in ax.collections if c.get_label() == "residuals"]
        for artist in [*ax.lines, *residuals]:
            marked = getattr(artist, "get_marker", lambda: None)() not in (None, "None", "none")
            margin = -4.0 if marked else 1.0  # a marker's radius around each data point
            assert not _hits(box, _drawn_points(artist), margin), (frame, artist.get_label())


def test_a_dark_poster_is_dark_with_light_text(prepared):
    from theme_look import assert_dark_poster

    assert_dark_poster(prepared, frame=ACT1_FRAME)
    assert_dark_poster(prepared)


# ---- the two error measures, linked on the frame; the story ---------------------------------

@pytest.mark.parametrize("overrides", [{}, {"n_points": 3, "target": -2.0}])
def test_mse_is_k_times_the_squared_mean_error_and_the_frame_says_so(overrides):
    """The error curve (MSE) and the stopping rule (|mean error|) are one measure here:
    MSE = k · (mean error)², k = mean(x²)/mean(x)²; both panels state k, the error curve
    shades the stopping band and the error panel reads MSE on a second axis."""
    from matplotlib.axes._secondary_axes import SecondaryAxis
    from matplotlib.patches import Rectangle

    from mlviz_nudging.panels import ErrorCurvePanel, ErrorStepsPanel
    from mlviz_nudging.trainer import mse_per_squared_error, tolerance_band

    prepared = mlviz.prepare("weight-nudging", **overrides)
    run = prepared.run
    x = run.dataset.X[:, 0]
    k = mse_per_squared_error(x)
    for snap in run.snapshots:  # the identity, at every step of both acts
        assert snap.loss == pytest.approx(k * snap.error**2, rel=1e-9, abs=1e-12)
    curve = panel_figure(ErrorCurvePanel(), run, frame=-1).axes[0]
    assert curve.get_ylabel() == f"MSE = {k:.3g} · (mean error)²"
    y = np.asarray(run.dataset.y, dtype=float)
    band = tolerance_band(x, y, run.config.tolerance)
    spans = [p for p in curve.patches if isinstance(p, Rectangle)
             and p.get_x() == pytest.approx(min(band))]
    assert len(spans) == 1 and spans[0].get_width() == pytest.approx(abs(band[1] - band[0]))
    fig = panel_figure(ErrorStepsPanel(), run, frame=-1)
    errors = fig.axes[0]
    (second,) = [a for a in errors.child_axes if isinstance(a, SecondaryAxis)]
    assert second.get_ylabel() == f"MSE = {k:.3g} · error²"
    tol = run.config.tolerance
    # the second axis maps the stop line's |mean error| to its MSE
    at = errors.transData.transform([[0, tol]])[0, 1]
    assert second.transData.inverted().transform([[0, at]])[0, 1] == pytest.approx(
        k * tol**2, rel=1e-6)
    labels = [t.get_text() for t in errors.get_legend().get_texts()]
    assert f"stop at {tol:g} (MSE {k * tol * tol:.3g})" in labels


def test_story_has_the_two_acts_where_they_start(prepared):
    from mlviz.story import story_problems

    story = prepared.algorithm.story(prepared.config, prepared.run)
    assert story_problems(story, prepared.run.epochs) == []
    assert [c.title for c in story.chapters] == ["act 1: fixed nudges",
                                                 "act 2: gradient descent"]
    acts = prepared.run.trace("act")
    epochs = prepared.run.trace("epoch")
    assert story.chapters[1].start == int(epochs[np.argmax(acts == 2)])
    assert acts[np.searchsorted(epochs, story.chapters[1].start) - 1] == 1
