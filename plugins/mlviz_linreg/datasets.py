"""The built-in data sets (shipped inside the package) and a user's two-column CSV."""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import numpy as np

from mlviz import Dataset, DataError, read_csv

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
    return Dataset(x[:, None], y, feature_names=("radio spending",), target_name="sales",
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


def load_xy(path: Path, config: LinRegConfig) -> Dataset:
    """A user's CSV file with two numeric columns, x then y (optional header)."""
    values, names = read_csv(path, columns=2, min_rows=2)
    x, y = values[:, 0], values[:, 1]
    if np.ptp(x) == 0:
        raise DataError(f"{path}: every x is {x[0]:g}; a line needs at least two distinct x values")
    return Dataset(x[:, None], y, feature_names=(names[0],), target_name=names[1],
                   name=path.name, description=f"{len(x)} (x, y) pairs from {path}")
