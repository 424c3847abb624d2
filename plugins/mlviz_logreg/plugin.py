"""Registers the ``logistic-regression`` algorithm and its panels with mlviz."""

from __future__ import annotations

from mlviz import Algorithm, FrameSchedule, Scene, hookimpl

from .datasets import default_dataset, load_labelled
from .panels import BCECurvePanel, DecisionBoundaryPanel, ProbabilitySurfacePanel
from .trainer import LogRegConfig, LogRegTrainer, log_steps


def logreg_scene(config: LogRegConfig) -> Scene:
    return Scene([BCECurvePanel(), ProbabilitySurfacePanel(), DecisionBoundaryPanel()],
                 title="Logistic regression", width_ratios=(0.95, 1.45, 1.0))


def logreg_schedule(config: LogRegConfig) -> FrameSchedule:
    steps = log_steps(config.resolved_epochs, config.frames)
    return FrameSchedule(steps, late_step=steps[-1][1])


LOGISTIC_REGRESSION = Algorithm(
    name="logistic-regression",
    summary="logistic regression by gradient descent on the binary cross-entropy",
    config=LogRegConfig,
    trainer=LogRegTrainer,
    dataset=default_dataset,
    scene=logreg_scene,
    dataset_help=(
        "breast cancer (Wisconsin Diagnostic, UCI, CC BY 4.0): worst concave points and worst "
        "perimeter, min-max scaled, 1 = benign; or dataset=blobs (n_points, seed). "
        "--data: CSV with two feature columns and a 0/1 label"
    ),
    load_data=load_labelled,
    schedule=logreg_schedule,
    fps=5.0,
)


@hookimpl
def mlviz_algorithms():
    return [LOGISTIC_REGRESSION]


@hookimpl
def mlviz_panels():
    return [BCECurvePanel, ProbabilitySurfacePanel, DecisionBoundaryPanel]
