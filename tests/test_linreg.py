"""linear-regression: least squares as the oracle, hand gradients against finite differences
and torch autograd, simultaneous updates, data files, errors, and panel images."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from dataclasses import replace
from importlib import resources

import numpy as np
import pytest

import mlviz
from mlviz import ConfigError, DataError
from mlviz.testing import panel_figure, scene_figure
from mlviz_linreg.datasets import advertising, load_xy, slides
from mlviz_linreg.panels import FitPanel, LossPanel, SurfacePanel
from mlviz_linreg.plugin import LINEAR_REGRESSION, linreg_scene
from mlviz_linreg.trainer import (
    LinRegConfig,
    LinRegTrainer,
    Problem,
    autograd_gradient,
    manual_gradient,
    mse,
)


def prepare(**overrides):
    return mlviz.prepare(LINEAR_REGRESSION, **overrides)


def least_squares_mse(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    A = np.column_stack([x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return coef, float(np.mean((A @ coef - y) ** 2))


def raw_advertising() -> tuple[np.ndarray, np.ndarray]:
    """radio and sales straight from the packaged file, independently of the plugin's reader."""
    path = resources.files("mlviz_linreg.data").joinpath("advertising.csv")
    table = np.loadtxt(str(path), delimiter=",", skiprows=1)
    return table[:, 2], table[:, 4]


def test_packaged_data_are_the_advertising_table_and_the_slides():
    x, y = raw_advertising()
    data = advertising()
    assert data.n_samples == 200 and np.array_equal(data.X[:, 0], x) and np.array_equal(data.y, y)
    s = slides()
    assert s.n_samples == 25
    assert np.allclose(s.X[:, 0], np.arange(1, 26) / 10)
    assert s.y[0] == 0.27 and s.y[7] == 0.40 and s.y[-1] == 0.99


@pytest.mark.parametrize("dataset", ["advertising", "slides"])
def test_default_run_reaches_least_squares_in_original_units(dataset):
    prepared = prepare(dataset=dataset)
    data = prepared.run.dataset
    (slope, intercept), best = least_squares_mse(data.X[:, 0], np.asarray(data.y, float))
    last = prepared.run.snapshots[-1]
    assert isinstance(last.loss, float)
    assert last.loss <= 1.01 * best
    # the reported line is in the data's units: its own MSE there is the reported loss
    assert mse(data.X[:, 0], data.y, last.slope, last.intercept) == pytest.approx(last.loss)
    assert last.slope == pytest.approx(slope, rel=1e-2)
    assert last.intercept == pytest.approx(intercept, rel=1e-2)


def test_advertising_matches_the_known_fit():
    x, y = raw_advertising()
    (slope, intercept), best = least_squares_mse(x, y)
    assert best == pytest.approx(18.0924, abs=1e-4)
    last = prepare().run.snapshots[-1]
    assert last.loss == pytest.approx(best, rel=1e-6)


def test_raw_features_sit_in_a_narrow_valley_and_do_not_converge():
    prepared = prepare(standardize=False)
    problem = Problem.from_dataset(prepared.run.dataset, standardize=False)
    low, high = problem.curvatures()
    assert high / low > 1000  # badly conditioned: the valley is > 1000x flatter along than across
    losses = prepared.run.losses
    assert np.all(np.isfinite(losses)) and np.all(np.diff(losses) <= 1e-12)
    x, y = raw_advertising()
    _, best = least_squares_mse(x, y)
    assert losses[-1] > 2 * best  # still far from the least-squares MSE after 200 epochs
    standardized = Problem.from_dataset(prepared.run.dataset, standardize=True)
    low_s, high_s = standardized.curvatures()
    assert high_s / low_s == pytest.approx(1.0)


def test_manual_gradient_matches_central_differences():
    rng = np.random.default_rng(1)
    x, y = raw_advertising()
    for u in (x, (x - x.mean()) / x.std(), slides().X[:, 0]):
        for w, b in rng.normal(0, 3, size=(5, 2)):
            h = 1e-5
            dw = (mse(u, y[: len(u)], w + h, b) - mse(u, y[: len(u)], w - h, b)) / (2 * h)
            db = (mse(u, y[: len(u)], w, b + h) - mse(u, y[: len(u)], w, b - h)) / (2 * h)
            assert np.allclose(manual_gradient(u, y[: len(u)], w, b), [dw, db], rtol=1e-6,
                               atol=1e-6)


def test_manual_and_autograd_gradients_agree():
    rng = np.random.default_rng(2)
    x, y = raw_advertising()
    for w, b in rng.normal(0, 3, size=(5, 2)):
        assert np.allclose(manual_gradient(x, y, w, b), autograd_gradient(x, y, w, b),
                           rtol=1e-12, atol=1e-10)
    manual = prepare(epochs=25).run.snapshots
    auto = prepare(epochs=25, gradient="autograd").run.snapshots
    assert [s.epoch for s in manual] == [s.epoch for s in auto]
    for a, b in zip(manual, auto):
        assert a.w == pytest.approx(b.w, rel=1e-12, abs=1e-12)
        assert a.b == pytest.approx(b.b, rel=1e-12, abs=1e-12)
        assert a.loss == pytest.approx(b.loss, rel=1e-12)


def test_w_and_b_are_updated_simultaneously():
    lr = 1e-4  # raw x: the two partial derivatives are coupled (mean x ≠ 0)
    config = LinRegConfig(lr=lr, epochs=1, w0=1.0, b0=-2.0, standardize=False)
    first, second = LinRegTrainer(config).run(advertising())
    u, y = raw_advertising()
    residual = y - (1.0 * u - 2.0)
    w1 = 1.0 - lr * (-2 * np.mean(u * residual))
    b1 = -2.0 - lr * (-2 * np.mean(residual))  # uses the OLD w, unlike the notebook
    assert (second.w, second.b) == pytest.approx((w1, b1), rel=1e-12)
    b_sequential = -2.0 - lr * (-2 * np.mean(y - (w1 * u - 2.0)))
    assert abs(second.b - b_sequential) > 1e-4


def test_surface_is_the_exact_mse_on_every_grid_cell():
    for standardize in (True, False):
        problem = Problem.from_dataset(advertising(), standardize)
        W, B = np.meshgrid(np.linspace(-1, 4, 7), np.linspace(-3, 16, 5))
        brute = np.mean((problem.y - (W[..., None] * problem.u + B[..., None])) ** 2, axis=-1)
        assert np.allclose(problem.surface(W, B), brute, rtol=1e-10)


def test_automatic_rate_and_refused_divergent_rate():
    problem = Problem.from_dataset(advertising(), standardize=True)
    assert problem.curvatures()[1] == pytest.approx(2.0)
    snaps = prepare(epochs=3).run.snapshots
    assert (snaps[1].w, snaps[1].b) == pytest.approx(
        tuple(-0.05 * manual_gradient(problem.u, problem.y, 0.0, 0.0)))
    with pytest.raises(ConfigError, match="diverges") as error:
        prepare(lr=1.0)
    assert "\n" not in str(error.value)
    assert prepare(lr=0.9, epochs=40).run.snapshots[-1].loss < 18.1  # below 2/λmax: oscillates in


@pytest.mark.parametrize("key, value", [
    ("lr", "-1"), ("lr", "fast"), ("epochs", "0"), ("gradient", "numeric"),
    ("dataset", "iris"), ("standardize", "maybe"), ("learning_rate", "0.1"),
])
def test_bad_values_give_one_line_errors(key, value):
    with pytest.raises(ConfigError) as error:
        mlviz.prepare(LINEAR_REGRESSION, settings=[f"{key}={value}"])
    assert "\n" not in str(error.value) and key in str(error.value)


def test_user_csv(tmp_path):
    good = tmp_path / "xy.csv"
    good.write_text("hours,score\n1,2.1\n2,3.9\n3,6.2\n4,7.8\n")
    prepared = mlviz.prepare(LINEAR_REGRESSION, data=good, epochs=300)
    assert prepared.run.dataset.feature_names == ("hours",)
    (slope, intercept), best = least_squares_mse(np.arange(1.0, 5), np.array([2.1, 3.9, 6.2, 7.8]))
    assert prepared.run.snapshots[-1].loss == pytest.approx(best, rel=1e-3)
    bad = {"three.csv": ("1,2,3\n4,5,6\n", "uses 1 feature column and a label column"),
           "flat.csv": ("1,2\n1,3\n1,4\n", "a line needs at least two distinct x"),
           "text.csv": ("1,2\n3,x\n", "line 2: 'x' is not a number")}
    for name, (text, message) in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(DataError) as error:
            load_xy(mlviz.UserData(tmp_path / name), LinRegConfig())
        assert "\n" not in str(error.value) and message in str(error.value)
    wide = tmp_path / "wide.csv"
    wide.write_text("score;name;hours\n2,1;ann;1\n3,9;bo;2\n6,2;cy;3\n7,8;di;4\n")
    for chosen in (mlviz.UserData(wide, columns="hours,score"),
                   mlviz.UserData(wide, columns="hours", label="score")):
        data = load_xy(chosen, LinRegConfig())
        assert data.feature_names == ("hours",) and data.target_name == "score"
        assert data.y.tolist() == [2.1, 3.9, 6.2, 7.8]


def test_schedule_is_dense_while_the_loss_moves_and_sparse_after():
    prepared = prepare()
    epochs = [s.epoch for s in prepared.run.snapshots]
    losses = np.array([s.loss for s in prepared.run.snapshots])
    excess = (losses - losses[-1]) / (losses[0] - losses[-1])
    assert np.mean(excess[1:] < 1e-3) <= 0.2  # at most a fifth of the frames on a flat loss
    moving = int(np.argmax(excess < 1e-3))
    assert epochs[:moving] == list(range(moving)) and epochs[-1] == 200
    assert 25 <= moving <= 45  # every epoch while the loss moves (ρ = 0.9 a step)
    assert len(prepare(epochs=5000).run.snapshots) <= 100
    assert len(prepared.run.epochs) == 201  # the loss curve keeps every epoch
    raw = [s.epoch for s in prepare(standardize=False).run.snapshots]  # the slow valley
    assert 60 <= len(raw) <= 100 and raw[:31] == list(range(31)) and raw[-1] == 200


def test_the_settling_epoch_is_where_the_excess_loss_falls_below_a_thousandth():
    from mlviz_linreg.plugin import settling_epochs

    for lr in (0.0, 0.02, 0.3):
        config = LinRegConfig(lr=lr, epochs=2000)
        run = prepare(lr=lr, epochs=2000).run
        excess = (run.losses - run.losses[-1]) / (run.losses[0] - run.losses[-1])
        first = int(np.argmax(excess < 1e-3))
        assert abs(settling_epochs(config) - first) <= 2, lr
    assert settling_epochs(LinRegConfig(standardize=False)) is None


def test_the_descent_path_is_traced_at_every_epoch():
    run = prepare(epochs=120, frames=2).run
    assert run.n_frames == 2
    w, b = run.trace("w"), run.trace("b")
    assert w.shape == b.shape == (121,)
    assert (w[-1], b[-1]) == (run.snapshots[-1].w, run.snapshots[-1].b)
    problem = Problem.from_dataset(run.dataset, standardize=True)
    assert np.allclose([mse(problem.u, problem.y, *wb) for wb in zip(w, b)], run.losses)
    lr = 0.1 / problem.curvatures()[1]  # the automatic rate: each step is one gradient step
    steps = [manual_gradient(problem.u, problem.y, *wb) for wb in zip(w[:-1], b[:-1])]
    assert np.allclose(np.diff(np.column_stack([w, b]), axis=0), -lr * np.array(steps))


def drawn_alone(prepared, index: int) -> np.ndarray:
    """Snapshot ``index``'s frame when it is the only one drawn."""
    run = replace(prepared.run, snapshots=(prepared.run.snapshots[index],))
    return next(replace(prepared, run=run).renderer().frames())


def test_a_frame_does_not_depend_on_the_other_drawn_frames():
    prepared = prepare(epochs=60, standardize=False)  # sparse frames late, axes set by the path
    n = prepared.run.n_frames
    assert n < len(prepared.run.epochs)
    for index in (n // 2, n - 1):
        full = next(prepared.renderer().frames(indices=[index]))
        assert np.array_equal(full, drawn_alone(prepared, index)), f"frame {index}"


def test_info_documents_every_hyperparameter(run_cli):
    result = run_cli("info", "linear-regression")
    assert result.returncode == 0
    for name in (f.name for f in dataclasses.fields(LinRegConfig)):
        assert f"  {name} " in result.stdout
    for panel in ("linreg-fit", "linreg-surface", "linreg-loss"):
        assert panel in result.stdout


def test_torch_is_imported_only_for_autograd():
    code = ("import sys, mlviz; from mlviz_linreg.plugin import LINEAR_REGRESSION as A; "
            "mlviz.prepare(A, epochs=3); assert 'torch' not in sys.modules; "
            "mlviz.prepare(A, epochs=3, gradient='autograd'); assert 'torch' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ---- images (small runs; frame 12 is mid-descent) -------------------------------------------

@pytest.fixture(scope="module")
def short_run():
    return prepare(epochs=40).run


@pytest.fixture(scope="module")
def raw_run():
    return prepare(epochs=40, standardize=False).run


@pytest.mark.mpl_image_compare
def test_fit_panel_image(short_run):
    return panel_figure(FitPanel(), short_run, frame=12)


@pytest.mark.mpl_image_compare
def test_surface_panel_image(short_run):
    return panel_figure(SurfacePanel(), short_run, frame=12)


@pytest.mark.mpl_image_compare
def test_surface_panel_raw_image(raw_run):
    return panel_figure(SurfacePanel(), raw_run, frame=-1)


@pytest.mark.mpl_image_compare
def test_loss_panel_image(short_run):
    return panel_figure(LossPanel(), short_run, frame=12)


@pytest.mark.mpl_image_compare
def test_linreg_scene_image(short_run):
    return scene_figure(linreg_scene(short_run.config), short_run, frame=12)


@pytest.mark.mpl_image_compare
def test_linreg_slides_scene_image():
    run = prepare(dataset="slides", epochs=40).run
    return scene_figure(linreg_scene(run.config), run, frame=-1)


def test_a_dark_poster_is_dark_with_light_text():
    from theme_look import assert_dark_poster

    prepared = prepare(epochs=40)
    assert_dark_poster(prepared)
    assert_dark_poster(prepared, frame=0)  # the line y = 0 under the equation's label


def test_the_equation_stays_readable_over_the_line():
    """At epoch 0 the line is y = 0, right where the equation sits: the label has a box."""
    run = prepare(epochs=40).run
    fig = panel_figure(FitPanel(), run, frame=0)
    (equation,) = [t for t in fig.axes[0].texts if t.get_text().startswith("ŷ")]
    box = equation.get_bbox_patch()
    assert box is not None and box.get_alpha() >= 0.8


# ---- the lesson on the frame: one (w, b) in both panels, readout off the lines, story -------

def parse_line(text: str) -> tuple[float, float]:
    """(slope, intercept) of a drawn "a·x + c" or "a·z − c"."""
    import re

    match = re.search(r"(−?[\d.e+-]+)·[xz] ([+−]) ([\d.e+-]+)", text)
    slope = float(match.group(1).replace("−", "-"))
    intercept = float(match.group(3)) * (-1 if match.group(2) == "−" else 1)
    return slope, intercept


def test_the_line_and_the_point_on_the_bowl_show_the_same_w_and_b():
    """ŷ = w·z + b on the fit panel (z = (x − mean)/std, said on the surface panel) and the
    point on the surface at (w, b): the same two numbers in both panels, in every frame."""
    import re

    from matplotlib.figure import Figure

    run = prepare(epochs=40).run
    problem = Problem.from_dataset(run.dataset, True)
    fig = Figure()
    fit, surface = FitPanel(), SurfacePanel()
    fit.setup(fig.add_subplot(1, 2, 1), run)
    surface.setup(fig.add_subplot(1, 2, 2, projection="3d"), run)
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert any(f"z = (x − {problem.mean:.4g}) / {problem.scale:.4g}" in t for t in texts)
    for snap in run.snapshots[1:]:
        fit.update(snap)
        surface.update(snap)
        in_x, in_z = fit.equation.get_text().split("\n")
        slope, intercept = parse_line(in_x)
        w, b = parse_line(in_z)
        assert (w, b) == pytest.approx((snap.w, snap.b), rel=1e-3)
        assert (slope, intercept) == pytest.approx((snap.slope, snap.intercept), rel=1e-3)
        point = re.search(r"\(w, b\) = \((\S+), (\S+)\)", surface.readout.get_text())
        assert (float(point.group(1)), float(point.group(2))) == pytest.approx((w, b))
        assert slope == pytest.approx(w / problem.scale, rel=2e-3)  # the two lines agree
        assert intercept == pytest.approx(b - w * problem.mean / problem.scale, rel=2e-3)


def test_the_readout_never_sits_on_a_line_of_the_run():
    """At epoch 0 the line is y = 0 along the bottom: the readout goes where no line of the
    run passes (here the upper right; the legend holds the upper left)."""
    run = prepare(epochs=40).run
    fig = panel_figure(FitPanel(), run, frame=0)
    fig.canvas.draw()
    ax = fig.axes[0]
    (equation,) = [t for t in ax.texts if t.get_text().startswith("ŷ")]
    box = equation.get_window_extent().transformed(ax.transData.inverted())
    problem = Problem.from_dataset(run.dataset, True)
    slopes, intercepts = problem.to_original(run.trace("w"), run.trace("b"))
    xs = np.linspace(box.x0, box.x1, 50)
    ys = slopes[:, None] * xs + intercepts[:, None]
    assert not np.any((ys >= box.y0) & (ys <= box.y1))
    legend = ax.get_legend().get_window_extent()
    assert not legend.overlaps(equation.get_window_extent())


def test_the_surface_says_what_it_draws():
    run = prepare(epochs=40).run
    fig = panel_figure(SurfacePanel(), run, frame=-1)
    ax = fig.axes[0]
    assert ax.get_zlabel() == "MSE" and ax.get_xlabel() == "slope w (on z)"
    assert any(t.get_text().startswith(r"$\mathrm{MSE}(w, b) = \frac{1}{n}") for t in ax.texts)
    data = advertising()
    assert data.feature_names == ("radio spending (k$)",) and data.target_name == "sales (k units)"


def test_story_chapters_start_where_the_phases_start():
    from mlviz.story import story_problems

    for standardize, titles in ((True, ["downhill", "settling", "converged"]),
                                (False, ["downhill", "along the valley floor"])):
        prepared = prepare(standardize=standardize)
        run = prepared.run
        story = LINEAR_REGRESSION.story(prepared.config, run)
        assert story_problems(story, run.epochs) == []
        assert [c.title for c in story.chapters] == titles
        best = least_squares_mse(*raw_advertising())[1]
        excess = (run.losses - best) / (run.losses[0] - best)
        starts = {c.title: c.start for c in story.chapters}
        if standardize:
            assert excess[starts["settling"]] < 0.05 <= excess[starts["settling"] - 1]
            assert excess[starts["converged"]] < 1e-3 <= excess[starts["converged"] - 1]
        else:  # the fast fall is over; the crawl is slow
            crawl = starts["along the valley floor"]
            assert run.losses[0] - run.losses[crawl] > 0.8 * (run.losses[0] - run.losses[-1])
            assert excess[-1] > 0.1
