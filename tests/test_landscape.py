"""The loss-landscape helper and panel: planes, batching, projection, determinism."""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np
import pytest
import torch

import mlviz
from mlviz import Scene
from mlviz import landscape as ls
from mlviz.panels import LossLandscapePanel
from mlviz.renderer import Renderer
from mlviz.testing import panel_figure
from mlviz.theme import DARK, LIGHT
from mlviz_layers.trainer import landscape_loss as xor_loss
from mlviz_nn import network as nn
from mlviz_nn.trainer import landscape_loss as saddle_loss


@pytest.fixture(scope="module")
def nn_run():
    return mlviz.prepare("neural-network", epochs=30).run


@pytest.fixture(scope="module")
def xor_run():
    """Four epochs of one start with fixed settings (what mlviz picks for XOR may change)."""
    return mlviz.prepare("layer-transformations", epochs=4, starts=1, optimizer="sgd", lr=0.2,
                         init_scale=2.0).run


def _mlp_params(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    params = {k: v.detach().numpy().copy() for k, v in model.named_parameters()}
    return model, params


def test_filter_normalization_matches_row_norms():
    _, params = _mlp_params()
    d1, d2 = ls.random_directions(params, seed=3)
    for name, value in params.items():
        if value.ndim == 1:
            assert not d1[name].any() and not d2[name].any()  # biases ignored (Li et al.)
        else:
            for d in (d1, d2):
                np.testing.assert_allclose(np.linalg.norm(d[name], axis=1),
                                           np.linalg.norm(value, axis=1))
    assert not np.allclose(d1["0.weight"], d2["0.weight"])


def test_random_directions_are_deterministic_for_a_seed():
    _, params = _mlp_params()
    a = ls.random_directions(params, seed=7)
    b = ls.random_directions(params, seed=7)
    c = ls.random_directions(params, seed=8)
    for name in params:
        np.testing.assert_array_equal(a[0][name], b[0][name])
    assert not np.array_equal(a[0]["0.weight"], c[0]["0.weight"])


def test_weight_directions_give_w_plus_delta():
    _, params = _mlp_params()
    d1, d2 = ls.weight_directions(params, ("0.weight", (1, 0)), ("0.weight", (1, 1)))
    grid = ls.plane_params(params, (d1, d2), np.array([0.5]), np.array([-0.25]))
    moved = grid["0.weight"][0]
    assert moved[1, 0] == pytest.approx(params["0.weight"][1, 0] + 0.5)  # w + δ, not 2w + δ
    assert moved[1, 1] == pytest.approx(params["0.weight"][1, 1] - 0.25)
    moved[1, :2] = params["0.weight"][1, :2]
    np.testing.assert_array_equal(moved, params["0.weight"])
    np.testing.assert_array_equal(grid["2.bias"][0], params["2.bias"])
    with pytest.raises(ValueError):
        ls.weight_directions(params, ("0.weight", (0, 0)), ("0.weight", (0, 0)))


def test_torch_batched_grid_equals_per_point_loop():
    model, params = _mlp_params()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 2)), rng.normal(size=(40, 1))
    loss_fn = torch.nn.functional.mse_loss
    batched = ls.torch_batched_loss(model, loss_fn, x, y, chunk=7, dtype=torch.float64)
    plane = ls.random_directions(params, seed=1)
    grid = ls.centered_grid(1.0, 5)
    fast = ls.evaluate(batched, params, plane, grid, grid)
    model64 = model.double()

    def one(point):
        with torch.no_grad():
            for name, p in model64.named_parameters():
                p.copy_(torch.from_numpy(point[name]))
            return float(loss_fn(model64(torch.from_numpy(x)), torch.from_numpy(y)))

    slow = ls.evaluate_loop(one, params, plane, grid, grid)
    np.testing.assert_allclose(fast.losses, slow.losses, rtol=1e-10)
    assert fast.losses.shape == (5, 5)


def test_numpy_batched_grid_equals_per_point_loop(nn_run):
    snap = nn_run.snapshots[-1]
    loss = saddle_loss(nn_run)
    plane = ls.weight_directions(snap.params, ("layer3.weight", (0, 0)), ("layer2.weight", (1, 3)))
    alphas, betas = np.linspace(-1, 1, 4), np.linspace(-0.5, 0.7, 3)
    fast = ls.evaluate(loss, snap.params, plane, alphas, betas)
    targets = nn_run.dataset.y[:, None]

    def one(point):
        weights = [(point[f"layer{k}.weight"], point[f"layer{k}.bias"]) for k in (1, 2, 3)]
        return nn.mse(targets, nn.forward(nn.build(weights, "tanh", "tanh"), nn_run.dataset.X))

    slow = ls.evaluate_loop(one, snap.params, plane, alphas, betas)
    np.testing.assert_allclose(fast.losses, slow.losses, rtol=1e-12)
    assert fast.losses.shape == (3, 4)


@pytest.mark.parametrize("which", ["nn", "xor"])
def test_landscape_at_zero_offset_is_the_current_loss(which, nn_run, xor_run):
    run, loss = (nn_run, saddle_loss) if which == "nn" else (xor_run, xor_loss)
    batched = loss(run)
    for snap in (run.snapshots[0], run.snapshots[-1]):
        for plane in (ls.random_directions(snap.params, seed=0),
                      ls.weight_directions(snap.params, *[(name, (0, i)) for name in
                                                          [next(iter(snap.params))] for i in (0, 1)])):
            land = ls.evaluate(batched, snap.params, plane, ls.centered_grid(1.0, 5),
                               ls.centered_grid(1.0, 5))
            assert land.at(2, 2) == pytest.approx(snap.loss, rel=1e-5)


def test_projection_recovers_plane_coordinates():
    _, params = _mlp_params()
    plane = ls.random_directions(params, seed=2)
    points = [{k: v + a * plane[0][k] + b * plane[1][k] for k, v in params.items()}
              for a, b in [(0.0, 0.0), (0.3, -0.2), (-1.0, 2.0)]]
    np.testing.assert_allclose(ls.project(points, params, plane),
                               [[0, 0], [0.3, -0.2], [-1.0, 2.0]], atol=1e-12)


def test_pca_directions_span_a_straight_path():
    _, params = _mlp_params()
    step = {k: np.ones_like(v) for k, v in params.items()}
    path = [{k: v + t * step[k] for k, v in params.items()} for t in np.linspace(-1, 0, 5)]
    d1, _ = ls.pca_directions(path, path[-1])
    coords = ls.project(path, path[-1], ls.pca_directions(path, path[-1]))
    np.testing.assert_allclose(np.abs(coords[:, 0]), np.linspace(1, 0, 5) * np.sqrt(sum(
        v.size for v in params.values())), rtol=1e-9)
    np.testing.assert_allclose(coords[:, 1], 0, atol=1e-9)
    assert np.linalg.norm(ls._flatten(d1, list(params))) == pytest.approx(1.0)


def test_a_path_may_be_an_array_of_flattened_parameters():
    _, params = _mlp_params()
    rng = np.random.default_rng(5)
    path = [{k: v + rng.normal(size=v.shape) for k, v in params.items()} for _ in range(6)]
    rows = ls.flatten_path(path, list(params))
    assert rows.shape == (6, sum(v.size for v in params.values()))
    plane = ls.pca_directions(rows, params)
    for name in params:
        np.testing.assert_array_equal(plane[0][name], ls.pca_directions(path, params)[0][name])
    np.testing.assert_array_equal(ls.project(rows, params, plane), ls.project(path, params, plane))


def test_panel_requires_what_each_mode_reads():
    weights = (("layer3.weight", (0, 0)), ("layer3.weight", (0, 1)))
    pca = LossLandscapePanel(saddle_loss, directions="pca")
    assert pca.requires() == (("params",), ("params",))
    assert LossLandscapePanel(saddle_loss).requires()[1] == ("params",)  # a projected path
    assert LossLandscapePanel(saddle_loss, weights=weights).requires()[1] == (
        "params.layer3.weight",)
    assert LossLandscapePanel(saddle_loss, weights=weights, follow=True).requires()[1] == (
        "params",)


def test_panel_refuses_a_run_without_the_params_trace():
    from mlviz.errors import ContractError
    from mlviz.renderer import Renderer
    from mlviz.scene import Scene
    from mlviz_nn.trainer import NNConfig, make_trainer, saddle

    config = NNConfig(epochs=3)
    run = mlviz.train(make_trainer(config), saddle(config), config)
    with pytest.raises(ContractError, match="trace 'params'"):
        Renderer(Scene([LossLandscapePanel(saddle_loss, directions="pca")]), run)


@pytest.mark.parametrize("directions", ["pca", "random"])
def test_plane_and_path_come_from_every_epoch_not_the_drawn_ones(nn_run, directions):
    def computed(run):
        panel = LossLandscapePanel(saddle_loss, directions=directions, resolution=5)
        panel.compute(run)
        return panel

    full, last = computed(nn_run), computed(dataclasses.replace(nn_run,
                                                                snapshots=nn_run.snapshots[-1:]))
    np.testing.assert_array_equal(full.grids[-1][2], last.grids[-1][2])
    np.testing.assert_array_equal(full.path, last.path)
    assert len(full.path) == len(nn_run.epochs) and full.zrange == last.zrange
    if directions == "pca":  # the plane of the whole path, every epoch projected onto it
        origin = nn_run.snapshots[-1].params
        rows = np.concatenate([nn_run.trace(f"params.{name}").reshape(len(nn_run.epochs), -1)
                               for name in origin], axis=1)
        plane = ls.pca_directions(rows, origin)
        np.testing.assert_allclose(full.path[:, :2], ls.project(rows, origin, plane), atol=1e-12)


def test_panel_is_deterministic(nn_run):
    def values():
        panel = LossLandscapePanel(saddle_loss, follow=False, resolution=5, seed=4)
        panel.compute(nn_run)
        return panel.grids[-1][2]

    np.testing.assert_array_equal(values(), values())


def test_landscape_module_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, mlviz.landscape, mlviz.panels.landscape; "
            "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.mpl_image_compare
def test_panel_random_contour(xor_run):
    panel = LossLandscapePanel(xor_loss, style="contour", resolution=15, span=1.0,
                               title="XOR loss, random plane")
    return panel_figure(panel, xor_run, frame=-1)


@pytest.mark.mpl_image_compare
def test_panel_pca_surface(nn_run):
    panel = LossLandscapePanel(saddle_loss, directions="pca", resolution=11, span=1.0,
                               title="Saddle MSE, PCA plane", zlabel="MSE")
    return panel_figure(panel, nn_run, frame=2)


# --- colours come from the theme ------------------------------------------------------------

@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=lambda t: t.name)
def test_contour_colours_come_from_the_theme(theme, xor_run):
    from matplotlib.colors import same_color

    panel = LossLandscapePanel(xor_loss, style="contour", resolution=7, span=1.0)
    fig = Renderer(Scene([panel], figsize=(4, 3)), xor_run, theme=theme).figure_at(-1)
    ax = fig.axes[0]
    trail, marker = ax.lines
    # On contours the path is light (ink on dark, halo on light): it must stand out from the
    # dark low end of the map, where it ends.
    assert same_color(trail.get_color(), theme.ink if theme is DARK else theme.halo)
    assert same_color(marker.get_markerfacecolor(), theme.loss)
    assert same_color(marker.get_markeredgecolor(), trail.get_color())
    [filled] = [c for c in ax.collections if hasattr(c, "levels")]
    assert filled.get_cmap().name == theme.surface


def test_surface_colours_come_from_the_theme_and_a_given_cmap_wins(nn_run):
    from matplotlib.colors import same_color, to_rgba

    theme = dataclasses.replace(DARK, surface="magma")
    panel = LossLandscapePanel(saddle_loss, resolution=5, span=1.0)
    fig = Renderer(Scene([panel], figsize=(4, 3)), nn_run, theme=theme).figure_at(-1)
    ax = fig.axes[0]
    trail, marker = ax.lines
    assert same_color(trail.get_color(), theme.ink)
    assert same_color(marker.get_markerfacecolor(), theme.loss)
    assert same_color(marker.get_markeredgecolor(), theme.edge)
    [surface] = [c for c in ax.collections if hasattr(c, "set_quads")]
    edges = np.unique(surface._edges, axis=0)
    np.testing.assert_allclose(edges, [to_rgba(theme.halo, 0.3)])
    magma = matplotlib.colormaps["magma"]
    faces = surface._faces[:, :3]
    assert np.abs(faces - magma(0.0)[:3]).sum(axis=1).min() < 0.2  # the low end of magma
    # A cmap passed by the caller is used whatever the theme says.
    given = LossLandscapePanel(saddle_loss, resolution=5, span=1.0, cmap="cividis")
    given_fig = Renderer(Scene([given], figsize=(4, 3)), nn_run, theme=theme).figure_at(-1)
    [given_surface] = [c for c in given_fig.axes[0].collections if hasattr(c, "set_quads")]
    cividis = matplotlib.colormaps["cividis"]
    assert np.abs(given_surface._faces[:, :3] - cividis(0.0)[:3]).sum(axis=1).min() < 0.2
    assert not np.allclose(given_surface._faces, surface._faces)
