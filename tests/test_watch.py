"""mlviz.watch: a user's own PyTorch loop recorded as a run, rendered like any run.

The landscape's oracle is a plain sequential forward pass of a copy of the model whose
parameters are set with ``vector_to_parameters`` (no vmap, no functional_call).
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import mlviz  # noqa: E402
from mlviz import load_registry  # noqa: E402
from mlviz.watch import WatchError  # noqa: E402
from mlviz.watch.compute import pca_plane  # noqa: E402
from mlviz.watch.trace import ParamTrace  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def watched_model_installed(tmp_path_factory):
    """The ``watched-model`` entry point: the installed one, or (in a checkout whose
    installed metadata predates it) a temporary one on the path of this process and of
    the CLI's subprocesses."""
    if "watched-model" in load_registry().algorithms:
        yield
        return
    folder = tmp_path_factory.mktemp("entry-point")
    info = folder / "mlviz_watch_test-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlviz-watch-test\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("[mlviz]\nwatched-model = mlviz_watch.plugin\n")
    sys.path.insert(0, str(folder))
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), previous]))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def moons(n=200, seed=0):
    from sklearn.datasets import make_moons

    X, y = make_moons(n, noise=0.2, random_state=seed)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def mlp(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 12), torch.nn.Tanh(), torch.nn.Linear(12, 12),
                               torch.nn.Tanh(), torch.nn.Linear(12, 2))


def train_moons(epochs=80, recorder=None, model=None, X=None, y=None, metric_loss=True):
    """The user's plain loop: minibatch SGD with momentum; ``recorder.epoch`` once an epoch."""
    if X is None:
        X, y = moons()
    model = model or mlp()
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(epochs):
        total = 0.0
        for i in range(0, len(X), 50):
            opt.zero_grad()
            loss = loss_fn(model(X[i:i + 50]), y[i:i + 50])
            loss.backward()
            opt.step()
            total += loss.item()
        if recorder is not None:
            if metric_loss:
                accuracy = (model(X).argmax(1) == y).float().mean()
                recorder.epoch(loss=total / 4, accuracy=accuracy)
            else:
                recorder.epoch()
    return model


def oracle_losses(model, loss_fn, X, y, rows):
    """The loss of each flat parameter row, one sequential forward pass each."""
    clone = copy.deepcopy(model).eval()
    out = []
    with torch.no_grad():
        for row in rows:
            torch.nn.utils.vector_to_parameters(torch.as_tensor(row, dtype=torch.float32),
                                                clone.parameters())
            out.append(float(loss_fn(clone(X), y)))
    return np.array(out)


@pytest.fixture(scope="module")
def moons_record(tmp_path_factory):
    X, y = moons()
    model = mlp()
    recorder = mlviz.watch(model, data=(X, y), loss=torch.nn.CrossEntropyLoss())
    train_moons(80, recorder, model, X, y)
    path = recorder.save(tmp_path_factory.mktemp("moons") / "run.npz")
    return recorder, path


def test_three_calls_record_a_run_that_renders_to_gif_and_poster(moons_record, run_cli,
                                                                   tmp_path):
    from PIL import Image

    _, path = moons_record
    result = run_cli("render", str(path), "-o", "run.gif", "--frames", "24", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    gif = Image.open(tmp_path / "run.gif")
    assert gif.n_frames >= 20 and gif.size == (1280, 720)
    result = run_cli("render", str(path), "-o", "poster.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "poster.png").size == (1280, 720)


def test_the_record_loads_with_the_scene_the_model_allows(moons_record):
    _, path = moons_record
    prepared = mlviz.load_run(path)
    assert prepared.algorithm.name == "watched-model"
    names = prepared.scene.panel_names
    for panel in ("watch-landscape", "decision-regions", "hidden-activations", "layer-norms",
                  "plane-loss", "metric-curve"):
        assert panel in names
    run = prepared.run
    assert len(run.epochs) == 80 and run.trace("accuracy").shape == (80,)
    assert run.trace("weight_norms").shape == (80, 3)
    assert np.isfinite(run.trace("grad_norms")).all()  # .grad was there at epoch()
    assert prepared.config.classes == 2 and prepared.config.regions
    assert "all 200 samples" in prepared.config.eval_note
    assert 0.5 < prepared.run.dataset.extra["variance"] <= 1.0
    assert run.snapshots[-1].epoch == 79


def test_each_drawn_path_point_lies_on_the_landscape_at_that_point(moons_record):
    """loss-landscape's issue #1: here the path's height is the loss of its projected point,
    checked against sequential forward passes; the grid is the same function."""
    from mlviz_watch.panels import PlaneLandscapePanel

    recorder, path = moons_record
    run = mlviz.load_run(path).run
    epochs, rows = recorder.trace.kept()
    plane = pca_plane(rows)
    projected = plane.origin + plane.coords @ plane.directions
    expected = oracle_losses(recorder.model, recorder.loss_fn, recorder.data.x,
                             recorder.data.y, projected)
    np.testing.assert_allclose(run.trace("plane_xy")[epochs], plane.coords, rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(run.trace("plane_loss")[epochs], expected, rtol=2e-5)
    # What is drawn: the trail's heights at the last frame.
    import matplotlib.pyplot as plt

    panel = PlaneLandscapePanel()
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    panel.setup(ax, run)
    panel.update(run.snapshots[-1])
    xs, ys, zs = panel.trail.get_data_3d()
    plt.close(fig)
    np.testing.assert_allclose(zs, expected, rtol=2e-5)
    np.testing.assert_allclose(np.column_stack([xs, ys]), plane.coords, atol=1e-9)
    # The surface is the same function on the grid: a few of its points by the oracle.
    extra = run.dataset.extra
    alphas, betas, grid = extra["alphas"], extra["betas"], extra["landscape"]
    for i, j in [(0, 0), (7, 19), (30, 30), (15, 2)]:
        point = plane.origin + alphas[i] * plane.directions[0] + betas[j] * plane.directions[1]
        (value,) = oracle_losses(recorder.model, recorder.loss_fn, recorder.data.x,
                                 recorder.data.y, [point])
        assert grid[j, i] == pytest.approx(value, rel=2e-5)


def test_where_the_path_lies_in_the_plane_its_heights_are_the_recorded_losses(tmp_path):
    torch.manual_seed(3)
    X = torch.randn(64, 1, dtype=torch.float64)
    y = 2.0 * X - 0.5 + 0.1 * torch.randn(64, 1, dtype=torch.float64)
    model = torch.nn.Linear(1, 1).double()  # two parameters: the plane is all of them
    loss_fn = torch.nn.MSELoss()
    recorder = mlviz.watch(model, data=(X, y), loss=loss_fn)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    for _ in range(40):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
        recorder.epoch()  # no loss given: the recorder measures it on the data
    run = mlviz.load_run(recorder.save(tmp_path / "line.npz")).run
    assert run.dataset.extra["variance"] == pytest.approx(1.0)
    np.testing.assert_allclose(run.trace("plane_loss"), run.trace("loss"), rtol=1e-9)
    np.testing.assert_allclose(run.trace("true_loss"), run.trace("loss"), rtol=1e-12)
    assert run.trace("loss")[-1] < run.trace("loss")[0] / 4


class Net(torch.nn.Module):
    """BatchNorm and Dropout: a recorder that ran a forward pass in train mode, or drew
    random numbers, would change the training that follows."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.BatchNorm1d(16),
                                        torch.nn.ReLU(), torch.nn.Dropout(0.3),
                                        torch.nn.Linear(16, 2))

    def forward(self, x):
        return self.body(x)


def _train_net(watched: bool, tmp_path=None):
    X, y = moons(120)
    torch.manual_seed(5)
    model = Net()
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=40,
                                         shuffle=True)
    recorder = mlviz.watch(model, data=loader, loss=loss_fn, eval_size=100) if watched else None
    for _ in range(6):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        if recorder is not None:
            recorder.epoch()  # no metrics: the recorder runs its own (eval-mode) forward
    if recorder is not None:
        recorder.save(tmp_path / "net.npz")
        assert recorder.data.note == "the first 100 of 120 samples the loader yielded"
    return model, recorder


def test_watching_changes_nothing_in_training(tmp_path):
    plain, _ = _train_net(False)
    watched, recorder = _train_net(True, tmp_path)
    for (name, a), b in zip(plain.state_dict().items(), watched.state_dict().values()):
        assert torch.equal(a, b), name
    for a, b in zip(plain.parameters(), watched.parameters()):
        assert torch.equal(a.grad, b.grad)
    assert all(m.training for m in watched.modules())
    for module in watched.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks


def test_parameter_trace_memory_is_bounded():
    trace = ParamTrace(n_params=5, budget=8)
    size = trace.nbytes
    for epoch in range(1000):
        trace.add(epoch, np.full(5, float(epoch)))
        assert trace.count <= 8 and trace.nbytes == size
    epochs, rows = trace.kept()
    assert epochs[-1] == 999 and rows[-1, 0] == 999.0
    assert np.all(np.diff(epochs[:-1]) == trace.stride)  # evenly spread over the run
    assert epochs[0] == 0 and trace.stride == 128
    np.testing.assert_array_equal(rows[:, 0], epochs.astype(float))


def test_recorder_memory_stops_growing_past_the_budget():
    X, y = moons(50)
    model = mlp()
    recorder = mlviz.watch(model, data=(X, y), loss=torch.nn.CrossEntropyLoss(), budget=16)
    sizes = []
    for epoch in range(400):
        with torch.no_grad():
            model[0].bias += 0.01
        recorder.epoch(loss=1.0)
        if epoch in (99, 399):
            sizes.append(recorder.trace.nbytes)
    assert sizes[0] == sizes[1] == recorder.trace.rows.nbytes + 16 * 8 + recorder.trace.last.nbytes


@pytest.mark.slow
def test_a_cnn_on_digits_records_and_renders(tmp_path):
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = torch.tensor(digits.images[:, None] / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    with mlviz.watch(model, data=(X, y), loss=loss_fn, eval_size=512, resolution=11,
                     path=tmp_path / "digits.npz") as recorder:
        for _ in range(6):
            for i in range(0, len(X), 128):
                opt.zero_grad()
                loss = loss_fn(model(X[i:i + 128]), y[i:i + 128])
                loss.backward()
                opt.step()
            recorder.epoch(loss=loss)
    prepared = mlviz.load_run(tmp_path / "digits.npz")
    assert prepared.config.input_shape == "1x8x8" and not prepared.config.regions
    assert prepared.config.hidden and prepared.config.classes == 10
    assert "decision-regions" not in prepared.scene.panel_names
    assert prepared.run.snapshots[-1].hidden.shape == (512, 2)
    from mlviz.api import write_animation

    write_animation(prepared, tmp_path / "digits.png")
    assert Image.open(tmp_path / "digits.png").size == (1280, 720)


# ---------------------------------------------------------------------- bad input
def test_model_and_data_that_do_not_fit_is_one_line():
    X = torch.randn(10, 3)
    with pytest.raises(WatchError, match=r"model and data do not fit: .*shape \(10, 3\)") as info:
        mlviz.watch(mlp(), data=(X, torch.zeros(10, dtype=torch.long)),
                    loss=torch.nn.CrossEntropyLoss())
    assert "\n" not in str(info.value)


def test_a_loss_that_is_not_a_scalar_is_one_line():
    X, y = moons(20)
    with pytest.raises(WatchError, match=r"scalar tensor .* got \(8,\)"):
        mlviz.watch(mlp(), data=(X, y), loss=torch.nn.CrossEntropyLoss(reduction="none"))


def test_data_of_the_wrong_kind_is_one_line():
    with pytest.raises(WatchError, match="data must be"):
        mlviz.watch(mlp(), data=42, loss=torch.nn.CrossEntropyLoss())
    with pytest.raises(WatchError, match="X has 20 samples but y has 3"):
        mlviz.watch(mlp(), data=(torch.randn(20, 2), torch.zeros(3)),
                    loss=torch.nn.CrossEntropyLoss())


def test_nan_losses_are_recorded_as_divergence(tmp_path):
    torch.manual_seed(0)
    X = torch.randn(40, 1)
    y = 3 * X
    model = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.Linear(4, 1))
    loss_fn = torch.nn.MSELoss()
    recorder = mlviz.watch(model, data=(X, y), loss=loss_fn)
    opt = torch.optim.SGD(model.parameters(), lr=5.0)  # blows up: inf, then NaN
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        recorder.epoch(loss=loss)
    prepared = mlviz.load_run(recorder.save(tmp_path / "nan.npz"))
    assert prepared.run.stopped == "diverged"
    diverged = prepared.config.diverged
    assert 0 < diverged < 30 and not np.isfinite(prepared.run.losses[diverged])
    assert "diverged at epoch" in prepared.scene.title
    from mlviz.api import write_animation

    write_animation(prepared, tmp_path / "nan.png")  # drawn, not a crash


def test_an_empty_run_and_saving_twice_are_one_line(tmp_path):
    X, y = moons(20)
    recorder = mlviz.watch(mlp(), data=(X, y), loss=torch.nn.CrossEntropyLoss())
    with pytest.raises(WatchError, match="nothing was recorded"):
        recorder.save(tmp_path / "empty.npz")
    recorder.epoch(loss=0.5)
    recorder.save(tmp_path / "one.npz")
    with pytest.raises(WatchError, match="already saved"):
        recorder.save(tmp_path / "two.npz")
    with pytest.raises(WatchError, match="was saved"):
        recorder.epoch(loss=0.4)
    with pytest.raises(WatchError, match="must be a scalar"):
        mlviz.watch(mlp(), data=(X, y), loss=torch.nn.CrossEntropyLoss()).epoch(loss=[1, 2])


def test_rendering_the_algorithm_by_name_says_how_to_record_one(run_cli):
    result = run_cli("render", "watched-model", "-o", "x.gif")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "mlviz.watch(model" in lines[0], result.stderr


def test_a_record_renders_with_theme_and_one_panel(moons_record, run_cli, tmp_path):
    from PIL import Image

    _, path = moons_record
    result = run_cli("render", str(path), "-o", "land.png", "--theme", "dark", "--panel",
                     "watch-landscape", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    image = np.asarray(Image.open(tmp_path / "land.png").convert("L"), dtype=float)
    assert image.mean() < 100  # the dark theme's background


def test_the_panels_are_registered_for_other_scenes():
    panels = load_registry().panels
    for name in ("watch-landscape", "plane-loss", "layer-norms", "decision-regions",
                 "hidden-activations"):
        assert name in panels


def test_mlviz_watch_is_the_function_and_the_package():
    import mlviz.watch as package

    assert callable(mlviz.watch) and callable(package)
    assert package.watch.__name__ == "watch"


def _line_model():
    torch.manual_seed(1)
    X = torch.randn(32, 1)
    return torch.nn.Linear(1, 1), X, 2 * X + 1


def _fit(model, X, y, recorder, epochs=5):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
        recorder.epoch(loss=loss)


def test_the_context_manager_saves_when_the_block_ends_and_not_after_an_error(tmp_path):
    model, X, y = _line_model()
    with mlviz.watch(model, data=(X, y), loss=torch.nn.MSELoss(), resolution=5,
                     path=tmp_path / "ok.npz") as recorder:
        _fit(model, X, y, recorder)
    assert recorder.saved == tmp_path / "ok.npz"
    assert len(mlviz.load_run(tmp_path / "ok.npz").run.epochs) == 5
    with pytest.raises(RuntimeError), mlviz.watch(model, data=(X, y), loss=torch.nn.MSELoss(),
                                                  path=tmp_path / "bad.npz") as recorder:
        _fit(model, X, y, recorder, 2)
        raise RuntimeError("the loop failed")
    assert not (tmp_path / "bad.npz").exists()


def test_a_recorder_shows_in_a_notebook_as_the_player():
    model, X, y = _line_model()
    recorder = mlviz.watch(model, data=(X, y), loss=torch.nn.MSELoss(), resolution=5,
                           frames=3)
    _fit(model, X, y, recorder)
    html = recorder._repr_html_()
    assert "<" in html and len(html) > 1000
    assert recorder.prepared().run.n_frames == 3
