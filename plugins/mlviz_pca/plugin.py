"""Registers the ``pca`` algorithm and its panels with mlviz."""

from __future__ import annotations

from mlviz import Algorithm, Dataset, Scene, UserData, hookimpl

from .panels import AxesPanel, ReconstructionPanel, VariancePanel
from .trainer import PCAConfig, PCATrainer, default_dataset


def load_points(data: UserData, config: PCAConfig) -> Dataset:
    """A user's 3D points: three numeric columns (``--columns`` picks them from more)."""
    chosen = data.select(3, min_rows=3)
    return Dataset(chosen.X, feature_names=chosen.feature_names, name=data.name,
                   description=f"{len(chosen.X)} points from {data.describe()}")


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
    dataset_help="a tilted, flattened cloud of n_points points, spread 0.5 along the cube's "
                 "diagonal and 0.22 across it, plus Gaussian noise (noise, seed); or "
                 "--set dataset=line, the notebook's noisy line",
    load_data=load_points,
    data_help="three numeric columns (a header row is optional; choose three of more with "
              "--columns A,B,C); standardize=true for columns in different units",
    dataset_params=("dataset", "n_points", "noise"),
    fps=5.0,
)


@hookimpl
def mlviz_algorithms():
    return [PCA]


@hookimpl
def mlviz_panels():
    return [AxesPanel, ReconstructionPanel, VariancePanel]
