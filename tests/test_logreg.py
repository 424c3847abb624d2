"""logistic-regression: data, gradients, convergence to scikit-learn, config errors, images."""

from __future__ import annotations

import importlib
import sys
import warnings
from dataclasses import replace

import numpy as np
import pytest

import mlviz
from mlviz import ConfigError, DataError
from mlviz.testing import panel_figure, scene_figure
from mlviz_logreg import datasets
from mlviz_logreg.panels import (
    BCECurvePanel,
    DecisionBoundaryPanel,
    ProbabilitySurfacePanel,
    boundary_segment,
)
from mlviz_logreg.trainer import (
    EPS,
    LogRegConfig,
    LogRegTrainer,
    bce,
    bce_gradient,
    paced_epochs,
    sigmoid,
    smoothness,
)

#: Small runs keep image tests fast: 300 epochs, 22 frames paced by the loss.
IMAGE_RUN = {"epochs": 300, "frames": 22}
IMAGE_EPOCH = 80  # the panel images show the frame nearest this epoch (74)


def frame_at(run, epoch: int) -> int:
    """The drawn frame nearest ``epoch``."""
    return int(np.argmin([abs(s.epoch - epoch) for s in run.snapshots]))


def sklearn_fit(dataset) -> np.ndarray:
    """Unpenalised maximum likelihood by scikit-learn, solved tightly: (w1, w2, b)."""
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # penalty=None is deprecated in favour of C=inf
        model = LogisticRegression(penalty=None, tol=1e-12, max_iter=100_000)
        model.fit(dataset.X, dataset.y)
    return np.r_[model.coef_[0], model.intercept_]


def final_params(run) -> np.ndarray:
    last = run.snapshots[-1]
    return np.r_[last.params["w"], last.params["b"]]


# --- data -------------------------------------------------------------------------------

def test_shipped_breast_cancer_equals_sklearn_copy_min_max_scaled():
    from sklearn.datasets import load_breast_cancer

    raw = load_breast_cancer()
    names = list(raw.feature_names)
    X = raw.data[:, [names.index("worst concave points"), names.index("worst perimeter")]]
    X = (X - X.min(0)) / (X.max(0) - X.min(0))
    data = datasets.breast_cancer()
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.y, raw.target)
    assert data.feature_names == ("worst concave points", "worst perimeter")
    assert "CC BY 4.0" in data.description


def test_breast_cancer_loads_without_sklearn(monkeypatch):
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # any import of sklearn now fails
    module = importlib.reload(datasets)
    data = module.breast_cancer()
    assert data.X.shape == (569, 2) and set(np.unique(data.y)) == {0, 1}
    assert data.X.min() == 0.0 and data.X.max() == 1.0


def test_shipped_csv_carries_attribution():
    from importlib import resources

    head = resources.files("mlviz_logreg.data").joinpath("breast_cancer.csv").read_text()[:600]
    for words in ("Wolberg", "UCI Machine Learning Repository", "CC BY 4.0"):
        assert words in head


def test_blobs_overlap_and_are_seeded():
    a, b = datasets.blobs(200, seed=3), datasets.blobs(200, seed=3)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, datasets.blobs(200, seed=4).X)
    assert a.X.min() == 0.0 and a.X.max() == 1.0 and a.y.sum() == 100


def test_user_csv_labels_are_checked(tmp_path):
    from mlviz import UserData

    good = tmp_path / "good.csv"
    good.write_text("a,b,label\n1,2,0\n3,5,1\n2,2,1\n")
    data = datasets.load_labelled(UserData(good), LogRegConfig())
    assert data.feature_names == ("a", "b") and data.X.max() == 1.0
    assert data.target_name == "label" and data.y.tolist() == [0, 1, 1]
    named = tmp_path / "named.csv"
    named.write_text("kind;a;b\nbenign;1;2\nmalignant;3;5\nbenign;2;2\n")
    data = datasets.load_labelled(UserData(named, columns="a,b", label="kind"), LogRegConfig())
    assert data.extra["classes"] == ("benign", "malignant") and data.y.tolist() == [0, 1, 0]
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,0\n3,5,2\n4,4,1\n")
    with pytest.raises(DataError, match="holds 3 classes .*needs exactly 2"):
        datasets.load_labelled(UserData(bad), LogRegConfig())
    single = tmp_path / "single.csv"
    single.write_text("1,2,1\n3,5,1\n")
    with pytest.raises(DataError, match="holds 1 class .*needs exactly 2"):
        datasets.load_labelled(UserData(single), LogRegConfig())


@pytest.mark.parametrize("name", ["moons", "circles", "xor"])
def test_stock_datasets_are_two_scaled_classes(name):
    data = mlviz.prepare("logistic-regression", dataset=name, n_points=60, noise=0.05,
                         epochs=5).run.dataset
    assert data.X.shape == (60, 2) and data.X.min() == 0.0 and data.X.max() == 1.0
    assert sorted(set(data.y.tolist())) == [0, 1] and data.name.lower() == name
    again = datasets.stock(name, 60, 0.05, seed=0)
    np.testing.assert_array_equal(data.X, again.X)


def test_a_frame_budget_keeps_the_loss_paced_frames_within_it(default_prepared):
    default = [s.epoch for s in default_prepared.run.snapshots]
    more = [s.epoch for s in mlviz.prepare("logistic-regression", frames=200).run.snapshots]
    assert more == default  # a budget caps the frames; it never adds idle ones
    for budget in (2, 5, 20):
        fewer = [s.epoch for s in mlviz.prepare("logistic-regression",
                                                frames=budget).run.snapshots]
        assert len(fewer) == budget and set(fewer) <= set(default)
        assert fewer[0] == 0 and fewer[-1] == default[-1]


# --- mathematics ------------------------------------------------------------------------

def test_hand_derived_gradient_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    data = datasets.breast_cancer()
    rng = np.random.default_rng(1)
    y = data.y.astype(float)
    for _ in range(5):
        w, b = rng.normal(0, 5, 2), float(rng.normal(0, 3))
        gw, gb = bce_gradient(data.X, y, w, b)
        tw = torch.tensor(w, requires_grad=True, dtype=torch.float64)
        tb = torch.tensor(b, requires_grad=True, dtype=torch.float64)
        z = torch.tensor(data.X) @ tw + tb
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(y))
        loss.backward()
        np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-9, atol=1e-12)
        assert gb == pytest.approx(tb.grad.item(), rel=1e-9, abs=1e-12)
        assert bce(y, sigmoid(data.X @ w + b)) == pytest.approx(loss.item(), rel=1e-9)


def test_hand_derived_gradient_matches_finite_differences():
    data = datasets.blobs(100, seed=0)
    y = data.y.astype(float)
    theta = np.array([1.5, -2.0, 0.3])

    def loss(t):
        return bce(y, sigmoid(data.X @ t[:2] + t[2]))

    h = 1e-6
    numeric = [(loss(theta + h * e) - loss(theta - h * e)) / (2 * h) for e in np.eye(3)]
    gw, gb = bce_gradient(data.X, y, theta[:2], theta[2])
    np.testing.assert_allclose(np.r_[gw, gb], numeric, rtol=1e-6, atol=1e-9)


def test_automatic_lr_uses_the_smoothness_constant():
    data = datasets.breast_cancer()
    L = smoothness(data.X)
    Xa = np.column_stack([data.X, np.ones(len(data.X))])
    rng = np.random.default_rng(0)
    for _ in range(5):  # L bounds the Hessian's largest eigenvalue everywhere
        p = sigmoid(Xa @ rng.normal(0, 4, 3))
        hessian = Xa.T @ (Xa * (p * (1 - p))[:, None]) / len(p)
        assert np.linalg.eigvalsh(hessian).max() <= L + 1e-12
    assert LogRegConfig().resolved_lr(data.X) == pytest.approx(1.8 / L)
    assert LogRegConfig(lr=0.3).resolved_lr(data.X) == 0.3
    assert LogRegConfig(optimizer="sgd").resolved_lr(data.X) == 0.1


def test_bce_is_a_mean_with_clipped_logs():
    y = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([0.9, 0.2, 0.0, 1.0])  # the last two are certain and wrong
    expected = -(np.log(0.9) + np.log(0.8) + 2 * np.log(EPS)) / 4
    value = bce(y, p)
    assert isinstance(value, float) and np.isfinite(value)
    assert value == pytest.approx(expected)


def test_sigmoid_is_stable_for_large_inputs():
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(z)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    np.testing.assert_allclose(s[1:4], 1 / (1 + np.exp(-z[1:4])), rtol=1e-12)  # no lost digits


# --- training ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def default_prepared():
    return mlviz.prepare("logistic-regression")


def test_default_run_matches_sklearn_to_1e_3(default_prepared):
    prepared = default_prepared
    expected = sklearn_fit(prepared.run.dataset)
    np.testing.assert_allclose(final_params(prepared.run), expected, rtol=1e-3)
    assert prepared.run.losses[-1] < prepared.run.losses[0]


def test_blobs_run_matches_sklearn_to_1e_3():
    prepared = mlviz.prepare("logistic-regression", dataset="blobs", seed=2)
    expected = sklearn_fit(prepared.run.dataset)
    np.testing.assert_allclose(final_params(prepared.run), expected, rtol=1e-3)


def test_every_snapshot_loss_belongs_to_its_own_weights():
    run = mlviz.prepare("logistic-regression", epochs=200, frames=30).run
    y = run.dataset.y.astype(float)
    for snap in run.snapshots:
        p = sigmoid(run.dataset.X @ snap.params["w"] + float(snap.params["b"]))
        assert snap.loss == pytest.approx(bce(y, p), rel=1e-12)
        assert snap.accuracy == pytest.approx(np.mean((p >= 0.5) == (y == 1)))
        assert run.trace("accuracy", snap.epoch)[-1] == snap.accuracy
    assert run.losses.dtype == float and np.all(np.diff(run.losses) <= 1e-12)
    assert run.trace("accuracy").shape == run.epochs.shape == (201,)


def test_batch_step_is_one_gradient_step():
    config = LogRegConfig(epochs=1, lr=0.7)
    data = datasets.breast_cancer()
    first, second = LogRegTrainer(config).run(data)
    w0, b0 = first.params["w"], float(first.params["b"])
    gw, gb = bce_gradient(data.X, data.y.astype(float), w0, b0)
    np.testing.assert_allclose(second.params["w"], w0 - 0.7 * gw)
    assert float(second.params["b"]) == pytest.approx(b0 - 0.7 * gb)


def test_sgd_learns_and_is_deterministic():
    a = mlviz.prepare("logistic-regression", optimizer="sgd", epochs=20).run
    b = mlviz.prepare("logistic-regression", optimizer="sgd", epochs=20).run
    np.testing.assert_array_equal(a.losses, b.losses)
    assert a.losses[-1] < 0.5 * a.losses[0]
    c = mlviz.prepare("logistic-regression", optimizer="sgd", epochs=20, seed=5).run
    assert not np.array_equal(a.losses, c.losses)


def test_frames_are_dense_early_sparse_late(default_prepared):
    run = default_prepared.run
    epochs = [s.epoch for s in run.snapshots]
    assert 40 <= len(epochs) <= 80
    assert epochs[:10] == list(range(10)) and epochs[-1] == run.epochs[-1]
    gaps = np.diff(epochs)
    assert np.all(np.diff(gaps) >= 0)  # gaps never shrink


def test_paced_epochs_follow_the_loss_then_settle_in_a_few_frames():
    losses = 0.1 + 0.6 * np.exp(-np.arange(5001) / 300.0)
    drawn = paced_epochs(losses)
    falling = [e for e in drawn if losses[e] - losses.min() >= 2 * 0.6 / 80]
    tail = [e for e in drawn if e > falling[-1]]
    # every frame while it falls moves the loss by at least 1/80 of its range, the first
    # epoch that does; then a few frames (at most a fifth of all) spread over log(epoch)
    assert drawn[0] == 0 and drawn[-1] == 5000
    gap = (losses.max() - losses.min()) / 80
    for a, b in zip(falling, falling[1:]):
        assert losses[a] - losses[b] >= gap > losses[a] - losses[b - 1], (a, b)
    assert 2 <= len(tail) <= 0.2 * len(drawn)
    ratios = np.array(tail[1:]) / np.array(tail[:-1])
    np.testing.assert_allclose(ratios, ratios[0], rtol=0.01)
    # a loss that does not fall: the first and a few spread over log(epoch); one epoch
    assert paced_epochs(np.full(1001, 0.7)).tolist() == [0, 1000]
    assert paced_epochs(np.array([0.7])).tolist() == [0]


@pytest.mark.parametrize("dataset", ["breast-cancer", "circles"])
def test_few_frames_idle_on_a_flat_loss(dataset, default_prepared):
    """Issue 18: no scene idles on a flat loss for more than about a fifth of its length.
    The log ladder of 0.2 spent 66 % of its frames on a loss that moved by less than 1 %
    of its range; frames spread evenly over the epochs, nearly all of them."""
    from pacing_look import flat_frames, flat_share

    prepared = (default_prepared if dataset == "breast-cancer"
                else mlviz.prepare("logistic-regression", dataset=dataset))
    run = prepared.run
    assert flat_share(run) <= 0.2
    even = mlviz.FrameSchedule.every(run.n_frames).select(run.epochs)
    assert flat_frames(run.epochs[even], run.epochs, run.losses).mean() > 0.8
    ladder = mlviz.FrameSchedule.notebook(run.n_frames).select(run.epochs)
    assert flat_frames(run.epochs[ladder], run.epochs, run.losses).mean() > 0.2


def test_the_poster_does_not_depend_on_the_frame_budget(default_prepared):
    two = mlviz.prepare("logistic-regression", frames=2)
    assert two.run.snapshots[-1].epoch == default_prepared.run.snapshots[-1].epoch
    assert np.array_equal(next(two.renderer(dpi=50).frames(indices=[1])),
                          next(default_prepared.renderer(dpi=50).frames(
                              indices=[default_prepared.n_frames - 1])))


def test_boundary_segment_clips_to_the_square():
    segment = boundary_segment(np.array([1.0, 1.0]), -1.0, 0.0, 1.0)  # x + y = 1
    np.testing.assert_allclose(sorted(map(tuple, segment)), [(0.0, 1.0), (1.0, 0.0)])
    assert boundary_segment(np.array([1.0, 0.0]), -0.25, 0.0, 1.0)[:, 0].tolist() == [0.25, 0.25]
    assert boundary_segment(np.array([1.0, 1.0]), 5.0, 0.0, 1.0).shape == (0, 2)
    assert boundary_segment(np.array([0.0, 0.0]), 1.0, 0.0, 1.0).shape == (0, 2)


def drawn_alone(prepared, index: int) -> np.ndarray:
    """Snapshot ``index``'s frame when it is the only one drawn."""
    run = replace(prepared.run, snapshots=(prepared.run.snapshots[index],))
    return next(replace(prepared, run=run).renderer().frames())


def test_a_frame_does_not_depend_on_the_other_drawn_frames():
    prepared = mlviz.prepare("logistic-regression", **IMAGE_RUN)
    n = prepared.run.n_frames
    assert n < len(prepared.run.epochs)
    in_turn = list(prepared.renderer().frames())  # each drawn after the ones before it
    for index in (1, n // 2, n - 1):
        full = next(prepared.renderer().frames(indices=[index]))
        assert np.array_equal(full, drawn_alone(prepared, index)), f"frame {index}"
        assert np.array_equal(full, in_turn[index]), f"frame {index} drawn in turn"


# --- configuration ----------------------------------------------------------------------

@pytest.mark.parametrize("settings, message", [
    (["lr=-1"], "lr=-1.0 is out of range"),
    (["dataset=iris"], "choose one of: breast-cancer, blobs"),
    (["optimizer=adam"], "choose one of: batch, sgd"),
    (["epochs=ten"], "epochs expects an integer"),
    (["optimizer=sgd", "epochs=50000"], "too many for optimizer=sgd"),
    (["grid=2"], "grid=2 is out of range"),
])
def test_bad_values_give_one_line_errors(settings, message):
    with pytest.raises(ConfigError) as error:
        mlviz.prepare("logistic-regression", settings=settings)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_info_documents_every_hyperparameter(capsys):
    from mlviz.cli import main

    assert main(["info", "logistic-regression"]) == 0
    out = capsys.readouterr().out
    for p in LogRegConfig.params():
        assert p.name in out and p.help in out


# --- images -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_run():
    return mlviz.prepare("logistic-regression", **IMAGE_RUN).run


@pytest.mark.mpl_image_compare
def test_bce_panel(small_run):
    return panel_figure(BCECurvePanel(), small_run, frame_at(small_run, IMAGE_EPOCH))


@pytest.mark.mpl_image_compare
def test_surface_panel(small_run):
    return panel_figure(ProbabilitySurfacePanel(), small_run, frame_at(small_run, IMAGE_EPOCH),
                        figsize=(5.4, 4.6))


@pytest.mark.mpl_image_compare
def test_boundary_panel(small_run):
    return panel_figure(DecisionBoundaryPanel(), small_run, frame_at(small_run, IMAGE_EPOCH))


@pytest.mark.mpl_image_compare
def test_scene(small_run):
    prepared = mlviz.prepare("logistic-regression", **IMAGE_RUN)
    return scene_figure(prepared.scene, small_run, frame_at(small_run, IMAGE_EPOCH))


@pytest.mark.mpl_image_compare
def test_scene_blobs():
    prepared = mlviz.prepare("logistic-regression", dataset="blobs", **IMAGE_RUN)
    return scene_figure(prepared.scene, prepared.run, frame=-1)


# --- the look: layout, a second channel for the classes, dark theme ----------------------

@pytest.mark.parametrize("dataset", ["breast-cancer", "blobs"])
def test_titles_stay_inside_and_the_2d_panels_fill_their_height(dataset):
    """The boundary panel's title ran to the frame's right edge (past it at a projector's
    font scale), and the square boundary panel floated in white bands above and below it:
    now every title is inside the frame, and the boundary panel is as tall as the loss
    panel beside it."""
    from label_look import titles_outside_figure

    prepared = mlviz.prepare("logistic-regression", dataset=dataset, **IMAGE_RUN)
    for size, scale in ((None, None), ("1920x1080", None), (None, 1.5)):
        renderer = prepared.styled(size=size, font_scale=scale).renderer()
        with renderer.theme.context():
            fig = renderer.figure_at(-1)
            assert titles_outside_figure(fig) == [], (size, scale)
            bce, _, boundary = fig.axes
            assert boundary.bbox.height == pytest.approx(bce.bbox.height, abs=2), (size, scale)
            assert boundary.bbox.y0 == pytest.approx(bce.bbox.y0, abs=2), (size, scale)


def test_the_classes_differ_by_marker_as_well_as_colour(small_run):
    prepared = mlviz.prepare("logistic-regression", **IMAGE_RUN)
    fig = scene_figure(prepared.scene, small_run, frame=-1)
    y = small_run.dataset.y
    sizes = sorted([int((y == 1).sum()), int((y == 0).sum())])
    for ax in fig.axes[1:]:  # the 3D panel and the boundary panel
        dots = [c for c in ax.collections if len(c.get_offsets()) in sizes
                and len(c.get_offsets()) < len(y) and c.get_facecolor().size]
        assert sorted(len(c.get_offsets()) for c in dots) == sizes, ax.get_title()
        shapes = {np.round(c.get_paths()[0].vertices, 6).tobytes() for c in dots}
        assert len(shapes) == 2, ax.get_title()


def test_a_dark_poster_is_dark_with_light_text():
    from theme_look import assert_dark_poster

    prepared = mlviz.prepare("logistic-regression", **IMAGE_RUN)
    assert_dark_poster(prepared)
    assert_dark_poster(prepared, frame=0)


def test_the_probability_tint_follows_the_theme():
    """The boundary panel's background mixed the class colours into white on every theme
    (a light block on dark): now into the theme's own background."""
    prepared = mlviz.prepare("logistic-regression", **IMAGE_RUN)
    brightness = {}
    for theme in ("light", "dark"):
        fig = prepared.styled(theme=theme).renderer().figure_at(-1)
        brightness[theme] = float(np.asarray(fig.axes[2].images[0].get_array(), float).mean())
    assert brightness["light"] > 0.6 and brightness["dark"] < 0.35, brightness


# ---- 0.3: honest labels, a scale for p, smooth shading, the story -------------------------


def _boundary_figure(prepared, frame=-1):
    from mlviz_logreg.panels import DecisionBoundaryPanel

    return panel_figure(DecisionBoundaryPanel(), prepared.run, frame, figsize=(6.0, 5.0))


def test_scaled_features_say_so_on_every_axis(default_prepared):
    fig = scene_figure(default_prepared.scene, default_prepared.run, -1)
    labels = [label for ax in fig.axes for label in (ax.get_xlabel(), ax.get_ylabel())
              if "worst" in label]
    assert len(labels) == 4 and all("scaled 0–1" in label for label in labels)


def test_lines_of_equal_p_are_where_the_model_says_and_labelled(default_prepared):
    from mlviz_logreg.panels import P_LEVELS
    from mlviz_logreg.trainer import sigmoid

    fig = _boundary_figure(default_prepared)
    ax = fig.axes[0]
    snap = default_prepared.run.snapshots[-1]
    w, b = snap.params["w"], float(snap.params["b"])
    texts = {t.get_text(): t for t in ax.texts}
    for level in P_LEVELS:
        assert f"p = {level:g}" in texts
        line = next(line for line in ax.get_lines()
                    if len(line.get_xdata()) == 2
                    and np.allclose(sigmoid(np.column_stack(line.get_data()) @ w + b), level))
        assert line is not None
        x, y = texts[f"p = {level:g}"].get_position()
        assert sigmoid(w[0] * x + w[1] * y + b) == pytest.approx(level, abs=1e-6)
    # a colour bar for p beside the panel, from 0 to 1
    (bar,) = [child for child in ax.child_axes if "p(" in child.get_ylabel()]
    assert bar.get_ylim() == (0.0, 1.0)


def test_the_background_is_smooth_not_banded(default_prepared):
    fig = _boundary_figure(default_prepared)
    image = fig.axes[0].get_images()[0]
    data = np.asarray(image.get_array())
    assert data.shape[0] >= 200 and image.get_interpolation() == "bilinear"
    assert len(np.unique(data.reshape(-1, 3).round(4), axis=0)) > 100  # bands gave 10


def test_the_story_starts_near_chance_and_settles(default_prepared):
    from mlviz.story import story_problems

    prepared = default_prepared
    run = prepared.run
    story = prepared.algorithm.story(prepared.config, run)
    assert story_problems(story, run.epochs) == []
    assert [c.title for c in story.chapters] == ["the start", "the line moves", "settling"]
    losses = run.trace("loss")
    start = story.chapters[-1].start
    assert abs(losses[start] - losses[-1]) <= 0.01 * losses[-1]
    assert abs(losses[start - 1] - losses[-1]) > 0.01 * losses[-1]
    assert losses[0] == pytest.approx(np.log(2), abs=0.1)  # "near ln 2", as it says
    assert "\\sigma" in story.objective


def test_circles_say_on_the_frame_why_no_line_works():
    prepared = mlviz.prepare("logistic-regression", dataset="circles", frames=2)
    fig = _boundary_figure(prepared)
    assert any("no straight line" in t.get_text() for t in fig.axes[0].texts)
    story = prepared.algorithm.story(prepared.config, prepared.run)
    assert "disc" in story.chapters[-1].sentence
    blobs = mlviz.prepare("logistic-regression", dataset="blobs", frames=2)
    assert not any("no straight line" in t.get_text() for t in _boundary_figure(blobs)
                   .axes[0].texts)
