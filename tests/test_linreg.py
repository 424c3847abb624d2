"""linear-regression: least squares as the oracle, hand gradients against finite differences
and torch autograd, simultaneous updates, data files, errors, and panel images."""

from __future__ import annotations

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
    LinRegConfig, LinRegTrainer, Problem, autograd_gradient, manual_gradient, mse,
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


def test_schedule_is_dense_early_sparse_late_and_about_60_to_100_frames():
    prepared = prepare()
    epochs = [s.epoch for s in prepared.run.snapshots]
    assert 60 <= len(epochs) <= 100 and epochs[:31] == list(range(31)) and epochs[-1] == 200
    assert len(prepare(epochs=5000).run.snapshots) <= 100
    assert len(prepared.run.epochs) == 201  # the loss curve keeps every epoch


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
    for name in LinRegConfig.__dataclass_fields__:
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
