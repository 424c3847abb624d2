"""perceptron: data, the criterion and its gradient, convergence, geometry, config, images."""

from __future__ import annotations

import numpy as np
import pytest

import mlviz
from mlviz import ConfigError
from mlviz.testing import panel_figure, scene_figure
from mlviz_perceptron.panels import (
    CriterionPanel,
    DistanceStripPanel,
    PlanesPanel,
    arrow_segments,
    plane_polygon,
)
from mlviz_perceptron.trainer import (
    PerceptronConfig,
    PerceptronTrainer,
    criterion,
    criterion_gradient,
    default_dataset,
    misclassified,
    signed_distances,
)


@pytest.fixture(scope="module")
def default_prepared():
    return mlviz.prepare("perceptron")


# --- data -------------------------------------------------------------------------------

@pytest.mark.parametrize("grid, margin, seed", [(5, 0.05, 0), (5, 0.05, 7), (4, 0.2, 3),
                                                (9, 0.02, 1)])
def test_grid_is_labelled_by_a_plane_no_point_is_near(grid, margin, seed):
    data = default_dataset(PerceptronConfig(grid=grid, margin=margin, seed=seed))
    assert data.X.shape == (grid**3, 3)
    assert np.allclose(np.unique(data.X), np.linspace(-1, 1, grid))
    normal, offset = data.extra["normal"], data.extra["offset"]
    assert np.linalg.norm(normal) == pytest.approx(1.0)
    f = data.X @ normal + offset
    assert np.abs(f).min() >= margin  # no point on (or near) the plane
    np.testing.assert_array_equal(data.y, np.where(f > 0, 1, -1))
    assert min((data.y > 0).sum(), (data.y < 0).sum()) >= 0.2 * grid**3


def test_dataset_is_seeded():
    a, b = default_dataset(PerceptronConfig(seed=4)), default_dataset(PerceptronConfig(seed=4))
    np.testing.assert_array_equal(a.y, b.y)
    assert a.extra["normal"].tolist() == b.extra["normal"].tolist()
    other = default_dataset(PerceptronConfig(seed=5))
    assert a.extra["normal"].tolist() != other.extra["normal"].tolist()


def test_impossible_margin_is_a_one_line_error():
    with pytest.raises(ConfigError) as error:
        mlviz.prepare("perceptron", grid=12, margin=0.3)
    assert "lower margin" in str(error.value) and "\n" not in str(error.value)


# --- mathematics ------------------------------------------------------------------------

def test_criterion_gradient_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    data = default_dataset(PerceptronConfig())
    y = data.y.astype(float)
    rng = np.random.default_rng(2)
    for _ in range(5):
        w, b = rng.normal(size=3), float(rng.normal(0, 0.3))
        assert np.abs(y * (data.X @ w + b)).min() > 1e-9  # away from the kinks
        tw = torch.tensor(w, requires_grad=True)
        tb = torch.tensor(b, requires_grad=True, dtype=torch.float64)
        loss = torch.clamp(-torch.tensor(y) * (torch.tensor(data.X) @ tw + tb), min=0).mean()
        loss.backward()
        gw, gb = criterion_gradient(data.X, y, w, b)
        np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-12, atol=1e-15)
        assert gb == pytest.approx(tb.grad.item(), abs=1e-15)
        assert criterion(data.X, y, w, b) == pytest.approx(loss.item(), rel=1e-12)


def test_criterion_is_the_mean_over_all_points_not_a_hinge():
    X = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0.5, 0, 0], [0, 0, 0]])
    y = np.array([1.0, 1.0, -1.0, 1.0])
    w, b = np.array([2.0, 0, 0]), 0.0
    # f = 2, -2, 1, 0  →  −y·f = −2, 2, 1, 0  →  mean of max(0, ·) = 3 / 4
    assert criterion(X, y, w, b) == pytest.approx(0.75)
    # a correctly classified point within the hinge margin adds nothing here
    assert criterion(X[:1], y[:1], np.array([0.1, 0, 0]), 0.0) == 0.0
    # a point exactly on the plane counts as a mistake (the update rule fires on y·f ≤ 0)
    assert misclassified(X, y, w, b).tolist() == [False, True, True, True]


def test_each_update_is_a_gradient_step_on_one_points_criterion():
    config = PerceptronConfig(epochs=1, shuffle=False, stop_early=False, lr=0.3)
    data = default_dataset(config)
    X, y = data.X, data.y.astype(float)
    first, second = PerceptronTrainer(config).run(data)
    w, b = first.params["w"].copy(), float(first.params["b"])
    for i in range(len(y)):  # grid order; each point's criterion max(0, −y(w·x + b))
        if y[i] * (X[i] @ w + b) <= 0:
            gw, gb = -y[i] * X[i], -y[i]
            w, b = w - 0.3 * gw, b - 0.3 * gb
    np.testing.assert_allclose(second.params["w"], w)
    assert float(second.params["b"]) == pytest.approx(b)


def test_signed_distance_is_geometric():
    w, b = np.array([0.0, 0.0, 2.0]), -1.0  # the plane z = 0.5, normal +z
    X = np.array([[0.3, 0.1, 1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(signed_distances(X, w, b), [0.5, -0.5])
    np.testing.assert_allclose(signed_distances(X, 10 * w, 10 * b), [0.5, -0.5])


# --- training ---------------------------------------------------------------------------

def test_default_run_reaches_zero_misclassified(default_prepared):
    run = default_prepared.run
    last = run.snapshots[-1]
    assert last.misclassified == 0 and last.loss == 0.0
    assert run.snapshots[0].misclassified > 0
    assert 10 <= run.n_frames <= 100
    X, y = run.dataset.X, run.dataset.y
    w, b = last.params["w"], float(last.params["b"])
    assert np.all(np.sign(X @ w + b) == y)


@pytest.mark.parametrize("overrides", [{"seed": 1}, {"seed": 2, "shuffle": False},
                                       {"grid": 7, "margin": 0.02, "seed": 3},
                                       {"lr": 0.05, "seed": 4}])
def test_separable_data_always_reaches_zero_misclassified(overrides):
    config = PerceptronConfig(epochs=2000, **overrides)
    snaps = list(PerceptronTrainer(config).run(default_dataset(config)))
    assert snaps[-1].misclassified == 0 and snaps[-1].epoch < 2000


def test_snapshot_losses_belong_to_their_weights(default_prepared):
    run = default_prepared.run
    X, y = run.dataset.X, run.dataset.y.astype(float)
    for snap in run.snapshots:
        w, b = snap.params["w"], float(snap.params["b"])
        assert isinstance(snap.loss, float)
        assert snap.loss == pytest.approx(np.maximum(0, -y * (X @ w + b)).sum() / len(y))
        assert snap.misclassified == int((y * (X @ w + b) <= 0).sum())


def test_without_early_stop_it_stays_at_zero():
    run = mlviz.prepare("perceptron", epochs=60, stop_early=False).run
    assert run.epochs[-1] == 60
    zero = np.flatnonzero(run.losses == 0.0)
    assert zero.size and np.all(run.losses[zero[0]:] == 0.0)


def test_traces_hold_every_epoch_whatever_is_drawn():
    prepared = mlviz.prepare("perceptron", frames=3, epochs=60, stop_early=False)
    run = prepared.run
    assert run.n_frames == 3 and len(run.epochs) == 61
    X, y = run.dataset.X, run.dataset.y.astype(float)
    w, b = run.trace("params.w"), run.trace("params.b")
    assert w.shape == (61, 3) and b.shape == (61,)
    wrong = (y[None, :] * (w @ X.T + b[:, None]) <= 0).sum(axis=1)
    np.testing.assert_array_equal(run.trace("misclassified"), wrong)
    np.testing.assert_allclose(run.losses, np.maximum(0, -y * (w @ X.T + b[:, None])).mean(axis=1))


def test_panels_draw_the_whole_history_not_the_drawn_frames(default_prepared):
    two = default_prepared.with_frames(2)
    assert two.run.n_frames == 2
    fig = scene_figure(two.scene, two.run, frame=-1)
    steps = next(line for ax in fig.axes for line in ax.lines  # misclassified per epoch
                 if line.get_drawstyle() == "steps-post")
    np.testing.assert_array_equal(steps.get_xdata(), two.run.epochs)
    np.testing.assert_array_equal(steps.get_ydata(), two.run.trace("misclassified"))
    full = default_prepared.renderer().frames(indices=[default_prepared.run.n_frames - 1])
    poster = two.renderer().frames(indices=[1])
    np.testing.assert_array_equal(next(full), next(poster))


# --- geometry of the 3D panel -----------------------------------------------------------

@pytest.mark.parametrize("w, b", [([1.0, 1.0, 1.0], 0.0), ([0.2, -0.5, 0.9], 0.4),
                                  ([0.0, 0.0, 1.0], -0.5), ([1.0, 2.0, 0.0], 1.0)])
def test_plane_polygon_lies_on_the_plane_with_its_bias(w, b):
    w = np.array(w)
    polygon = plane_polygon(w, b)
    assert len(polygon) >= 3
    np.testing.assert_allclose(polygon @ w + b, 0.0, atol=1e-12)
    assert np.all(np.abs(polygon) <= 1 + 1e-12)
    centre = polygon.mean(axis=0)  # convex and in order: consecutive turns share a sign
    turns = [np.cross(polygon[i] - centre, polygon[(i + 1) % len(polygon)] - centre) @ w
             for i in range(len(polygon))]
    assert all(t > 0 for t in turns) or all(t < 0 for t in turns)


def test_plane_polygon_of_an_axis_plane_is_the_square():
    polygon = plane_polygon(np.array([0.0, 0.0, 1.0]), 0.0)
    assert sorted(map(tuple, np.round(polygon, 12))) == [
        (-1.0, -1.0, 0.0), (-1.0, 1.0, 0.0), (1.0, -1.0, 0.0), (1.0, 1.0, 0.0)]
    assert plane_polygon(np.array([1.0, 1.0, 1.0]), 5.0).shape == (0, 3)  # misses the cube


def test_arrow_points_along_the_normal():
    segments = arrow_segments(np.zeros(3), np.array([0.0, 3.0, 4.0]), length=1.0)
    np.testing.assert_allclose(segments[0], [[0, 0, 0], [0, 0.6, 0.8]])
    assert segments.shape == (5, 2, 3)


# --- configuration ----------------------------------------------------------------------

@pytest.mark.parametrize("settings, message", [
    (["lr=0"], "lr=0.0 is out of range"),
    (["grid=1"], "grid=1 is out of range"),
    (["margin=0"], "margin=0.0 is out of range"),
    (["shuffle=maybe"], "shuffle expects true or false"),
    (["epoch=3"], "did you mean 'epochs'"),
])
def test_bad_values_give_one_line_errors(settings, message):
    with pytest.raises(ConfigError) as error:
        mlviz.prepare("perceptron", settings=settings)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_info_documents_every_hyperparameter(capsys):
    from mlviz.cli import main

    assert main(["info", "perceptron"]) == 0
    out = capsys.readouterr().out
    for p in PerceptronConfig.params():
        assert p.name in out and p.help in out


# --- images -----------------------------------------------------------------------------

FRAME = 6


@pytest.mark.mpl_image_compare
def test_criterion_panel(default_prepared):
    return panel_figure(CriterionPanel(), default_prepared.run, frame=FRAME)


@pytest.mark.mpl_image_compare
def test_distance_panel(default_prepared):
    return panel_figure(DistanceStripPanel(), default_prepared.run, frame=FRAME,
                        figsize=(3.0, 4.0))


@pytest.mark.mpl_image_compare
def test_planes_panel(default_prepared):
    return panel_figure(PlanesPanel(), default_prepared.run, frame=FRAME, figsize=(5.4, 4.6))


@pytest.mark.mpl_image_compare
def test_scene(default_prepared):
    return scene_figure(default_prepared.scene, default_prepared.run, frame=FRAME)


@pytest.mark.mpl_image_compare
def test_scene_converged(default_prepared):
    return scene_figure(default_prepared.scene, default_prepared.run, frame=-1)



def test_users_labelled_points_are_scaled_into_the_cube_and_learned(tmp_path):
    rng = np.random.default_rng(4)
    points = rng.uniform(0, 50, (60, 3))
    side = np.where(points @ (1.0, -1.0, 0.5) > 12.5, "spam", "ham")
    path = tmp_path / "mail.csv"
    rows = [f"{a:.6f}\t{b:.6f}\t{c:.6f}\t{s}" for (a, b, c), s in zip(points, side)]
    path.write_text("a\tb\tc\tkind\n" + "\n".join(rows) + "\n")
    prepared = mlviz.prepare("perceptron", data=path, lr=0.05, epochs=300)
    data = prepared.run.dataset
    assert data.X.min() == -1 and data.X.max() == 1 and data.target_name == "kind"
    assert np.array_equal(data.y, np.where(side == "spam", 1, -1))  # sorted second: +1
    assert prepared.run.snapshots[-1].misclassified == 0  # separable: learned
    with pytest.raises(mlviz.DataError, match="grid=4 only shapes perceptron's default"):
        mlviz.prepare("perceptron", data=path, grid=4)


# --- the look: labels apart, a second channel for the classes, dark theme ----------------

def test_tick_labels_of_the_3d_panel_stay_apart(default_prepared):
    """The corner where x = 1 meets y = −1 read "1−1": the labels now sit apart (and the
    axis names clear of them), at the default size and at 1920x1080."""
    from label_look import overlapping_3d_labels

    for size in (None, "1920x1080"):
        renderer = default_prepared.styled(size=size).renderer()
        with renderer.theme.context():
            for frame in (0, -1):
                assert overlapping_3d_labels(renderer.figure_at(frame)) == [], (size, frame)


def _marker_shape(collection) -> bytes:
    return np.round(collection.get_paths()[0].vertices, 6).tobytes()


def test_the_classes_differ_by_marker_as_well_as_colour(default_prepared):
    """In the strip and in 3D each class is its own scatter, with its own colour and its
    own marker (readable in grey print and for colour-blind readers)."""
    fig = scene_figure(default_prepared.scene, default_prepared.run, frame=FRAME)
    y = default_prepared.run.dataset.y
    sizes = sorted([int((y > 0).sum()), int((y <= 0).sum())])
    titled = {ax.get_title(): ax for ax in fig.axes}
    for title in ("Which side?", "Target and learned planes"):
        dots = [c for c in titled[title].collections
                if len(c.get_offsets()) in sizes and c.get_facecolor().size]
        assert sorted(len(c.get_offsets()) for c in dots) == sizes, title
        assert len({_marker_shape(c) for c in dots}) == 2, title
        assert len({tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in dots}) == 2, title


def test_a_dark_poster_is_dark_with_light_text(default_prepared):
    from theme_look import assert_dark_poster

    assert_dark_poster(default_prepared)
    assert_dark_poster(default_prepared, frame=0)  # every point misclassified: rings


# ---- 0.3: which side of the plane, one heading, the labels apart, the story ---------------


def test_every_point_drops_to_the_learned_plane_in_the_colour_of_its_side(default_prepared):
    from matplotlib.colors import to_rgb
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    from mlviz.theme import resolve_theme
    from mlviz_perceptron.trainer import signed_distances

    run = default_prepared.run
    theme = resolve_theme(None)
    frame = 5  # mid-training: points on both sides of the plane, some of them wrong
    fig = panel_figure(PlanesPanel(), run, frame)
    snap = run.snapshots[frame]
    w, b = snap.params["w"], float(snap.params["b"])
    drops = [c for c in fig.axes[0].collections if isinstance(c, Line3DCollection)
             and len(c.get_segments()) == len(run.dataset.X)]
    assert len(drops) == 1
    segments = np.array(drops[0]._segments3d)  # (n, 2, 3): point, foot
    assert np.allclose(segments[:, 0], run.dataset.X)
    feet = segments[:, 1]
    assert np.allclose(feet @ w + b, 0.0, atol=1e-9)  # each foot lies on the plane
    distance = signed_distances(run.dataset.X, w, b)
    assert np.allclose(np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1), np.abs(distance))
    colours = drops[0].get_colors()[:, :3]
    side = np.where(distance > 0, 1.0, -1.0)
    expected = np.array([to_rgb(theme.class_color(s)) for s in side])
    assert np.allclose(colours, expected)
    assert (side != run.dataset.y).any() and (side == run.dataset.y).any()


def test_the_figure_title_sits_over_no_panel_title(default_prepared):
    """No panel title right under the figure's (the "Distances" title sat there: a double
    heading); the 3D panel's, well below it, is not one."""
    prepared = default_prepared
    fig = scene_figure(prepared.scene, prepared.run, -1)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    heading = fig._suptitle.get_window_extent(renderer)
    for ax in fig.axes:
        if ax.get_title():
            box = ax.title.get_window_extent(renderer)
            under = box.x0 < heading.x1 and heading.x0 < box.x1
            assert not under or heading.y0 - box.y1 > 2 * box.height, ax.get_title()
    # the distances' scale is on the right, so one rotated label sits between two panels
    (strip,) = [ax for ax in fig.axes if ax.get_title() == "Which side?"]
    assert strip.yaxis.get_label_position() == "right"


def test_the_story_goes_from_the_wrong_start_to_separated(default_prepared):
    from mlviz.story import story_problems

    prepared = default_prepared
    run = prepared.run
    story = prepared.algorithm.story(prepared.config, run)
    assert story_problems(story, run.epochs) == []
    assert [c.title for c in story.chapters] == ["the start", "learning from mistakes",
                                                 "separated"]
    wrong = run.trace("misclassified")
    separated = story.chapters[-1].start
    assert wrong[separated] == 0 and wrong[separated - 1] > 0
    assert str(int(wrong[0])) in story.chapters[0].sentence
    assert "max(0" in story.objective
