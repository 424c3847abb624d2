"""Registers the ``pca`` algorithm and its panels with mlviz."""

from __future__ import annotations

from pathlib import Path

from mlviz import Algorithm, Dataset, Scene, hookimpl, read_csv

from .panels import AxesPanel, ReconstructionPanel, VariancePanel
from .trainer import PCAConfig, PCATrainer, default_dataset


def load_points(path: Path, config: PCAConfig) -> Dataset:
    """A user's CSV file of 3D points (three numeric columns, optional header)."""
    points, names = read_csv(path, columns=3, min_rows=3)
    return Dataset(points, feature_names=names, name=path.name,
                   description=f"{len(points)} points from {path}")


def pca_scene(config: PCAConfig) -> Scene:
    return Scene([AxesPanel(), ReconstructionPanel(), VariancePanel()],
                 title="Principal component analysis", width_ratios=(1.25, 1.25, 0.8))


PCA = Algorithm(
    name="pca",
    summary="principal component analysis: keep 0, 1, 2, 3 components and watch the points "
            "fall onto their span",
    config=PCAConfig,
    trainer=PCATrainer,
    dataset=default_dataset,
    scene=pca_scene,
    dataset_help="n_points noisy points along a line through the 3D cube's diagonal "
                 "(n_points, noise, seed); --data: a CSV file of 3 numeric columns",
    load_data=load_points,
    fps=5.0,
)


@hookimpl
def mlviz_algorithms():
    return [PCA]


@hookimpl
def mlviz_panels():
    return [AxesPanel, ReconstructionPanel, VariancePanel]
