"""Registers ``gaussian-mixture`` with mlviz (numpy and mlviz only: no matplotlib)."""

from __future__ import annotations

from mlviz import Algorithm, Scene, hookimpl

from .panels import LikelihoodPanel, MixturePanel
from .trainer import GmmConfig, GmmTrainer, default_dataset


def gmm_scene(config: GmmConfig) -> Scene:
    return Scene([MixturePanel(), LikelihoodPanel()], title="Gaussian mixture fitted by EM")


GMM = Algorithm(
    name="gaussian-mixture",
    summary="Gaussian mixture: EM moves the components to the blobs",
    config=GmmConfig,
    trainer=GmmTrainer,
    dataset=default_dataset,
    scene=gmm_scene,
    dataset_help="n_components blobs on a circle (n_points, spread, seed)",
)


@hookimpl
def mlviz_algorithms():
    return [GMM]


@hookimpl
def mlviz_panels():
    return [MixturePanel, LikelihoodPanel]
