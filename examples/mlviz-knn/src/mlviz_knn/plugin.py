"""Registers the ``knn`` algorithm and its panels with mlviz.

This module is what the entry point names; it imports numpy and mlviz only (no
matplotlib), so ``mlviz list`` stays instant.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlviz import Algorithm, Dataset, DataError, Scene, hookimpl, read_csv

from .panels import DecisionRegionPanel, ErrorBarsPanel, ErrorCurvePanel
from .trainer import KnnConfig, KnnTrainer, default_dataset, held_out


def load_labelled_points(path: Path, config: KnnConfig) -> Dataset:
    """A user's CSV file: two numeric feature columns and an integer class column."""
    values, names = read_csv(path, columns=3)
    labels = values[:, 2]
    if not np.all(labels == np.round(labels)) or labels.min() < 0:
        raise DataError(f"{path}: the third column must hold class numbers 0, 1, 2, …")
    n_classes = int(labels.max()) + 1
    if n_classes > 12:
        raise DataError(f"{path}: {n_classes} classes; at most 12 can be drawn")
    n_train = len(values) - held_out(len(values), config.test_fraction)
    if n_train < config.k_max:
        raise DataError(f"{path}: {n_train} training points, fewer than k_max={config.k_max}; "
                        f"add points or pass --set k_max={max(1, n_train)}")
    return Dataset(values[:, :2], labels.astype(int), feature_names=names[:2],
                   target_name=names[2], name=path.name,
                   description=f"{len(values)} labelled points from {path}")


def knn_scene(config: KnnConfig) -> Scene:
    return Scene([ErrorCurvePanel(), DecisionRegionPanel()],
                 title="k-nearest neighbours: decision regions as k grows",
                 width_ratios=(1.0, 1.6))


KNN = Algorithm(
    name="knn",
    summary="k-nearest neighbours: decision regions and held-out error as k grows",
    config=KnnConfig,
    trainer=KnnTrainer,
    dataset=default_dataset,
    scene=knn_scene,
    dataset_help="three overlapping Gaussian classes in the plane (n_points, spread, seed)",
    load_data=load_labelled_points,
    data_help="three columns: two numeric features and a class number 0, 1, 2, … (header optional)",
    fps=4.0,
)


@hookimpl
def mlviz_algorithms():
    return [KNN]


@hookimpl
def mlviz_panels():
    return [ErrorCurvePanel, DecisionRegionPanel, ErrorBarsPanel]
