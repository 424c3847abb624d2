"""Registers the ``perceptron`` algorithm and its panels with mlviz."""

from __future__ import annotations

import numpy as np

from mlviz import Algorithm, Dataset, FrameSchedule, Scene, UserData, hookimpl
from mlviz.datasets import scaled
from mlviz.story import Chapter, Story

from .panels import CriterionPanel, DistanceStripPanel, PlanesPanel
from .trainer import PerceptronConfig, PerceptronTrainer, default_dataset


def perceptron_scene(config: PerceptronConfig) -> Scene:
    return Scene([CriterionPanel(), PlanesPanel(), DistanceStripPanel()], title="Perceptron",
                 width_ratios=(1.0, 1.55, 0.62), figsize=(12.8, 7.2))


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


OBJECTIVE = r"$J(w, b) = \frac{1}{n}\sum_{i=1}^{n} \max(0,\ -y_i\,(w \cdot x_i + b))$"


def perceptron_story(config: PerceptronConfig, run) -> Story:
    """The wrong start; learning from mistakes; separated (or, never, not separable)."""
    epochs, wrong = run.trace("epoch"), run.trace("misclassified")
    n = len(run.dataset.X)
    chapters = [Chapter("the start", int(epochs[0]),
                        f"The learned plane starts facing away from the target: {int(wrong[0])} "
                        f"of {n} points are on the wrong side.")]
    if len(epochs) > 2:
        chapters.append(Chapter("learning from mistakes", int(epochs[1]),
                                "Each point on the wrong side pulls the plane towards it: "
                                "w ← w + η·y·x, b ← b + η·y."))
    done = np.flatnonzero(wrong == 0)
    if done.size and done[0] > chapters[-1].start:
        chapters.append(Chapter("separated", int(epochs[done[0]]),
                                "Every point is on its own side: the criterion is zero, so "
                                "the perceptron stops learning."))
    elif not done.size and len(epochs) > 3:
        chapters.append(Chapter("no plane separates", int(epochs[-1]),
                                f"After {int(epochs[-1])} epochs {int(wrong[-1])} points are "
                                f"still on the wrong side: no plane may separate these data."))
    return Story(tuple(chapters), objective=OBJECTIVE)


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
    story=perceptron_story,
)


@hookimpl
def mlviz_algorithms():
    return [PERCEPTRON]


@hookimpl
def mlviz_panels():
    return [CriterionPanel, DistanceStripPanel, PlanesPanel]
