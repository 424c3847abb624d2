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
    DataLinePanel, ErrorCurvePanel, ErrorStepsPanel, WeightPanel, act_paths,
)
from mlviz_nudging.trainer import (
    GRADIENT, NUDGING, NudgingConfig, NudgingTrainer, default_dataset, mean_error, mse,
    mse_grad, start_weight, tolerance_band,
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
