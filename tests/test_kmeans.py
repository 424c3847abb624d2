"""k-means: checked against scikit-learn, exact Voronoi cells, panel images."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.cluster import KMeans

import mlviz
from mlviz.testing import panel_figure, scene_figure
from mlviz_kmeans.geometry import voronoi_cells
from mlviz_kmeans.panels import ClusterPanel, ElbowPanel
from mlviz_kmeans.trainer import (
    KMeansConfig, KMeansTrainer, default_dataset, elbow, initial_centroids, lloyd,
)


def test_lloyd_matches_scikit_learn_from_the_same_start():
    config = KMeansConfig(seed=4)
    points = default_dataset(config).X
    rng = np.random.default_rng(0)
    for k in (2, 5, 9, 12):
        start = initial_centroids(points, k, "k-means++", rng)
        *_, (iteration, centroids, labels, inertia, converged) = lloyd(points, start, 300)
        assert converged and iteration < 299
        ours = KMeans(n_clusters=k, init=start, n_init=1, algorithm="lloyd", tol=0,
                      max_iter=300).fit(points)
        assert np.array_equal(labels, ours.labels_)
        assert inertia == pytest.approx(ours.inertia_, rel=1e-9)
        assert np.allclose(centroids, ours.cluster_centers_)


def test_snapshots_restart_every_k_with_float_centroids():
    config = KMeansConfig(k_max=5, max_iter=30)
    snaps = list(KMeansTrainer(config).run(default_dataset(config)))
    assert [s.epoch for s in snaps] == list(range(len(snaps)))
    assert sorted({s.k for s in snaps}) == [1, 2, 3, 4, 5]
    for k in range(1, 6):
        of_k = [s for s in snaps if s.k == k]
        assert [s.iteration for s in of_k] == list(range(len(of_k)))
        assert of_k[-1].converged
        assert of_k[0].centroids.shape == (k, 2) and of_k[0].centroids.dtype == float
        for s in of_k:
            assert isinstance(s.loss, float)
            diff = default_dataset(config).X - s.centroids[s.labels]
            assert s.loss == pytest.approx(float((diff**2).sum()))


def test_elbow_from_traces_holds_each_k_final_inertia():
    run = mlviz.prepare("kmeans", k_max=5, max_iter=30, frames=3).run
    assert run.n_frames == 3  # the elbow must not need the other snapshots
    config = KMeansConfig(k_max=5, max_iter=30)
    finals = [s.loss for s in KMeansTrainer(config).run(default_dataset(config)) if s.converged]
    ks, inertia = elbow(run.trace("k"), run.trace("loss"))
    assert ks.tolist() == [1, 2, 3, 4, 5] and inertia.dtype == float
    assert inertia.tolist() == finals
    assert all(a > b for a, b in zip(inertia, inertia[1:3]))
    # up to a mid-run epoch: the finished Ks, then the current K with its current inertia
    epoch = int(np.flatnonzero(run.trace("k") == 3)[1])
    ks, inertia = elbow(run.trace("k", epoch), run.trace("loss", epoch))
    assert ks.tolist() == [1, 2, 3]
    assert inertia.tolist() == [*finals[:2], run.losses[epoch]]
    assert elbow(np.array([], int), np.array([]))[0].size == 0


def test_centroid_params_keep_one_shape_and_can_be_recorded():
    run = mlviz.prepare("kmeans", k_max=4, record_params=True).run
    recorded = run.trace("params.centroids")
    assert recorded.shape == (len(run.epochs), 4, 2)
    for snap in run.snapshots:
        row = recorded[list(run.epochs).index(snap.epoch)]
        assert np.array_equal(row[: snap.k], snap.centroids)
        assert np.isnan(row[snap.k:]).all()


def test_stop_early_false_gives_exactly_max_iter_frames_per_k():
    config = KMeansConfig(k_max=4, max_iter=8, stop_early=False)
    snaps = list(KMeansTrainer(config).run(default_dataset(config)))
    assert len(snaps) == 32


def test_random_init_lies_in_the_data_box_and_is_seeded():
    points = default_dataset(KMeansConfig()).X
    a = initial_centroids(points, 6, "random", np.random.default_rng(1))
    b = initial_centroids(points, 6, "random", np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert (a >= points.min(0)).all() and (a <= points.max(0)).all()


def test_empty_cluster_keeps_its_centroid():
    points = np.array([[0.0, 0.0], [1.0, 0.0]])
    far = np.array([[0.5, 0.0], [100.0, 100.0]])
    *_, (_, centroids, labels, _, _) = lloyd(points, far, 5)
    assert centroids[1].tolist() == [100.0, 100.0] and labels.tolist() == [0, 0]


def test_voronoi_cells_agree_with_nearest_centroid():
    rng = np.random.default_rng(2)
    centroids = rng.uniform(0, 10, size=(7, 2))
    cells = voronoi_cells(centroids, (0, 10, 0, 10))
    from matplotlib.path import Path

    probes = rng.uniform(0, 10, size=(2000, 2))
    nearest = ((probes[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    inside = np.array([Path(cell).contains_points(probes) for cell in cells])
    assert (inside.sum(axis=0) == 1).mean() > 0.99  # cells tile the box (edges aside)
    owner = inside.argmax(axis=0)
    assert (owner == nearest).mean() > 0.99
    area = sum(0.5 * abs(np.dot(c[:, 0], np.roll(c[:, 1], 1)) - np.dot(c[:, 1], np.roll(c[:, 0], 1)))
               for c in cells)
    assert area == pytest.approx(100.0)


def drawn_alone(prepared, index: int) -> np.ndarray:
    """Snapshot ``index``'s frame when it is the only one drawn."""
    run = replace(prepared.run, snapshots=(prepared.run.snapshots[index],))
    return next(replace(prepared, run=run).renderer().frames())


def test_a_frame_does_not_depend_on_the_other_drawn_frames():
    prepared = mlviz.prepare("kmeans", k_max=6)
    n = prepared.run.n_frames
    for index in (n // 2, n - 1):
        full = next(prepared.renderer().frames(indices=[index]))
        assert np.array_equal(full, drawn_alone(prepared, index)), f"frame {index}"


@pytest.fixture(scope="module")
def small_run():
    return mlviz.prepare("kmeans", k_max=6).run


def frame_of(run, k, iteration):
    return next(i for i, s in enumerate(run.snapshots) if s.k == k and s.iteration == iteration)


@pytest.mark.mpl_image_compare
def test_elbow_panel_image(small_run):
    return panel_figure(ElbowPanel(), small_run, frame_of(small_run, 5, 1))


@pytest.mark.mpl_image_compare
def test_cluster_panel_image(small_run):
    return panel_figure(ClusterPanel(), small_run, frame_of(small_run, 5, 1), figsize=(6.4, 4.0))


@pytest.mark.mpl_image_compare
def test_kmeans_scene_image():
    prepared = mlviz.prepare("kmeans")
    return scene_figure(prepared.scene, prepared.run, frame_of(prepared.run, 8, 2))
