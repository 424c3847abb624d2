"""The built-in data sets (shipped inside the package) and a user's (x, y) data."""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np

from mlviz import DataError, Dataset, UserData

from .trainer import LinRegConfig

DATASET_HELP = (
    "advertising: radio spending (x, thousands of $) vs sales (y, thousands of units), "
    "200 markets; slides: the 25 observations of the 'Modeling with NN' slides "
    "(choose with --set dataset=...)"
)


def _packaged(name: str) -> list[dict[str, str]]:
    text = resources.files("mlviz_linreg.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def advertising() -> Dataset:
    """Radio advertising budget against sales (x = radio, y = sales), 200 markets."""
    rows = _packaged("advertising.csv")
    x = np.array([float(r["radio"]) for r in rows])
    y = np.array([float(r["sales"]) for r in rows])
    return Dataset(x[:, None], y, feature_names=("radio spending (k$)",),
                   target_name="sales (k units)",
                   name="advertising", description="radio budget vs sales, 200 markets (ISLR)")


def slides() -> Dataset:
    """The 25 (input, output) observations of the slides."""
    rows = _packaged("slides.csv")
    x = np.array([float(r["x"]) for r in rows])
    y = np.array([float(r["y"]) for r in rows])
    return Dataset(x[:, None], y, feature_names=("input x",), target_name="output y",
                   name="slides", description="25 observations from the 'Modeling with NN' slides")


def default_dataset(config: LinRegConfig) -> Dataset:
    return advertising() if config.dataset == "advertising" else slides()


def load_xy(data: UserData, config: LinRegConfig) -> Dataset:
    """A user's data: a numeric x column and a numeric y column (by default the last), as
    ``--columns X,Y`` or ``--columns X --label Y`` choose them."""
    chosen = data.select(1, label="number", min_rows=2)
    x, y = chosen.X[:, 0], chosen.y
    if np.ptp(x) == 0:
        raise DataError(f"{data}: every x is {x[0]:g}; a line needs at least two distinct x "
                        "values")
    return Dataset(x[:, None], y, feature_names=chosen.feature_names,
                   target_name=chosen.label_name, name=data.name,
                   description=f"{len(x)} (x, y) pairs from {data.describe()}")
