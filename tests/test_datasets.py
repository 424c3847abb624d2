"""Stock datasets (mlviz.datasets) and a user's data (mlviz.UserData): column choice,
separators, labels, arrays and DataFrames, and their one-line errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mlviz
from mlviz import DataError, UserData, read_csv
from mlviz.cli import main
from mlviz.config import DeprecatedSetting
from mlviz.datasets import STOCK, blobs, make, scaled

# ---------------------------------------------------------------- stock datasets


@pytest.mark.parametrize("name", sorted(STOCK))
def test_every_stock_dataset_is_seeded_shaped_and_balanced(name):
    data = make(name, 101, noise=0.1, seed=3)
    assert data.X.shape == (101, 2) and data.X.dtype == float
    assert np.array_equal(data.X, make(name, 101, noise=0.1, seed=3).X)
    assert not np.array_equal(data.X, make(name, 101, noise=0.1, seed=4).X)
    if name == "uniform":
        assert data.y is None
        return
    assert data.y.dtype.kind == "i"
    counts = np.bincount(data.y)
    assert len(counts) == len(data.extra["classes"]) and counts.min() > 0
    if name != "xor":  # xor's classes are where uniform points fall
        assert counts.max() - counts.min() <= 1
    assert np.array_equal(data.y, make(name, 101, noise=0.1, seed=3).y)


@pytest.mark.parametrize("name", ["moons", "circles", "xor", "spiral"])
def test_noise_moves_points_by_its_standard_deviation_and_keeps_the_labels(name):
    clean = make(name, 4000, noise=0.0, seed=1)
    noisy = make(name, 4000, noise=0.2, seed=1)
    assert np.array_equal(clean.y, noisy.y)
    assert np.std(noisy.X - clean.X) == pytest.approx(0.2, rel=0.05)


def test_clean_shapes_are_what_their_names_say():
    xor = make("xor", 500, noise=0.0, seed=0)
    assert np.array_equal(xor.y == 1, xor.X[:, 0] * xor.X[:, 1] < 0)
    assert np.abs(xor.X).max() <= 1.0
    circles = make("circles", 500, noise=0.0, seed=0)
    radius = np.linalg.norm(circles.X, axis=1)
    assert radius[circles.y == 1].max() < 0.45
    assert radius[circles.y == 0].min() >= 0.65 and radius[circles.y == 0].max() <= 0.95
    moons = make("moons", 500, noise=0.0, seed=0)
    upper = moons.X[moons.y == 0] * 1.5 + (0.5, 0.25)  # back to the unit half-circle
    lower = moons.X[moons.y == 1] * 1.5 + (0.5, 0.25) - (1.0, 0.5)
    assert np.allclose(np.linalg.norm(upper, axis=1), 1) and (upper[:, 1] >= 0).all()
    assert np.allclose(np.linalg.norm(lower, axis=1), 1) and (lower[:, 1] <= 0).all()
    spiral = make("spiral", 500, noise=0.0, seed=0)
    r = np.linalg.norm(spiral.X, axis=1)
    along = (r - 0.05) / 0.9
    turn = np.angle(np.exp(1j * (np.arctan2(spiral.X[:, 1], spiral.X[:, 0])
                                 - 2 * np.pi * 1.5 * along)))
    assert np.allclose(np.abs(turn), np.where(spiral.y == 1, np.pi, 0.0), atol=1e-9)


def test_blobs_are_apart_round_and_centred_where_asked():
    data = blobs(3000, 4, noise=0.1, seed=5, box=(1.5, 0.8))
    means = np.array([data.X[data.y == c].mean(axis=0) for c in range(4)])
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)[np.triu_indices(4, 1)]
    assert gaps.min() > 0.55  # 6 × noise apart, less the sampling error
    for c in range(4):
        assert data.X[data.y == c].std(axis=0) == pytest.approx([0.1, 0.1], rel=0.1)
    fixed = blobs(10, np.array([[0.0, 0.0], [5.0, 5.0]]), noise=0.0)
    assert np.array_equal(fixed.X[fixed.y == 1], np.full((5, 2), 5.0))


def test_unknown_stock_dataset_and_scaling():
    with pytest.raises(DataError, match="no stock dataset 'swirl'; choose one of: blobs, moons"):
        make("swirl", 10, noise=0.1, seed=0)
    X = scaled(np.array([[0.0, 3.0, 7.0], [2.0, 3.0, 9.0], [1.0, 3.0, 8.0]]))
    assert X[:, 0].tolist() == [-1.0, 1.0, 0.0] and X[:, 1].tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------- a user's table

IRIS = """sepal_length,sepal_width,petal_length,species
5.1,3.5,1.4,setosa
4.9,3.0,1.4,setosa
7.0,3.2,4.7,versicolor
6.4,3.2,4.5,versicolor
6.3,3.3,6.0,virginica
5.8,2.7,5.1,virginica
"""


@pytest.fixture
def iris(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text(IRIS)
    return path


def test_columns_are_chosen_by_name_in_the_order_given(iris):
    chosen = UserData(iris, columns="petal_length, sepal_length").select(2)
    assert chosen.feature_names == ("petal_length", "sepal_length")
    assert chosen.X[:, 0].tolist() == [1.4, 1.4, 4.7, 4.5, 6.0, 5.1]
    assert chosen.X[:, 1].tolist() == [5.1, 4.9, 7.0, 6.4, 6.3, 5.8]
    assert chosen.y is None


def test_a_text_label_becomes_sorted_classes(iris):
    chosen = UserData(iris, columns=["sepal_length", "petal_length"], label="species") \
        .select(2, label="class")
    assert chosen.classes == ("setosa", "versicolor", "virginica")
    assert chosen.y.tolist() == [0, 0, 1, 1, 2, 2] and chosen.label_name == "species"
    # without --label the last chosen column is the label
    last = UserData(iris, columns="sepal_length,petal_length,species").select(2, label="class")
    assert last.y.tolist() == chosen.y.tolist()


@pytest.mark.parametrize("data, kwargs, message", [
    ({}, {"features": 2},
     "iris.csv has 4 columns (sepal_length, sepal_width, petal_length, species); kmeans uses "
     "2 feature columns: choose them with --columns NAME,NAME"),
    ({"columns": "sepal_length,petal"}, {"features": 2},
     "has no column 'petal'; its columns are sepal_length, sepal_width, petal_length, "
     "species"),
    ({"columns": "sepal_length,species"}, {"features": 2},
     "iris.csv, line 2: 'setosa' is not a number (column 'species')"),
    ({"columns": "sepal_length,sepal_length"}, {"features": 2},
     "--columns names 'sepal_length' twice"),
    ({"columns": "sepal_length"}, {"features": 2},
     "--columns chose 1 feature column (sepal_length); kmeans uses 2 feature columns"),
    ({"columns": "sepal_length,sepal_width", "label": "species"}, {"features": 2},
     "kmeans takes no label column; leave out --label"),
    ({"columns": "sepal_length,sepal_width", "label": "species"},
     {"features": 2, "label": "class", "classes": 2},
     "the label column 'species' holds 3 classes (setosa, versicolor, virginica); kmeans "
     "needs exactly 2"),
    ({"columns": "sepal_length,sepal_width"}, {"features": 1, "label": "class"},
     "the label column 'sepal_width' holds one class only"),
])
def test_column_errors_say_what_to_choose(iris, data, kwargs, message):
    kwargs = dict(kwargs)
    if kwargs.get("features") == 1:  # a label column of one value
        iris.write_text(IRIS.replace(",3.5,", ",3.0,").replace(",3.2,", ",3.0,")
                        .replace(",3.3,", ",3.0,").replace(",2.7,", ",3.0,"))
    with pytest.raises(DataError) as error:
        UserData(iris, algorithm="kmeans", **data).select(kwargs.pop("features"), **kwargs)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("text", [
    "a;b\n1,5;2\n3;4,25\n",          # semicolons, decimal commas
    "a\tb\n1.5\t2\n3\t4.25\n",        # tabs
    "a|b\n1.5|2\n3|4.25\n",           # pipes
    "a b\n1.5  2\n 3 4.25\n",         # spaces
    '"a","b"\n"1.5","2"\n3,4.25\n',   # quoted
])
def test_separators_are_detected(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    values, names = read_csv(path, columns=2)
    assert names == ("a", "b") and values.tolist() == [[1.5, 2.0], [3.0, 4.25]]


def test_header_is_told_from_a_first_row_with_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,2,cat\n3,4,dog\n")
    chosen = UserData(path).select(2, label="class")
    assert chosen.feature_names == ("x1", "x2") and chosen.classes == ("cat", "dog")
    assert chosen.X.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_a_0_1_plugin_reads_the_chosen_columns_through_read_csv(iris):
    values, names = read_csv(UserData(iris, columns="petal_length,sepal_width"), columns=2)
    assert names == ("petal_length", "sepal_width") and values[0].tolist() == [1.4, 3.5]
    with pytest.raises(DataError, match=r"has 3 columns \(sepal_length, sepal_width, "
                                        r"petal_length\); expected 2"):
        read_csv(UserData(iris, columns="sepal_length,sepal_width,petal_length"), columns=2)


# ---------------------------------------------------------------- arrays, DataFrames

def test_an_array_is_data_and_its_columns_can_be_chosen_by_position():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(40, 3))
    prepared = mlviz.prepare("kmeans", k_max=3, data=UserData(points, columns=[2, 0]))
    assert np.array_equal(prepared.run.dataset.X, points[:, [2, 0]])
    assert prepared.source == "a 40 × 3 array"
    with pytest.raises(DataError, match="the array has 3 columns .*kmeans uses 2"):
        mlviz.prepare("kmeans", k_max=3, data=points)
    bad = points.copy()
    bad[7, 1] = np.nan
    with pytest.raises(DataError, match="the array, row 7: missing, NaN or infinite value"):
        mlviz.prepare("pca", data=bad)


def test_a_dataframe_with_a_text_label_trains_logistic_regression():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                          "weight": [2, 1, 4, 3, 6, 5],
                          "kind": pd.Categorical(["a", "a", "a", "b", "b", "b"])})
    prepared = mlviz.prepare("logistic-regression", epochs=50, frames=5, data=frame)
    data = prepared.run.dataset
    assert data.feature_names == ("size", "weight") and data.target_name == "kind"
    assert data.y.tolist() == [0, 0, 0, 1, 1, 1] and data.extra["classes"] == ("a", "b")
    assert data.X.min() == 0 and data.X.max() == 1  # min-max scaled
    assert prepared.source == "a 6 × 3 DataFrame"
    with pytest.raises(DataError, match="the DataFrame has 4 columns"):
        mlviz.prepare("kmeans", data=frame.assign(extra=1.0))


def test_pandas_is_imported_only_for_a_dataframe():
    code = textwrap.dedent("""
        import sys, numpy as np, mlviz
        mlviz.prepare("kmeans", k_max=2, data=np.arange(20.0).reshape(10, 2))
        print("pandas" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- algorithms and options

def test_default_data_settings_are_refused_with_user_data(iris):
    with pytest.raises(DataError, match="noise=0.3, n_points=50 only shape kmeans's default "
                                        "dataset, which --data replaces; leave them out"):
        mlviz.prepare("kmeans", data=UserData(iris, columns="sepal_length,petal_length"),
                      n_points=50, noise=0.3)


@pytest.mark.parametrize("name", ["neural-network", "nn-regression", "weight-nudging",
                                  "parabola", "optimizers"])
def test_algorithms_without_user_data_say_why(iris, name):
    algorithm = mlviz.load_registry().get(name)
    assert algorithm.load_data is None and len(algorithm.no_data_reason) > 30
    with pytest.raises(DataError, match=f"^{name} does not accept --data: "
                                        f"{algorithm.no_data_reason[:20]}"):
        mlviz.prepare(name, data=iris)


@pytest.mark.parametrize("name, columns, label", [
    ("kmeans", "sepal_length,petal_length", None),
    ("pca", "sepal_length,sepal_width,petal_length", None),
    ("linear-regression", "sepal_length", "petal_length"),
    ("perceptron", "sepal_length,sepal_width,petal_length", "species"),
    ("layer-transformations", "sepal_length,petal_length", "species"),
])
def test_algorithms_take_the_chosen_columns(tmp_path, name, columns, label):
    path = tmp_path / "two.csv"  # two species, so that classifiers have two classes
    path.write_text("\n".join(line for line in IRIS.splitlines() if "virginica" not in line))
    data = UserData(path, columns=columns, label=label)
    fast = {"kmeans": {"k_max": 2}, "perceptron": {"epochs": 3},
            "layer-transformations": {"epochs": 2, "resolution": 5},
            "linear-regression": {"epochs": 5}}.get(name, {})
    dataset = mlviz.load_registry().get(name).make_dataset(
        mlviz.load_registry().get(name).config(**fast), data)
    assert dataset.feature_names == tuple(columns.split(","))
    if name == "perceptron":
        assert sorted(set(dataset.y.tolist())) == [-1, 1] and np.abs(dataset.X).max() == 1
    if name == "layer-transformations":
        assert dataset.X.min() == -1 and dataset.X.max() == 1
    if name == "linear-regression":
        assert dataset.target_name == "petal_length"


def test_cli_columns_label_and_their_errors(tmp_path, monkeypatch, capsys, iris):
    monkeypatch.chdir(tmp_path)
    assert main(["render", "kmeans", "--data", "iris.csv", "--columns", "sepal_length,"
                 "petal_length", "--set", "k_max=3", "-o", "k.png", "-q"]) == 0
    assert (tmp_path / "k.png").exists()
    for args, message in [
        (["--data", "iris.csv"], "iris.csv has 4 columns"),
        (["--columns", "a,b"], "--columns chooses columns of a --data file; give --data FILE"),
        (["--data", "iris.csv", "--columns", "sepal_length,petal_length", "--label",
          "species"], "kmeans takes no label column"),
    ]:
        assert main(["render", "kmeans", *args, "-o", "x.png", "-q"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "x.png").exists()


def test_seed_given_twice_must_agree(capsys):
    assert main(["train", "kmeans", "--seed", "3", "--set", "seed=4", "-o", "x.npz"]) == 2
    assert capsys.readouterr().err.strip() == (
        "mlviz: error: --seed 3 and --set seed=4 disagree; give seed once")
    with pytest.raises(mlviz.ConfigError, match="k_max=4 and --set k_max=5 disagree"):
        mlviz.prepare("kmeans", k_max=4, settings=["k_max=5"])
    assert mlviz.prepare("kmeans", k_max=2, settings=["k_max=2"]).config.k_max == 2


@pytest.mark.parametrize("name", ["perceptron", "logistic-regression"])
def test_frames_as_a_setting_is_the_frame_budget_with_a_deprecation_warning(name):
    fast = {"perceptron": {"grid": 3, "epochs": 30, "stop_early": False},
            "logistic-regression": {"epochs": 200}}[name]
    with pytest.warns(DeprecatedSetting, match=f"--set frames=7 is deprecated for {name}: "
                                               "use --frames 7"):
        old = mlviz.prepare(name, settings=["frames=7"], **fast)
    new = mlviz.prepare(name, frames=7, **fast)
    assert old.run.n_frames == new.run.n_frames <= 7
    assert [s.epoch for s in old.run.snapshots] == [s.epoch for s in new.run.snapshots]
    assert "frames" not in {p.name for p in old.algorithm.config.params()}
    with pytest.raises(mlviz.ConfigError, match="--frames 5 and --set frames=7 disagree"):
        mlviz.prepare(name, frames=5, settings=["frames=7"], **fast)
