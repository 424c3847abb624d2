"""The from-scratch network: backprop against finite differences and autograd, the PyTorch
twin's identical loss history, the panels and the scene."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import mlviz
from mlviz import ConfigError
from mlviz.testing import panel_figure, scene_figure
from mlviz_nn import network as nn
from mlviz_nn.panels import SurfacePanel
from mlviz_nn.plugin import last_layer_landscape
from mlviz_nn.trainer import NNConfig, make_trainer, saddle


@pytest.fixture(scope="module")
def prepared():
    # lr 0.1 (the default before 0.2.x): the images show the panels, not the default rate
    return mlviz.prepare("neural-network", epochs=40, lr=0.1)


def _losses(**changes) -> np.ndarray:
    config = NNConfig(**changes)
    return np.array([s.loss for s in make_trainer(config).run(saddle(config))])


@pytest.mark.slow
def test_the_default_learning_rate_keeps_the_loss_falling_every_epoch():
    """lr 0.1 sat at the edge of stability: the Hessian's top eigenvalue reached 2/lr and
    the loss jumped after about 1000 epochs. The default must fall at every epoch it shows."""
    for seed in (0, 2):
        losses = _losses(seed=seed)
        assert len(losses) == NNConfig().epochs + 1
        assert np.all(np.diff(losses) <= 0), f"seed {seed}: the loss rises"
        assert losses[-1] < 0.02
    old = _losses(lr=0.1, epochs=1100)  # what this test catches
    assert np.diff(old).max() > 1e-3


def _loss(weights, activation, output, inputs, targets):
    return nn.mse(targets, nn.forward(nn.build(weights, activation, output), inputs))


@pytest.mark.parametrize("activation, output", [("tanh", "tanh"), ("sigmoid", "linear"),
                                                ("relu", "tanh")])
def test_backprop_matches_finite_differences(activation, output):
    config = NNConfig(layers=(2, 5, 3, 1), activation=activation, output=output)
    data = saddle(config)
    inputs, targets = data.X, data.y[:, None]
    weights = nn.initial_weights(config.layers, seed=1)
    layers = nn.build(weights, activation, output)
    nn.backward(layers, nn.mse_prime(targets, nn.forward(layers, inputs)))
    dense = [layer for layer in layers if isinstance(layer, nn.Dense)]
    eps = 1e-6
    for k, layer in enumerate(dense):
        for which, grad in ((0, layer.grad_weight), (1, layer.grad_bias)):
            numeric = np.zeros_like(grad)
            for index in np.ndindex(grad.shape):
                plus = [(w.copy(), b.copy()) for w, b in weights]
                minus = [(w.copy(), b.copy()) for w, b in weights]
                plus[k][which][index] += eps
                minus[k][which][index] -= eps
                numeric[index] = (_loss(plus, activation, output, inputs, targets)
                                  - _loss(minus, activation, output, inputs, targets)) / (2 * eps)
            np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_mse_is_mean_over_all_samples():
    config = NNConfig()
    data = saddle(config)
    assert data.n_samples == 144
    snap = next(make_trainer(config).run(data))
    manual = np.sum((snap.predictions.ravel() - data.y) ** 2) / 144
    assert snap.loss == pytest.approx(manual)


def test_numpy_and_torch_give_the_same_loss_history():
    config = dict(epochs=60, layers=(2, 12, 2, 1), lr=0.1)
    numpy_run = mlviz.prepare("neural-network", backend="numpy", **config).run
    torch_run = mlviz.prepare("neural-network", backend="torch", **config).run
    np.testing.assert_allclose(torch_run.losses, numpy_run.losses, rtol=1e-6)
    assert numpy_run.losses[-1] < numpy_run.losses[0]
    last_np, last_t = numpy_run.snapshots[-1], torch_run.snapshots[-1]
    for name in last_np.params:
        np.testing.assert_allclose(last_t.params[name], last_np.params[name], rtol=1e-6, atol=1e-9)


def test_backprop_gradient_equals_autograd():
    config = NNConfig(layers=(2, 4, 1))
    data = saddle(config)
    weights = nn.initial_weights(config.layers, seed=2)
    layers = nn.build(weights, "tanh", "tanh")
    nn.backward(layers, nn.mse_prime(data.y[:, None], nn.forward(layers, data.X)))
    tensors = [(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True))
               for w, b in weights]
    out = torch.from_numpy(np.array(data.X))
    for w, b in tensors:
        out = torch.tanh(out @ w.T + b)
    torch.mean((out - torch.from_numpy(np.array(data.y))[:, None]) ** 2).backward()
    dense = [layer for layer in layers if isinstance(layer, nn.Dense)]
    for layer, (w, b) in zip(dense, tensors):
        np.testing.assert_allclose(layer.grad_weight, w.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(layer.grad_bias, b.grad.numpy(), rtol=1e-10)


def test_training_converges_and_depends_on_the_seed():
    a = mlviz.prepare("neural-network", epochs=600).run
    assert a.losses[-1] < 0.25 * a.losses[0]
    c = mlviz.prepare("neural-network", epochs=600, seed=1).run
    assert c.losses[0] != a.losses[0]


def test_config_validation():
    with pytest.raises(ConfigError, match="start with 2"):
        NNConfig(layers=(3, 4, 1))
    with pytest.raises(ConfigError, match="at least 2 units"):
        NNConfig(layers=(2, 8, 1, 1))
    with pytest.raises(ConfigError):
        NNConfig(activation="softplus")
    assert NNConfig.from_overrides({"layers": "2,8,1"}).layers == (2, 8, 1)


def test_info_documents_every_hyperparameter():
    out = subprocess.run([sys.executable, "-m", "mlviz.cli", "info", "neural-network"],
                         capture_output=True, text=True, check=True).stdout
    for name in ("layers", "activation", "output", "lr", "epochs", "dims", "backend", "seed"):
        assert name in out
    assert all(p.help for p in NNConfig.params())


def test_landscape_panel_is_centred_on_current_weights(prepared):
    panel = last_layer_landscape(prepared.config)
    panel.compute(prepared.run)
    for snap in prepared.run.snapshots:
        w = snap.params["layer3.weight"][0]
        xs, ys, zs = panel.grids[snap.epoch]
        assert xs[len(xs) // 2] == pytest.approx(w[0]) and ys[len(ys) // 2] == pytest.approx(w[1])
        assert zs[len(ys) // 2, len(xs) // 2] == pytest.approx(snap.loss, rel=1e-9)
        assert panel.points[snap.epoch] == pytest.approx((w[0], w[1], snap.loss))


def test_traces_hold_every_epoch(prepared):
    run = prepared.run
    assert len(run.epochs) == 41
    ranges = run.trace("prediction_range")
    assert ranges.shape == (41, 2)
    last = run.snapshots[-1].predictions
    np.testing.assert_array_equal(ranges[-1], [last.min(), last.max()])
    assert run.trace("params").shape == (41, 2 * 12 + 12 + 12 * 2 + 2 + 2 + 1)  # landscape


def test_panels_draw_the_whole_history_not_the_drawn_frames(prepared):
    two = prepared.with_frames(2)
    panel = last_layer_landscape(two.config)
    panel.compute(two.run)
    weights = two.run.trace("params.layer3.weight")[:, 0, :2]
    np.testing.assert_array_equal(panel.path[:, :2], weights)  # every epoch's weights
    np.testing.assert_array_equal(panel.path[:, 2], two.run.losses)
    full = last_layer_landscape(prepared.config)
    full.compute(prepared.run)
    assert panel.zrange == full.zrange  # from the schedule's epochs, not the drawn ones
    poster = prepared.renderer().frames(indices=[prepared.run.n_frames - 1])
    np.testing.assert_array_equal(next(poster), next(two.renderer().frames(indices=[1])))


@pytest.mark.mpl_image_compare
def test_surface_panel(prepared):
    return panel_figure(SurfacePanel(), prepared.run, frame=-1)


@pytest.mark.mpl_image_compare
def test_landscape_panel(prepared):
    return panel_figure(last_layer_landscape(prepared.config), prepared.run, frame=-1)


@pytest.mark.mpl_image_compare
def test_scene(prepared):
    return scene_figure(prepared.scene, prepared.run, frame=-1)


# --- the look: labels apart, dark theme --------------------------------------------------

def test_tick_labels_of_the_surface_panel_stay_apart(prepared):
    """x = 1.0 and y = −1.0 met at the front corner ("1.0−1.0"); now they sit apart."""
    from label_look import overlapping_3d_labels

    for size in (None, "1920x1080"):
        renderer = prepared.styled(size=size).renderer()
        with renderer.theme.context():
            fig = renderer.figure_at(-1)
            surface = [ax for ax in fig.axes if ax.get_title().startswith("Function")]
            assert len(surface) == 1
            assert overlapping_3d_labels(fig, axes=surface) == [], size


def test_a_dark_poster_is_dark_with_light_text(prepared):
    from theme_look import assert_dark_poster

    assert_dark_poster(prepared)
    assert_dark_poster(prepared, frame=0)


# --- the lesson on the frame: the descent on its surface, legend, layout, pacing, story -----

@pytest.fixture(scope="module")
def default():
    return mlviz.prepare("neural-network")


def test_the_descent_lies_on_the_landscape_drawn(default):
    """One fixed plane through the final weights along the path's two main directions; every
    path point is at the MSE of its projected weights, which is the surface's height there."""
    from mlviz import landscape as ls
    from mlviz_nn.panels import PathPlaneLandscapePanel, on_plane_losses
    from mlviz_nn.trainer import landscape_loss

    run = default.run
    panel = PathPlaneLandscapePanel(landscape_loss)
    panel.compute(run)
    assert list(panel.grids) == [-1]  # one plane for every frame
    assert panel.captured > 0.99  # training moves the weights almost only within it
    loss = landscape_loss(run)
    origin = run.snapshots[-1].params
    plane = ls.pca_directions(panel._path(run), origin)
    xs, ys, zs = panel.grids[-1]
    # the surface is the loss on the plane: its grid nodes, evaluated one by one
    for j, i in ((0, 0), (len(ys) // 2, len(xs) // 3), (len(ys) - 1, len(xs) - 1)):
        at = on_plane_losses(loss, origin, plane, np.array([[xs[i], ys[j]]]))[0]
        assert zs[j, i] == pytest.approx(at, rel=1e-9)
    # the path's heights: the loss at the projected points, not the training loss
    xy = ls.project(panel._path(run), origin, plane)
    np.testing.assert_allclose(panel.path[:, :2], xy)
    np.testing.assert_allclose(panel.path[:, 2], on_plane_losses(loss, origin, plane, xy))
    assert panel.path[-1, 2] == pytest.approx(run.losses[-1], rel=1e-9)  # ends on the weights
    # ... which follows the loss curve once the first few steps are taken
    assert np.max(np.abs(panel.path[10:, 2] - run.losses[10:])) < 0.01
    # and each path point lies on the bilinear surface between its grid nodes
    from scipy.interpolate import RegularGridInterpolator

    surface = RegularGridInterpolator((ys, xs), zs)
    heights = surface(panel.path[:, [1, 0]])
    assert np.max(np.abs(heights - panel.path[:, 2])) < 0.02 * np.ptp(zs)
    for snap in run.snapshots:
        x, y, z = panel.points[snap.epoch]
        assert (x, y, z) == pytest.approx(tuple(panel.path[snap.epoch]))


def test_the_legend_says_what_is_drawn(default):
    from matplotlib.colors import to_rgba
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

    from mlviz_nn.panels import NETWORK_ALPHA

    fig = scene_figure(default.scene, default.run, frame=-1)
    ax = next(a for a in fig.axes if a.get_title().startswith("Function"))
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[0].endswith("(wireframe)") and texts[1].endswith("(surface)")
    wire = [c for c in ax.collections if isinstance(c, Line3DCollection)]
    surfaces = [c for c in ax.collections if isinstance(c, Poly3DCollection)]
    assert len(wire) == 1 and len(surfaces) == 1  # no filled true surface any more
    true_line, network_patch = legend.legend_handles
    assert to_rgba(wire[0].get_color()[0])[:3] == to_rgba(true_line.get_color())[:3]
    face = surfaces[0].get_facecolor()[0]
    assert face[3] == pytest.approx(NETWORK_ALPHA)
    assert network_patch.get_facecolor()[3] == pytest.approx(NETWORK_ALPHA)


def test_the_panels_fill_the_frame(default):
    """The two 3D panels on top, the loss curve across the bottom: no empty band."""
    fig = scene_figure(default.scene, default.run, frame=-1)
    fig.canvas.draw()
    height = fig.bbox.height
    boxes = {ax.get_title(): ax.get_position() for ax in fig.axes}
    loss = boxes["Mean squared error"]
    assert loss.width > 0.8  # the curve runs across the frame
    tops = [box for title, box in boxes.items() if title != "Mean squared error"]
    assert all(box.y0 > loss.y1 for box in tops)
    covered = (max(box.y1 for box in tops) - loss.y0)
    assert covered * height > 0.85 * height


def test_frames_go_where_the_loss_moves(default):
    losses = np.array([s.loss for s in default.run.snapshots])
    steps = np.abs(np.diff(losses)) / (losses[0] - losses[-1])
    assert np.mean(steps < 0.005) <= 0.25  # frames where the loss is flat
    assert default.run.snapshots[-1].epoch == default.config.epochs


def test_story_chapters_start_where_the_phases_start(default):
    from mlviz.story import story_problems

    story = default.algorithm.story(default.config, default.run)
    assert story_problems(story, default.run.epochs) == []
    titles = [c.title for c in story.chapters]
    assert titles == ["first steps", "the plateau", "into the saddle", "fine-tuning"]
    starts = {c.title: c.start for c in story.chapters}
    losses = default.run.losses
    assert losses[0] - losses[starts["the plateau"]] > 0.25 * (losses[0] - losses[-1])
    plateau = losses[starts["the plateau"]:starts["into the saddle"]]
    assert np.ptp(plateau) < 0.12 * (losses[0] - losses[-1])  # it barely moves
    assert losses[starts["fine-tuning"]] < 0.1 * losses[starts["into the saddle"]]


def test_a_short_run_keeps_its_loss_label_in_the_frame():
    """A figure drawn again outside the renderer (savefig, a notebook) still draws in its
    theme: its loss axis's later ticks used matplotlib's default fonts and pushed 'MSE'
    past the left edge."""
    from mlviz.testing import outside_frame

    fig = mlviz.prepare("neural-network", frames=2, epochs=40).renderer().figure_at(-1)
    assert outside_frame(fig) == []
