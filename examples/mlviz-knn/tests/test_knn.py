"""Tests of the mlviz-knn plugin: the classifier against scikit-learn, config checks, images.

Run from this package's folder: ``python -m pytest`` (pytest-mpl compares the images with
``tests/baseline/``; make them with ``--mpl-generate-path=tests/baseline`` and look at them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mlviz
from mlviz import ConfigError
from mlviz.testing import check_algorithm, colour_literals, panel_figure, scene_figure
from mlviz_knn.panels import DecisionRegionPanel, ErrorBarsPanel, ErrorCurvePanel
from mlviz_knn.plugin import KNN, load_labelled_points
from mlviz_knn.trainer import KnnConfig, KnnTrainer, default_dataset, split


def small(**changes):
    """A short run straight from the Algorithm object (no entry point needed)."""
    return mlviz.prepare(KNN, **{"k_max": 6, "n_points": 90, **changes})


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_matches_scikit_learn(metric):
    sklearn = pytest.importorskip("sklearn.neighbors")
    config = KnnConfig(k_max=15, metric=metric, seed=3)
    data = default_dataset(config)
    train, test = split(len(data.X), config.test_fraction, config.seed)
    for snapshot in KnnTrainer(config).run(data):
        oracle = sklearn.KNeighborsClassifier(n_neighbors=snapshot.k, metric=metric,
                                              algorithm="brute")
        oracle.fit(data.X[train], data.y[train])
        np.testing.assert_array_equal(snapshot.test_predictions, oracle.predict(data.X[test]))
        assert snapshot.loss == pytest.approx(1 - oracle.score(data.X[test], data.y[test]))
        assert snapshot.train_error == pytest.approx(
            1 - oracle.score(data.X[train], data.y[train]))


def test_one_neighbour_has_no_training_error_and_runs_are_deterministic():
    config = KnnConfig(k_max=5)
    first = list(KnnTrainer(config).run(default_dataset(config)))
    again = list(KnnTrainer(config).run(default_dataset(config)))
    assert [s.k for s in first] == [1, 2, 3, 4, 5]
    assert [s.epoch for s in first] == [0, 1, 2, 3, 4]
    assert first[0].train_error == 0.0
    assert [s.loss for s in first] == [s.loss for s in again]
    assert all(isinstance(s.loss, float) and 0 <= s.loss <= 1 for s in first)


def test_conformance():
    check_algorithm(KNN, k_max=6, n_points=90)


def test_config_is_validated():
    with pytest.raises(ConfigError, match="more than the"):
        default_dataset(KnnConfig(k_max=100, n_points=60))
    with pytest.raises(ConfigError, match="metric"):
        KnnConfig.from_overrides({"metric": "cosine"})


def test_csv_data(tmp_path):
    path = tmp_path / "points.csv"
    rows = ["a,b,label"] + [f"{i % 7},{i % 5},{i % 2}" for i in range(40)]
    path.write_text("\n".join(rows))
    data = load_labelled_points(path, KnnConfig(k_max=5))
    assert data.feature_names == ("a", "b") and set(data.y) == {0, 1}
    path.write_text("1,2,0.5\n3,4,1\n")
    with pytest.raises(mlviz.DataError, match="class numbers"):
        load_labelled_points(path, KnnConfig(k_max=1))


def test_a_large_file_is_not_judged_by_the_default_dataset(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("\n".join(f"{i % 31},{i % 17},{i % 3}" for i in range(1000)))
    data = load_labelled_points(path, KnnConfig(k_max=200))
    assert data.n_samples == 1000


def test_redraw_panel_draws_every_frame():
    prepared = small()
    frames = list(mlviz.Renderer(mlviz.Scene([ErrorBarsPanel()]), prepared.run).frames())
    assert len(frames) == 6
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))


def test_error_curve_is_the_same_however_many_frames_are_drawn():
    scene = mlviz.Scene([ErrorCurvePanel()], figsize=(4, 3))
    every, two = small(), small(frames=2)
    assert two.run.n_frames == 2
    last = [next(mlviz.Renderer(scene, p.run).frames(indices=[p.run.n_frames - 1]))
            for p in (every, two)]
    np.testing.assert_array_equal(*last)


def test_panels_name_no_colour_so_they_follow_the_theme():
    import mlviz_knn

    files = sorted(Path(mlviz_knn.__file__).parent.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        assert colour_literals(path) == [], path.name


def test_the_dark_theme_draws_a_dark_poster_in_its_colours():
    from matplotlib.colors import to_rgb

    def poster(theme):
        prepared = small().styled(theme=theme)
        frame = next(iter(prepared.renderer().frames(indices=[prepared.run.n_frames - 1])))
        return prepared.theme, frame.reshape(-1, 3).astype(int)

    def share(pixels, colour):
        rgb = np.round(np.array(to_rgb(colour)) * 255)
        return float(np.mean(np.abs(pixels - rgb).max(axis=1) <= 2))

    dark, night = poster("dark")
    light, day = poster("light")
    assert night.mean() < 70 < 180 < day.mean()
    # The background is the theme's, and so is every class colour (the points' fill): where
    # the two palettes differ, each poster holds its own theme's colour and not the other's.
    assert share(night, dark.background) > 0.3 and share(day, light.background) > 0.2
    differ = [c for c in range(3) if dark.color(c) != light.color(c)]
    assert len(differ) >= 2
    for c in differ:
        assert share(night, dark.color(c)) > 0 and share(night, light.color(c)) == 0
        assert share(day, light.color(c)) > 0 and share(day, dark.color(c)) == 0


@pytest.mark.mpl_image_compare
def test_error_curve_panel():
    return panel_figure(ErrorCurvePanel(), small().run, frame=3)


@pytest.mark.mpl_image_compare
def test_decision_region_panel():
    return panel_figure(DecisionRegionPanel(), small().run, frame=2, figsize=(5.4, 4.6))


@pytest.mark.mpl_image_compare
def test_default_scene():
    prepared = small()
    return scene_figure(prepared.scene, prepared.run, frame=-1)
