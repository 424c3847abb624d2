"""Registers the ``linear-regression`` algorithm and its panels with mlviz."""

from __future__ import annotations

import math
from functools import partial

from mlviz import Algorithm, FrameSchedule, Scene, hookimpl
from mlviz.sweep import declare_sweep

from .datasets import DATASET_HELP, default_dataset, load_xy
from .panels import FitPanel, LossPanel, SurfacePanel
from .trainer import LinRegConfig, LinRegTrainer

#: Every epoch to 30, every 2nd to 60, every 4th to 100, then sparse (about 65 frames at 200).
EARLY_STEPS = ((30, 1), (60, 2), (100, 4))
LATE_FRAMES = 35


def linreg_schedule(config: LinRegConfig) -> FrameSchedule:
    """Dense early, sparse late; long runs stay near 100 frames."""
    late = max(10, math.ceil((config.epochs - 100) / LATE_FRAMES))
    return FrameSchedule(steps=EARLY_STEPS, late_step=late)


def linreg_scene(config: LinRegConfig) -> Scene:
    return Scene([FitPanel(), SurfacePanel(), LossPanel()],
                 title="Linear regression by gradient descent", width_ratios=(1.0, 1.5, 0.8))


LINEAR_REGRESSION = Algorithm(
    name="linear-regression",
    summary="fit a line by gradient descent, walking down the MSE surface over (w, b)",
    config=LinRegConfig,
    trainer=LinRegTrainer,
    dataset=default_dataset,
    scene=linreg_scene,
    dataset_help=DATASET_HELP,
    load_data=load_xy,
    data_help="two numeric columns, x then y (a header row is optional); --columns X,Y "
              "(or --columns X --label Y) choose them from more",
    dataset_params=("dataset",),
    schedule=linreg_schedule,
    fps=8.0,
)

# A sweep over lr: too small (crawls), good, too large (diverges: shown, not refused). On a
# quadratic, gradient descent's loss only rises when it diverges: ten times is plenty.
declare_sweep(LINEAR_REGRESSION, values={"lr": (0.003, 0.1, 1.05)},
              trainer=partial(LinRegTrainer, allow_divergence=True), divergence=10.0)


@hookimpl
def mlviz_algorithms():
    return [LINEAR_REGRESSION]


@hookimpl
def mlviz_panels():
    return [FitPanel, SurfacePanel, LossPanel]
