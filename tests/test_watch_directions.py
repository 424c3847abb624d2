"""The landscape's plane as filter-normalised random directions (Li et al. 2018), an option
of :func:`mlviz.watch` (``directions="filter"``)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import mlviz  # noqa: E402
from mlviz.watch import WatchError  # noqa: E402
from mlviz.watch.compute import Layout, filter_plane  # noqa: E402


def cnn(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(4 * 36, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))


def path_of(model, steps=6, seed=1):
    """Parameter rows of a made-up path ending at the model's parameters."""
    g = np.random.default_rng(seed)
    last = torch.nn.utils.parameters_to_vector(model.parameters()).detach().double().numpy()
    return np.stack([last + 0.1 * (steps - 1 - k) * g.standard_normal(len(last))
                     for k in range(steps)])


def split(layout, flat):
    parts = np.split(flat, np.cumsum(layout.sizes)[:-1])
    return {n: p.reshape(s) for n, p, s in zip(layout.names, parts, layout.shapes)}


def test_each_filter_of_each_direction_has_the_norm_of_the_final_filter():
    model = cnn()
    layout = Layout.of(model)
    rows = path_of(model)
    plane = filter_plane(rows, layout, seed=4)
    np.testing.assert_array_equal(plane.origin, rows[-1])  # through the last parameters
    final = split(layout, rows[-1])
    weights = 0
    for direction in plane.directions:
        parts = split(layout, direction)
        for name, value in parts.items():
            if value.ndim <= 1:  # biases and batch norm's weight and bias: not moved
                assert not value.any(), name
                continue
            weights += 1
            got = np.linalg.norm(value.reshape(len(value), -1), axis=1)
            want = np.linalg.norm(final[name].reshape(len(value), -1), axis=1)
            np.testing.assert_allclose(got, want, rtol=1e-9)
            # random, not the weights themselves
            assert abs(np.corrcoef(value.ravel(), final[name].ravel())[0, 1]) < 0.5
    assert weights == 2 * 3  # a convolution and two linear weights, in each direction
    assert not np.allclose(plane.directions[0], plane.directions[1])


def test_the_path_is_projected_by_least_squares_and_seeds_repeat():
    model = cnn()
    layout = Layout.of(model)
    rows = path_of(model)
    plane = filter_plane(rows, layout, seed=4)
    residual = rows - (plane.origin + plane.coords @ plane.directions)
    np.testing.assert_allclose(residual @ plane.directions.T, 0, atol=1e-8)
    np.testing.assert_allclose(plane.coords[-1], 0, atol=1e-12)
    assert 0 <= plane.variance < 0.2  # random directions: nearly orthogonal to the path
    again = filter_plane(rows, layout, seed=4)
    np.testing.assert_array_equal(again.directions, plane.directions)
    assert not np.allclose(filter_plane(rows, layout, seed=5).directions, plane.directions)


def test_a_watched_run_on_a_filter_plane_draws_its_path_on_that_surface(tmp_path):
    from sklearn.datasets import make_moons

    X, y = make_moons(120, noise=0.2, random_state=0)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    loss_fn = torch.nn.CrossEntropyLoss()
    recorder = mlviz.watch(model, data=(X, y), loss=loss_fn, directions="filter", seed=2,
                           resolution=11)
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    for _ in range(12):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        recorder.epoch(loss=loss)
    prepared = mlviz.load_run(recorder.save(tmp_path / "run.npz"))
    assert prepared.config.directions == "filter"
    extra, run = prepared.run.dataset.extra, prepared.run
    assert extra["alphas"][0] <= -1 and extra["alphas"][-1] >= 1  # Li et al.'s span at least
    epochs, rows = recorder.trace.kept()
    plane = filter_plane(rows, recorder.layout, seed=2)
    np.testing.assert_allclose(run.trace("plane_xy")[epochs], plane.coords, atol=1e-7)
    clone = copy.deepcopy(model).eval()
    expected = []
    with torch.no_grad():
        for point in plane.origin + plane.coords @ plane.directions:
            torch.nn.utils.vector_to_parameters(torch.as_tensor(point, dtype=torch.float32),
                                                clone.parameters())
            expected.append(float(loss_fn(clone(X), y)))
    np.testing.assert_allclose(run.trace("plane_loss")[epochs], expected, rtol=2e-5)
    i, j = 0, 10
    point = plane.origin + extra["alphas"][i] * plane.directions[0] \
        + extra["betas"][j] * plane.directions[1]
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(torch.as_tensor(point, dtype=torch.float32),
                                            clone.parameters())
        assert extra["landscape"][j, i] == pytest.approx(float(loss_fn(clone(X), y)), rel=2e-5)


def test_an_unknown_way_of_choosing_the_plane_is_one_line():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(WatchError, match="directions must be one of pca, filter"):
        mlviz.watch(model, data=(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)),
                    loss=torch.nn.CrossEntropyLoss(), directions="random")
