"""Config, snapshots, default data and the trainer of the ``knn`` algorithm."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mlviz import Config, ConfigError, Dataset, Snapshot, param

from .model import error_rate, neighbour_labels, predict

#: Centres of the three classes of the default dataset.
CENTRES = np.array([[0.0, 0.0], [2.4, 0.6], [1.0, 2.3]])


@dataclass(frozen=True)
class KnnConfig(Config):
    """Hyperparameters of ``knn``. ``validate`` checks what involves several fields."""

    k_max: int = param(30, "k runs from 1 to k_max, one frame each", min=1, max=200)
    metric: Literal["euclidean", "manhattan"] = param("euclidean", "distance between points")
    test_fraction: float = param(
        0.3, "share of the points held out to measure the error", min=0.1, max=0.5
    )
    n_points: int = param(240, "points in the default dataset (three classes)", min=30,
                          max=5000)
    spread: float = param(0.9, "standard deviation of each class in the default dataset",
                          min=0.05, max=5.0)

    def validate(self) -> None:
        n_train = self.n_points - held_out(self.n_points, self.test_fraction)
        if self.k_max > n_train:
            raise ConfigError(
                f"k_max={self.k_max} is more than the {n_train} training points of the default "
                f"dataset; lower k_max or raise n_points"
            )


@dataclass(frozen=True)
class KnnSnapshot(Snapshot):
    """The classifier with ``k`` neighbours; ``loss`` is its error rate on held-out points."""

    k: int = 1
    train_error: float = 0.0
    test_predictions: np.ndarray = None


def held_out(n: int, test_fraction: float) -> int:
    """How many of ``n`` points are held out (at least one, at most n - 1)."""
    return min(max(1, round(n * test_fraction)), n - 1)


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and the held-out points, shuffled by ``seed``."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = held_out(n, test_fraction)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def class_count(dataset: Dataset) -> int:
    return int(dataset.y.max()) + 1


class KnnTrainer:
    """Classifies the held-out points with k = 1 … k_max nearest training points.

    k-NN has nothing to fit: each "epoch" is one value of k (epoch = k - 1), and its loss is
    the held-out error rate, so the loss curve is the classic validation curve.
    """

    def __init__(self, config: KnnConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[KnnSnapshot]:
        config = self.config
        X, y = dataset.X, dataset.y.astype(int)
        train, test = split(len(X), config.test_fraction, config.seed)
        if config.k_max > len(train):
            raise ConfigError(f"k_max={config.k_max} is more than the {len(train)} training points")
        n_classes = class_count(dataset)
        on_train = neighbour_labels(X[train], X[train], y[train], config.k_max, config.metric)
        on_test = neighbour_labels(X[test], X[train], y[train], config.k_max, config.metric)
        for k in range(1, config.k_max + 1):
            predicted = predict(on_test, k, n_classes)
            yield KnnSnapshot(
                epoch=k - 1, loss=error_rate(predicted, y[test]), params={"k": np.array(k)},
                k=k, train_error=error_rate(predict(on_train, k, n_classes), y[train]),
                test_predictions=predicted,
            )


def default_dataset(config: KnnConfig) -> Dataset:
    """Three overlapping Gaussian classes in the plane, ``n_points`` in all (seeded)."""
    rng = np.random.default_rng(config.seed)
    y = np.arange(config.n_points) % len(CENTRES)
    X = CENTRES[y] + rng.normal(scale=config.spread, size=(config.n_points, 2))
    return Dataset(X, y, feature_names=("x1", "x2"), target_name="class",
                   name="three blobs",
                   description=f"{config.n_points} points in 3 overlapping Gaussian classes")
