"""Registers the ``kmeans`` algorithm and its panels with mlviz."""

from __future__ import annotations

from pathlib import Path

from mlviz import Algorithm, Dataset, DataError, Scene, hookimpl, read_csv

from .panels import ClusterPanel, ElbowPanel
from .trainer import KMeansConfig, KMeansTrainer, default_dataset


def load_points(path: Path, config: KMeansConfig) -> Dataset:
    """A user's CSV file of 2D points (two numeric columns, optional header)."""
    points, names = read_csv(path, columns=2)
    if len(points) < config.k_max:
        raise DataError(
            f"{path} has {len(points)} points, fewer than k_max={config.k_max} clusters; "
            f"add points or pass --set k_max={max(1, len(points))}"
        )
    return Dataset(points, feature_names=names, name=path.name,
                   description=f"{len(points)} points from {path}")


def kmeans_scene(config: KMeansConfig) -> Scene:
    return Scene([ElbowPanel(), ClusterPanel()], title="k-means clustering",
                 width_ratios=(1.0, 1.8))


KMEANS = Algorithm(
    name="kmeans",
    summary="k-means clustering for K = 1 … 12, with the elbow method",
    config=KMeansConfig,
    trainer=KMeansTrainer,
    dataset=default_dataset,
    scene=kmeans_scene,
    dataset_help="100 random points in a 1200 × 675 box (n_points, seed)",
    load_data=load_points,
    fps=5.0,
)


@hookimpl
def mlviz_algorithms():
    return [KMEANS]


@hookimpl
def mlviz_panels():
    return [ElbowPanel, ClusterPanel]
