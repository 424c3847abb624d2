"""nn-regression: the model against torch, Levenberg–Marquardt against scipy and autograd,
Adam against a hand-written Adam, the stopping rule, and the pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlviz
from mlviz import ConfigError
from mlviz.testing import assert_frames_independent_of_budget, panel_figure, scene_figure
from mlviz_nnreg.model import (
    N_PARAMS,
    PARAM_NAMES,
    jacobian,
    levenberg_marquardt,
    mse,
    mse_gradient,
    predict,
)
from mlviz_nnreg.panels import FitPanel, NNRegLossPanel, ParamsPanel
from mlviz_nnreg.trainer import NNRegConfig, NNRegTrainer, default_dataset, initial_theta

X = np.linspace(0.0, 1.0, 50)
Y = np.cbrt(X)


def torch_mse(theta: torch.Tensor) -> torch.Tensor:
    """The same network written with torch.nn layers (an independent implementation)."""
    net = torch.nn.Sequential(torch.nn.Linear(1, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    net = net.double()
    params = {
        "0.weight": theta[0:3].reshape(3, 1), "0.bias": theta[3:6],
        "2.weight": theta[6:9].reshape(1, 3), "2.bias": theta[9:10],
    }
    out = torch.func.functional_call(net, params, (torch.tensor(X)[:, None],))
    return torch.mean((out[:, 0] - torch.tensor(Y)) ** 2)


def test_model_has_ten_parameters_and_matches_torch_layers():
    assert N_PARAMS == len(PARAM_NAMES) == 10
    theta = np.random.default_rng(1).normal(size=10)
    t = torch.tensor(theta, requires_grad=True)
    loss = torch_mse(t)
    loss.backward()
    assert mse(theta, X, Y) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(mse_gradient(theta, X, Y), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_jacobian_matches_finite_differences():
    theta = np.random.default_rng(2).normal(size=10)
    eps = 1e-6
    numeric = np.column_stack([
        (predict(theta + eps * e, X) - predict(theta - eps * e, X)) / (2 * eps)
        for e in np.eye(10)
    ])
    np.testing.assert_allclose(jacobian(theta, X), numeric, atol=1e-7)


def test_least_squares_reaches_a_stationary_point_as_good_as_scipy():
    from scipy.optimize import least_squares

    start = initial_theta(NNRegConfig())
    fit = levenberg_marquardt(start, X, Y, max_iter=NNRegConfig().lsq_iters)
    theta = torch.tensor(fit.theta, requires_grad=True)
    torch_mse(theta).backward()
    start_grad = np.abs(mse_gradient(start, X, Y)).max()
    assert np.abs(theta.grad.numpy()).max() < 1e-6 * start_grad  # (near) zero gradient
    reference = least_squares(lambda p: predict(p, X) - Y, start, method="lm",
                              xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)
    assert fit.mse == pytest.approx(mse(fit.theta, X, Y))
    assert fit.mse < 1e-6
    assert fit.mse <= 1.01 * np.mean(reference.fun**2)


def test_adam_is_torch_adam_step_for_step():
    """The trainer's trajectory equals Adam written out by hand on the numpy gradient."""
    config = NNRegConfig(epochs=40, lsq_iters=0)
    snaps = list(NNRegTrainer(config).run(default_dataset(config)))
    theta = initial_theta(config)
    m = np.zeros(10)
    v = np.zeros(10)
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, config.lr
    for t, snap in enumerate(snaps, start=1):
        np.testing.assert_allclose(snap.theta, theta, rtol=1e-9, atol=1e-12)
        assert snap.loss == pytest.approx(mse(theta, X, Y), rel=1e-10)
        g = mse_gradient(theta, X, Y)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    assert [s.epoch for s in snaps] == list(range(41))


def test_stops_below_tol_and_least_squares_beats_adam():
    config = NNRegConfig(tol=1e-3)
    snaps = list(NNRegTrainer(config).run(default_dataset(config)))
    losses = np.array([s.loss for s in snaps])
    assert losses[-1] < 1e-3 <= losses[:-1].min()
    final = snaps[-1]
    assert final.lsq_loss <= final.loss
    assert final.lsq_loss == pytest.approx(mse(final.lsq_theta, X, Y))
    # two good fits, different parameters
    assert np.abs(final.lsq_theta - final.theta).max() > 1.0


def test_epoch_limit_and_seed():
    config = NNRegConfig(epochs=25, lsq_iters=50, seed=3)
    a = list(NNRegTrainer(config).run(default_dataset(config)))
    assert len(a) == 26
    other = list(NNRegTrainer(config.replace(seed=4)).run(default_dataset(config)))
    assert not np.array_equal(a[0].theta, other[0].theta)


def test_theta_is_traced_at_every_epoch():
    config = NNRegConfig(epochs=60, lsq_iters=0)
    snaps = list(NNRegTrainer(config).run(default_dataset(config)))
    run = mlviz.prepare("nn-regression", epochs=60, lsq_iters=0).run
    assert run.n_frames < len(snaps)
    np.testing.assert_array_equal(run.trace("theta"), [s.theta for s in snaps])


def test_config_checks_the_view_range():
    with pytest.raises(ConfigError, match="view_max"):
        NNRegConfig(fit_max=2.0, view_max=1.5)
    assert {p.name for p in NNRegConfig.params()} >= {
        "lr", "tol", "epochs", "init_scale", "n_points", "fit_max", "view_max", "lsq_iters",
    }


def test_scene_draws_without_the_least_squares_fit():
    prepared = mlviz.prepare("nn-regression", epochs=20, lsq_iters=0, init_scale=0.0)
    fig = scene_figure(prepared.scene, prepared.run, frame=-1)
    fit_ax = fig.axes[0]
    assert len(fit_ax.get_legend().get_texts()) == 3  # truth, data, Adam: no least squares
    assert prepared.run.snapshots[-1].lsq_theta is None


# --- pictures: a short run (400 epochs) keeps them fast -----------------------------------

@pytest.fixture(scope="module")
def short_run():
    return mlviz.prepare("nn-regression", epochs=400)


FRAME = -1


def test_frames_drawn_do_not_change_the_pictures(short_run):
    """The parameter curves and the axis limits come from traces: drawing 3 of the
    snapshots leaves the middle and the last frame pixel-identical."""
    assert_frames_independent_of_budget(short_run, frames=3)


def test_default_schedule_is_dense_early(short_run):
    epochs = [s.epoch for s in short_run.run.snapshots]
    assert epochs[:11] == list(range(11))
    assert epochs[-1] == 400 and len(epochs) < 40


@pytest.mark.mpl_image_compare
def test_nnreg_fit_panel(short_run):
    return panel_figure(FitPanel(), short_run.run, frame=FRAME, figsize=(5.6, 4.0))


@pytest.mark.mpl_image_compare
def test_nnreg_loss_panel(short_run):
    return panel_figure(NNRegLossPanel(), short_run.run, frame=FRAME)


@pytest.mark.mpl_image_compare
def test_nnreg_params_panel(short_run):
    return panel_figure(ParamsPanel(), short_run.run, frame=FRAME)


@pytest.mark.mpl_image_compare
def test_nnreg_scene(short_run):
    return scene_figure(short_run.scene, short_run.run, frame=18)


def test_one_pass_gives_the_mse_and_the_gradient_of_autograd():
    from mlviz_nnreg.model import mse_and_gradient

    for seed in range(3):
        theta = np.random.default_rng(seed).normal(size=10)
        t = torch.tensor(theta, requires_grad=True)
        loss = torch_mse(t)
        loss.backward()
        value, grad = mse_and_gradient(theta, X, Y)
        assert value == pytest.approx(loss.item(), rel=1e-13)
        np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(grad, mse_gradient(theta, X, Y), rtol=1e-11, atol=1e-14)


def test_numpy_adam_follows_torch_optim_adam():
    """The trainer writes Adam out in numpy (speed); the oracle is torch.optim.Adam with
    autograd on the torch.nn network, step for step (float64: equal to rounding)."""
    config = NNRegConfig(epochs=300, lsq_iters=0)
    snaps = list(NNRegTrainer(config).run(default_dataset(config)))
    theta = torch.tensor(initial_theta(config), requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=config.lr)
    for snap in snaps:
        np.testing.assert_allclose(snap.theta, theta.detach().numpy(), rtol=1e-9, atol=1e-12)
        optimizer.zero_grad()
        loss = torch_mse(theta)
        assert snap.loss == pytest.approx(loss.item(), rel=1e-9)
        loss.backward()
        optimizer.step()
    assert len(snaps) == 301


# --- the look (issue 12): readouts clear of the data on symlog axes, neurons in two channels

def _drawn_points(line, step: float = 2.0) -> np.ndarray:
    """Where ``line`` paints, in display pixels: its vertices and points every ``step``
    pixels along its segments (straight on screen, whatever the axes' scales)."""
    poly = line.get_transform().transform(line.get_xydata())
    poly = poly[np.all(np.isfinite(poly), axis=1)]
    parts = [poly]
    for a, b in zip(poly[:-1], poly[1:]):
        count = int(np.hypot(*(b - a)) // step) + 2
        parts.append(a + np.linspace(0, 1, count)[:, None] * (b - a))
    return np.concatenate(parts)


def _hits(box, points: np.ndarray, margin: float = 1.0) -> int:
    return int(np.sum((points[:, 0] > box.x0 + margin) & (points[:, 0] < box.x1 - margin)
                      & (points[:, 1] > box.y0 + margin) & (points[:, 1] < box.y1 - margin)))


@pytest.mark.parametrize("overrides", [
    {"epochs": 400}, {"epochs": 3000, "tol": 0.0}, {"epochs": 60, "lsq_iters": 0},
    *(pytest.param(o, marks=pytest.mark.slow) for o in ({}, {"lr": 0.3})),
])
def test_loss_readout_and_labels_stay_clear_of_the_curves(overrides):
    """On the symlog epoch axis, the readout and the names of the reference lines overlap
    neither the whole loss curve, nor a reference line, nor each other, in a panel of its
    own and in the scene at both sizes. (lr 0.3: a loss that jumps about everywhere.)"""
    prepared = mlviz.prepare("nn-regression", **overrides)
    for fig in (panel_figure(NNRegLossPanel(), prepared.run, frame=-1),
                scene_figure(prepared.scene, prepared.run, frame=-1),
                prepared.styled(size="1920x1080").renderer().figure_at(-1)):
        ax = next(a for a in fig.axes if a.get_title().startswith("Training loss"))
        renderer = fig.canvas.get_renderer()
        texts = [t for t in ax.texts if t.get_text()]
        assert texts[0].get_text().startswith("epoch")  # the readout
        assert len(texts) == 1 + (prepared.config.tol > 0) + (prepared.config.lsq_iters > 0)
        assert ax.get_legend() is None  # the reference lines are named on them
        boxes = [t.get_window_extent(renderer) for t in texts]
        for i, box in enumerate(boxes):
            assert not any(box.overlaps(other) for other in boxes[i + 1:])
            for line in ax.lines:
                assert not _hits(box, _drawn_points(line)), (overrides, texts[i].get_text(),
                                                             line.get_label())


@pytest.mark.parametrize("frame", [0, 12, -1])
def test_fit_legend_stays_clear_of_every_fit(short_run, frame):
    fig = panel_figure(FitPanel(), short_run.run, frame=frame, figsize=(5.6, 4.0))
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    for line in ax.lines:
        margin = -3.0 if line.get_marker() not in (None, "None", "none") else 1.0
        assert not _hits(box, _drawn_points(line), margin), line.get_label()
    # nor the words that name the regions
    for text in ax.texts:
        assert not box.overlaps(text.get_window_extent(fig.canvas.get_renderer()))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_each_neuron_has_its_colour_and_its_marker(short_run, theme):
    from matplotlib.colors import to_hex

    from mlviz.theme import resolve_theme
    from mlviz_nnreg.model import HIDDEN

    look = resolve_theme(theme)
    ax = panel_figure(ParamsPanel(), short_run.run, frame=-1, theme=theme).axes[0]
    curves = ax.lines[1:1 + 3 * HIDDEN + 1]  # after the zero line: the ten parameters
    for k, line in enumerate(curves[:3 * HIDDEN]):
        kind, neuron = divmod(k, HIDDEN)
        assert to_hex(line.get_color()) == to_hex(look.color(neuron))
        assert line.get_marker() == look.marker(neuron)
    markers = {line.get_marker() for line in curves}
    assert len(markers) == HIDDEN + 1  # three neurons and the output bias
    assert to_hex(curves[-1].get_color()) == to_hex(look.ink)


def test_a_dark_poster_is_dark_with_light_text(short_run):
    from theme_look import assert_dark_poster

    assert_dark_poster(short_run)
    assert_dark_poster(short_run, frame=0)


def test_the_extrapolation_is_explained_by_the_fits_own_slope():
    """Issue 18: the frame says what the fit does outside the data and why: the slope
    there (a finite difference of the network agrees) and whether the neuron carrying it
    is still on tanh's straight middle."""
    from mlviz_nnreg.model import STRAIGHT, extrapolation, extrapolation_note

    rng = np.random.default_rng(4)
    for _ in range(5):
        theta = rng.normal(size=10)
        slope, j, z = extrapolation(theta, 3.0)
        h = 1e-6
        numeric = (predict(theta, np.array([3.0 + h])) - predict(theta, np.array([3.0 - h])))
        assert slope == pytest.approx(float(numeric[0]) / (2 * h), rel=1e-5, abs=1e-8)
        assert z == pytest.approx(abs(theta[j] * 3.0 + theta[3 + j]))
    straight = np.array([0.1, 5.0, 5.0, 0.0, 0.0, 0.0, 2.0, 0.1, 0.1, 0.0])
    note = extrapolation_note(straight, None, 1.0, 3.0)
    assert "neuron 1" in note and "almost linearly" in note
    assert extrapolation(straight, 3.0)[2] < STRAIGHT
    flat = np.array([5.0, 5.0, 5.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0])
    assert "levels off" in extrapolation_note(flat, flat, 1.0, 3.0)


def test_the_story_moves_outside_once_the_fit_is_close():
    from mlviz.story import story_problems
    from mlviz_nnreg.plugin import nnreg_story

    run = mlviz.prepare("nn-regression", epochs=3000).run
    story = nnreg_story(run.config, run)
    assert story_problems(story, run.epochs) == []
    assert [chapter.title for chapter in story.chapters] == ["fitting", "outside the data"]
    at = int(np.searchsorted(run.epochs, story.chapters[1].start))
    losses = np.asarray(run.losses)
    assert losses[at] < 1e-3 and (losses[:at] >= 1e-3).all()
