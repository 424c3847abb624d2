"""Registers the ``perceptron`` algorithm and its panels with mlviz."""

from __future__ import annotations

import numpy as np

from mlviz import Algorithm, Dataset, FrameSchedule, Scene, UserData, hookimpl
from mlviz.datasets import scaled

from .panels import CriterionPanel, DistanceStripPanel, PlanesPanel
from .trainer import PerceptronConfig, PerceptronTrainer, default_dataset


def perceptron_scene(config: PerceptronConfig) -> Scene:
    return Scene([CriterionPanel(), DistanceStripPanel(), PlanesPanel()], title="Perceptron",
                 width_ratios=(1.0, 0.62, 1.55))


#: At most this many frames unless --frames says otherwise: epochs are thinned evenly.
FRAMES = 100


def perceptron_schedule(config: PerceptronConfig) -> FrameSchedule:
    return FrameSchedule.every(budget=FRAMES)


def load_labelled(data: UserData, config: PerceptronConfig) -> Dataset:
    """A user's 3D points with a label of two classes, scaled into the cube [−1, 1]³."""
    chosen = data.select(3, label="class", classes=2, min_rows=2)
    return Dataset(scaled(chosen.X), np.where(chosen.y == 1, 1, -1),
                   feature_names=chosen.feature_names, target_name=chosen.label_name,
                   name=data.name,
                   description=f"{len(chosen.X)} labelled points from {data.describe()}, "
                               "scaled into [−1, 1]³ (+1: the class sorted second)")


PERCEPTRON = Algorithm(
    name="perceptron",
    summary="the perceptron learning a separating plane in 3D, mistake by mistake",
    config=PerceptronConfig,
    trainer=PerceptronTrainer,
    dataset=default_dataset,
    scene=perceptron_scene,
    dataset_help=("a grid³ lattice in [-1, 1]³ labelled ±1 by a seeded random plane that stays "
                  "at least `margin` from every point (grid, margin, seed)"),
    load_data=load_labelled,
    data_help="three numeric feature columns and a label column of two classes (−1/1, 0/1 "
              "or any two values; the one sorted second is +1), by default the last column; "
              "--columns A,B,C --label D choose them; features are scaled into [−1, 1]³. "
              "Data no plane separates never converge: training stops after `epochs`",
    dataset_params=("grid", "margin"),
    schedule=perceptron_schedule,
    fps=5.0,
)


@hookimpl
def mlviz_algorithms():
    return [PERCEPTRON]


@hookimpl
def mlviz_panels():
    return [CriterionPanel, DistanceStripPanel, PlanesPanel]
