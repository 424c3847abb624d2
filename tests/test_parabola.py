"""parabola: two PyTorch networks on y = x², checked against a numpy forward pass,
finite-difference gradients and each other."""

from __future__ import annotations

import numpy as np
import pytest

import mlviz
from mlviz import ConfigError
from mlviz.testing import assert_frames_independent_of_budget, panel_figure, scene_figure
from mlviz_parabola.panels import (
    ParabolaExtrapolationPanel,
    ParabolaFitPanel,
    ParabolaLossPanel,
)
from mlviz_parabola.plugin import parabola_scene
from mlviz_parabola.trainer import (
    NETS,
    ParabolaConfig,
    ParabolaTrainer,
    default_dataset,
    prediction_grid,
)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(name: str, params, x: np.ndarray) -> np.ndarray:
    """Both networks written out in numpy from a snapshot's parameters (the oracle)."""
    p = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith(name + ".")}
    h = x[:, None]
    if name == "sigmoid":
        h = sigmoid(h @ p["0.weight"].T + p["0.bias"])
        return (h @ p["2.weight"].T + p["2.bias"])[:, 0]
    h = np.maximum(h @ p["0.weight"].T + p["0.bias"], 0.0)
    h = np.maximum(h @ p["2.weight"].T + p["2.bias"], 0.0)
    return (h @ p["4.weight"].T + p["4.bias"])[:, 0]


def train(**overrides):
    config = ParabolaConfig(**overrides)
    dataset = default_dataset(config)
    return config, dataset, list(ParabolaTrainer(config).run(dataset))


@pytest.fixture(scope="module")
def default_run():
    return train()


def test_loss_is_the_mse_of_the_snapshot_predictions():
    config, dataset, snaps = train(epochs=40, noise=1.0)
    x, y = dataset.X[:, 0], dataset.y
    grid = prediction_grid(config)
    for snap in snaps[::7] + snaps[-1:]:
        for k, name in enumerate(NETS):
            fitted = forward(name, snap.params, x)
            np.testing.assert_allclose(snap.fitted[k], fitted, rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(snap.curves[k], forward(name, snap.params, grid),
                                       rtol=1e-10, atol=1e-10)
            assert snap.mse[k] == pytest.approx(np.mean((fitted - y) ** 2), rel=1e-10)
        assert snap.loss == pytest.approx(snap.mse.sum(), rel=1e-12)
        inside = np.abs(grid) <= config.train_range
        np.testing.assert_array_equal(snap.extent, [
            [snap.curves[:, inside].min(), snap.curves[:, inside].max()],
            [snap.curves.min(), snap.curves.max()],
        ])
    assert [s.epoch for s in snaps] == list(range(41))


def test_mse_and_extent_are_traced_at_every_epoch():
    _, _, snaps = train(epochs=40)
    run = mlviz.prepare("parabola", epochs=40, frames=2).run
    assert run.n_frames == 2
    np.testing.assert_array_equal(run.trace("mse"), [s.mse for s in snaps])
    np.testing.assert_array_equal(run.trace("extent"), [s.extent for s in snaps])
    assert not hasattr(snaps[-1], "history")


def test_sgd_step_follows_the_finite_difference_gradient():
    lr = 1e-4
    config, dataset, snaps = train(epochs=1, optimizer="sgd", lr=lr, noise=2.0)
    x, y = dataset.X[:, 0], dataset.y
    before, after = snaps[0].params, snaps[1].params
    eps = 1e-6
    for key, value in before.items():
        name = key.split(".")[0]
        grad = np.zeros(value.size)
        for i in range(value.size):
            shifted = []
            for sign in (1, -1):
                params = {k: np.array(v) for k, v in before.items()}
                params[key].flat[i] += sign * eps
                shifted.append(np.mean((forward(name, params, x) - y) ** 2))
            grad[i] = (shifted[0] - shifted[1]) / (2 * eps)
        # first SGD step with momentum: the buffer is the gradient itself
        np.testing.assert_allclose(after[key].ravel(), value.ravel() - lr * grad,
                                   rtol=0, atol=1e-9)


def test_relu_net_fits_far_better_than_the_sigmoid_net(default_run):
    config, dataset, snaps = default_run
    sigmoid_mse, relu_mse = snaps[-1].mse
    assert relu_mse < 0.5
    assert sigmoid_mse > 20 * relu_mse
    assert sigmoid_mse < snaps[0].mse[0]  # it learns something, it is no flat line
    # Extrapolation: at x = ±10 the sigmoid net stays near its value at the data's edge,
    # the ReLU net keeps rising (roughly linearly) but falls short of 100.
    grid = prediction_grid(config)
    edge, far = np.abs(grid - 5).argmin(), np.abs(grid - 10).argmin()
    sig, relu = snaps[-1].curves
    assert abs(sig[far] - sig[edge]) < 2.0
    assert relu[far] > relu[edge] + 15 and relu[far] < 100


def test_the_seed_sets_the_initial_weights():
    _, _, a = train(epochs=1)
    _, _, c = train(epochs=1, seed=1)
    for key in a[0].params:
        assert not np.array_equal(a[0].params[key], c[0].params[key]), key


def test_dataset_and_config_checks():
    config = ParabolaConfig(n_points=11)
    np.testing.assert_allclose(default_dataset(config).X[:, 0], np.arange(-5.0, 6.0))
    np.testing.assert_allclose(default_dataset(config).y, np.arange(-5.0, 6.0) ** 2)
    with pytest.raises(ConfigError, match="view_range"):
        ParabolaConfig(view_range=4.0)
    with pytest.raises(ConfigError):
        ParabolaConfig.from_overrides({"optimizer": "lbfgs"})


# --- images: a short run at a fixed frame --------------------------------------------------

@pytest.fixture(scope="module")
def prepared():
    return mlviz.prepare("parabola", epochs=300)


@pytest.fixture(scope="module")
def short_run(prepared):
    return prepared.run


def test_frames_drawn_do_not_change_the_pictures(prepared):
    """Loss curves and axis limits come from traces: drawing 3 of the snapshots leaves the
    middle and the last frame pixel-identical."""
    assert_frames_independent_of_budget(prepared, frames=3)


@pytest.mark.mpl_image_compare
def test_fit_panel(short_run):
    return panel_figure(ParabolaFitPanel(), short_run, frame=-1)


@pytest.mark.mpl_image_compare
def test_extrapolation_panel(short_run):
    return panel_figure(ParabolaExtrapolationPanel(), short_run, frame=-1)


@pytest.mark.mpl_image_compare
def test_loss_panel(short_run):
    return panel_figure(ParabolaLossPanel(), short_run, frame=25)


@pytest.mark.mpl_image_compare
def test_scene(short_run):
    return scene_figure(parabola_scene(short_run.config), short_run, frame=-1)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_by_hand_is_autograd_and_torch_optim(optimizer):
    """The trainer runs both networks forward and backward by hand on flat parameter
    vectors (speed); the oracle is the textbook loop: nn.Module, autograd, torch.optim."""
    torch = pytest.importorskip("torch")
    from mlviz_parabola.trainer import build_networks

    config, dataset, snaps = train(epochs=25, optimizer=optimizer, noise=1.0)
    x = torch.tensor(dataset.X[:, :1], dtype=torch.float64)
    y = torch.tensor(np.asarray(dataset.y, dtype=float))
    nets = build_networks(config)
    optimizers = [torch.optim.Adam(net.parameters(), lr=config.lr) if optimizer == "adam" else
                  torch.optim.SGD(net.parameters(), lr=config.lr, momentum=0.9) for net in nets]
    for snap in snaps:
        for name, net, opt in zip(NETS, nets, optimizers):
            for key, value in net.state_dict().items():
                np.testing.assert_allclose(snap.params[f"{name}.{key}"], value.numpy(),
                                           rtol=1e-13, atol=1e-15)
            opt.zero_grad()
            loss = torch.mean((net(x)[:, 0] - y) ** 2)
            assert snap.mse[NETS.index(name)] == pytest.approx(loss.item(), rel=1e-13)
            loss.backward()
            opt.step()


# ---- the look ---------------------------------------------------------------------------------

@pytest.mark.parametrize("panel", [ParabolaFitPanel, ParabolaExtrapolationPanel])
def test_the_data_points_are_drawn_whole_inside_the_axes(short_run, panel):
    """The points at x = ±train_range (±5) and y = 0 and 25 lie inside the axis limits with
    room for their markers: none is cut by the axis edge."""
    fig = panel_figure(panel(), short_run, frame=-1)
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    assert x0 < -5 and x1 > 5
    dots = next(c for c in ax.collections if len(c.get_offsets()) == len(short_run.dataset.X))
    radius = np.sqrt(dots.get_sizes()[0]) / 2 * fig.dpi / 72  # in pixels
    box = ax.get_window_extent()
    for x, y in ax.transData.transform(dots.get_offsets()):
        assert box.x0 + radius < x < box.x1 - radius and box.y0 + radius < y < box.y1 - radius
    if panel is ParabolaFitPanel:  # the edge points: at least one marker diameter of room
        right = ax.transData.transform((5, 25))[0]
        assert box.x1 - right > 2 * radius


def test_the_two_networks_differ_in_line_style_as_well_as_colour(short_run):
    fig = panel_figure(ParabolaFitPanel(), short_run, frame=-1)
    nets = [line for line in fig.axes[0].get_lines()
            if line.get_label().startswith(("sig", "ReLU"))]
    assert len(nets) == 2
    assert nets[0].get_color() != nets[1].get_color()
    assert nets[0].get_linestyle() != nets[1].get_linestyle()


def test_a_dark_poster_is_dark_with_light_text():
    from theme_look import assert_dark_poster

    assert_dark_poster(mlviz.prepare("parabola", epochs=60))


def test_the_story_follows_the_two_losses():
    """Issue 18: chapters where the ReLU net reaches the data (MSE below 1) and where its
    loss has settled, leaving the sigmoid net learning; the objective as an equation."""
    from mlviz.story import story_problems
    from mlviz_parabola.plugin import parabola_story

    prepared = mlviz.prepare("parabola")
    run = prepared.run
    story = parabola_story(run.config, run)
    assert story_problems(story, run.epochs) == []
    assert [chapter.title for chapter in story.chapters] == ["start", "ReLU fits",
                                                             "sigmoid creeps"]
    relu = run.trace("mse")[:, 1]
    fits = story.chapters[1].start
    assert relu[fits] < 1.0 and (relu[:fits] >= 1.0).all()
    creeps = story.chapters[2].start
    assert (relu[creeps:] <= 1.1 * relu[-1]).all() and relu[creeps - 1] > 1.1 * relu[-1]
    sigmoid = run.trace("mse")[:, 0]
    assert sigmoid[-1] < sigmoid[creeps]  # the sigmoid net is still learning there
    assert "MSE" in story.objective


def test_the_extrapolation_panel_says_why_each_net_guesses_what_it_does():
    from mlviz_parabola.panels import EXTRAPOLATION_WHY

    prepared = mlviz.prepare("parabola", epochs=5)
    fig = scene_figure(prepared.scene, prepared.run, frame=-1)
    texts = [text.get_text() for ax in fig.axes for text in ax.texts]
    assert EXTRAPOLATION_WHY in texts
    assert "piecewise linear" in EXTRAPOLATION_WHY and "saturate" in EXTRAPOLATION_WHY
    assert tuple(fig.canvas.get_width_height()) == (1280, 720)
