"""Registers the ``parabola`` algorithm and its panels with mlviz."""

from __future__ import annotations

from mlviz import Algorithm, FrameSchedule, Scene, hookimpl

from .panels import ParabolaExtrapolationPanel, ParabolaFitPanel, ParabolaLossPanel
from .trainer import ParabolaConfig, ParabolaTrainer, default_dataset

#: Every epoch to 10, every 5th to 50, every 10th to 200, every 25th to 600, every 50th to
#: 2000, then every 100th: the fits change fast early and slowly late.
SCHEDULE = FrameSchedule(steps=((10, 1), (50, 5), (200, 10), (600, 25), (2000, 50)),
                         late_step=100)


def parabola_scene(config: ParabolaConfig) -> Scene:
    return Scene(
        [ParabolaFitPanel(), ParabolaExtrapolationPanel(), ParabolaLossPanel()],
        title="Two networks learn y = x²: fit inside the data, guess outside",
        width_ratios=(1.0, 1.25, 1.0),
    )


PARABOLA = Algorithm(
    name="parabola",
    summary="a 1-2-1 sigmoid net and a 1-10-10-1 ReLU net fit y = x², then extrapolate",
    config=ParabolaConfig,
    trainer=ParabolaTrainer,
    dataset=default_dataset,
    scene=parabola_scene,
    dataset_help="n_points evenly spaced x on [−train_range, train_range], y = x² (+ noise)",
    no_data_reason="it is about one known function, y = x²: its panels draw the true "
                   "parabola inside and outside the data to show how each network "
                   "extrapolates; change the data with --set n_points=…, noise=…, train_range=…",
    schedule=lambda config: SCHEDULE,
    fps=8.0,
)


@hookimpl
def mlviz_algorithms():
    return [PARABOLA]


@hookimpl
def mlviz_panels():
    return [ParabolaFitPanel, ParabolaExtrapolationPanel, ParabolaLossPanel]
