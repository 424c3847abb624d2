"""Registers the ``perceptron`` algorithm and its panels with mlviz."""

from __future__ import annotations

from mlviz import Algorithm, FrameSchedule, Scene, hookimpl

from .panels import CriterionPanel, DistanceStripPanel, PlanesPanel
from .trainer import PerceptronConfig, PerceptronTrainer, default_dataset


def perceptron_scene(config: PerceptronConfig) -> Scene:
    return Scene([CriterionPanel(), DistanceStripPanel(), PlanesPanel()], title="Perceptron",
                 width_ratios=(1.0, 0.62, 1.55))


def perceptron_schedule(config: PerceptronConfig) -> FrameSchedule:
    return FrameSchedule.every(budget=config.frames)


PERCEPTRON = Algorithm(
    name="perceptron",
    summary="the perceptron learning a separating plane in 3D, mistake by mistake",
    config=PerceptronConfig,
    trainer=PerceptronTrainer,
    dataset=default_dataset,
    scene=perceptron_scene,
    dataset_help=("a grid³ lattice in [-1, 1]³ labelled ±1 by a seeded random plane that stays "
                  "at least `margin` from every point (grid, margin, seed)"),
    schedule=perceptron_schedule,
    fps=5.0,
)


@hookimpl
def mlviz_algorithms():
    return [PERCEPTRON]


@hookimpl
def mlviz_panels():
    return [CriterionPanel, DistanceStripPanel, PlanesPanel]
