"""Registers the ``parabola`` algorithm and its panels with mlviz."""

from __future__ import annotations

import numpy as np

from mlviz import Algorithm, FrameSchedule, Scene, hookimpl
from mlviz.story import Chapter, Story

from .panels import ParabolaExtrapolationPanel, ParabolaFitPanel, ParabolaLossPanel
from .trainer import NETS, ParabolaConfig, ParabolaTrainer, default_dataset

#: Every epoch to 10, every 5th to 50, every 10th to 200, every 25th to 600, every 50th to
#: 2000, then every 100th: the fits change fast early and slowly late.
SCHEDULE = FrameSchedule(steps=((10, 1), (50, 5), (200, 10), (600, 25), (2000, 50)),
                         late_step=100)


def parabola_scene(config: ParabolaConfig) -> Scene:
    return Scene(
        [ParabolaFitPanel(), ParabolaExtrapolationPanel(), ParabolaLossPanel()],
        title="Two networks learn y = x²: fit inside the data, guess outside",
        width_ratios=(1.0, 1.25, 1.0), figsize=(12.8, 7.2),
    )


#: The loss each network minimises, as mathtext.
MSE_OBJECTIVE = r"$\mathrm{MSE} = \frac{1}{n}\sum_i \left(f(x_i) - x_i^2\right)^2$"


def parabola_story(config: ParabolaConfig, run) -> Story:
    """Both nets start off the data; the ReLU net fits it (its MSE below 1); then only the
    sigmoid net is still learning, slowly (once the ReLU net's MSE stays within 10 % of
    its final value)."""
    epochs = np.asarray(run.epochs)
    mse = np.asarray(run.trace("mse"), dtype=float)  # (epochs, NETS)
    relu = mse[:, NETS.index("relu")]
    chapters = [Chapter("start", int(epochs[0]),
                        "Both networks start far from the parabola; training pulls them onto "
                        "the data.")]
    fitted = np.flatnonzero(relu < 1.0)
    if len(fitted) and epochs[fitted[0]] > chapters[-1].start:
        chapters.append(Chapter("ReLU fits", int(epochs[fitted[0]]),
                                "The ReLU net bends its straight pieces onto the data; "
                                "beyond it, its lines just go on."))
    away = np.flatnonzero(~(relu <= 1.1 * relu[-1]))  # for good within 10 % of its last
    settled = int(away[-1] + 1) if len(away) else len(relu)
    if settled < len(relu) and epochs[settled] > chapters[-1].start:
        chapters.append(Chapter("sigmoid creeps", int(epochs[settled]),
                                "Only the sigmoid net still learns, slowly: its smooth steps "
                                "go flat outside the data."))
    return Story(tuple(chapters), objective=MSE_OBJECTIVE)


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
    story=parabola_story,
    fps=8.0,
)


@hookimpl
def mlviz_algorithms():
    return [PARABOLA]


@hookimpl
def mlviz_panels():
    return [ParabolaFitPanel, ParabolaExtrapolationPanel, ParabolaLossPanel]
