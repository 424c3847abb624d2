"""Registers the ``weight-nudging`` algorithm and its panels with mlviz."""

from __future__ import annotations

from mlviz import Algorithm, Scene, hookimpl

from .panels import DataLinePanel, ErrorCurvePanel, ErrorStepsPanel, WeightPanel
from .trainer import NudgingConfig, NudgingTrainer, default_dataset


def nudging_scene(config: NudgingConfig) -> Scene:
    return Scene([DataLinePanel(), ErrorCurvePanel(), WeightPanel(), ErrorStepsPanel()],
                 title="Learning w in f(x) = w·x: fixed nudges, then gradient descent", cols=2)


WEIGHT_NUDGING = Algorithm(
    name="weight-nudging",
    summary="learn w in f(x) = w·x by fixed ±0.05 nudges, then by gradient descent (SGD)",
    config=NudgingConfig,
    trainer=NudgingTrainer,
    dataset=default_dataset,
    scene=nudging_scene,
    dataset_help="f(x) = target·x at x = 1 … n_points",
    no_data_reason="it measures the learned weight against the known target slope (the data "
                   "are y = target·x): change them with --set target=…, n_points=…",
    fps=6.0,
)


@hookimpl
def mlviz_algorithms():
    return [WEIGHT_NUDGING]


@hookimpl
def mlviz_panels():
    return [DataLinePanel, ErrorCurvePanel, WeightPanel, ErrorStepsPanel]
