"""The logistic-regression datasets: the shipped breast-cancer features, blobs, a user's CSV.

``data/breast_cancer.csv`` holds two features of the Breast Cancer Wisconsin (Diagnostic)
data set (W. Wolberg, O. Mangasarian, N. Street, W. Street; UCI Machine Learning Repository,
https://doi.org/10.24432/C5DW2B; CC BY 4.0), extracted once from scikit-learn's copy. It is
read with ``importlib.resources``, so scikit-learn is not needed at run time.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from mlviz import Dataset, DataError, read_csv

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


def blobs(n_points: int, seed: int) -> Dataset:
    """Two overlapping Gaussian blobs (so the optimum is finite), min-max scaled."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_points) % 2
    centres = np.array([[0.65, 0.6], [0.35, 0.4]])  # class 1 nearer the origin, as benign
    points = centres[labels] + rng.normal(0.0, 0.13, size=(n_points, 2))
    return Dataset(min_max(points), labels, feature_names=("x1", "x2"), name="blobs",
                   description=f"{n_points} points in two overlapping blobs",
                   extra={"classes": ("class 0", "class 1")})


def default_dataset(config: LogRegConfig) -> Dataset:
    if config.dataset == "blobs":
        return blobs(config.n_points, config.seed)
    return breast_cancer()


def load_labelled(path: Path, config: LogRegConfig) -> Dataset:
    """A user's CSV: two feature columns and a 0/1 label column (optional header)."""
    values, names = read_csv(path, columns=3, min_rows=2)
    labels = values[:, 2]
    if not np.all(np.isin(labels, (0.0, 1.0))):
        raise DataError(f"{path}: the third column must hold labels 0 or 1")
    if len(np.unique(labels)) < 2:
        raise DataError(f"{path}: both labels 0 and 1 must occur")
    return Dataset(min_max(values[:, :2]), labels.astype(int), feature_names=names[:2],
                   target_name=names[2], name=path.name,
                   description=f"{len(values)} labelled points from {path}, min-max scaled",
                   extra={"classes": ("0", "1")})
