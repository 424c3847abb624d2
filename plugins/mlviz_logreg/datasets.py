"""The logistic-regression datasets: the shipped breast-cancer features, stock 2D data
(blobs, moons, circles, xor), and a user's data.

``data/breast_cancer.csv`` holds two features of the Breast Cancer Wisconsin (Diagnostic)
data set (W. Wolberg, O. Mangasarian, N. Street, W. Street; UCI Machine Learning Repository,
https://doi.org/10.24432/C5DW2B; CC BY 4.0), extracted once from scikit-learn's copy. It is
read with ``importlib.resources``, so scikit-learn is not needed at run time.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from mlviz import Dataset, UserData, datasets

from .trainer import LogRegConfig

ATTRIBUTION = (
    "Breast Cancer Wisconsin (Diagnostic), W. Wolberg et al., UCI Machine Learning "
    "Repository, CC BY 4.0"
)


def min_max(X: np.ndarray) -> np.ndarray:
    """Scale every column to [0, 1] (a constant column becomes 0)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    return (X - lo) / np.where(hi > lo, hi - lo, 1.0)


def breast_cancer() -> Dataset:
    """569 tumours: worst concave points and worst perimeter, min-max scaled; 1 = benign."""
    text = resources.files("mlviz_logreg.data").joinpath("breast_cancer.csv").read_text("utf-8")
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    values = np.array([row.split(",") for row in rows[1:]], dtype=float)  # rows[0]: header
    return Dataset(
        min_max(values[:, :2]), values[:, 2].astype(int),
        feature_names=("worst concave points", "worst perimeter"),
        target_name="benign", name="breast cancer",
        description=f"569 tumours, 2 features min-max scaled; {ATTRIBUTION}",
        extra={"classes": ("malignant", "benign")},
    )


#: The two blobs' centres, before scaling: class 1 nearer the origin, as benign.
BLOB_CENTRES = np.array([[0.65, 0.6], [0.35, 0.4]])


def blobs(n_points: int, seed: int, noise: float = 0.13) -> Dataset:
    """Two overlapping Gaussian blobs (so the optimum is finite), min-max scaled."""
    return _scaled(datasets.blobs(n_points, BLOB_CENTRES, noise=noise, seed=seed),
                   f"{n_points} points in two overlapping blobs")


def stock(name: str, n_points: int, noise: float, seed: int) -> Dataset:
    """A stock 2D dataset of :mod:`mlviz.datasets` (two classes), min-max scaled."""
    if name == "blobs":
        return blobs(n_points, seed, noise)
    base = datasets.make(name, n_points, noise=noise, seed=seed)
    return _scaled(base, base.description)


def _scaled(base: Dataset, description: str) -> Dataset:
    return Dataset(min_max(base.X), base.y, feature_names=("x1", "x2"), name=base.name,
                   description=f"{description}, min-max scaled",
                   extra={"classes": ("class 0", "class 1")})


def default_dataset(config: LogRegConfig) -> Dataset:
    if config.dataset == "breast-cancer":
        return breast_cancer()
    return stock(config.dataset, config.n_points, config.noise, config.seed)


def load_labelled(data: UserData, config: LogRegConfig) -> Dataset:
    """A user's data: two numeric feature columns and a label of two classes (0/1, or
    any two values: the one sorted second is class 1), min-max scaled."""
    chosen = data.select(2, label="class", classes=2, min_rows=2)
    return Dataset(min_max(chosen.X), chosen.y, feature_names=chosen.feature_names,
                   target_name=chosen.label_name, name=data.name,
                   description=f"{len(chosen.X)} labelled points from {data.describe()}, "
                               "min-max scaled",
                   extra={"classes": chosen.classes})
