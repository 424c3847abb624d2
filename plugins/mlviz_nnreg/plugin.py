"""Registers the ``nn-regression`` algorithm and its panels with mlviz."""

from __future__ import annotations

import numpy as np

from mlviz import Algorithm, Scene, hookimpl
from mlviz.story import Chapter, Story

from .panels import FitPanel, NNRegLossPanel, ParamsPanel
from .trainer import NNRegConfig, NNRegTrainer, default_dataset, nnreg_schedule


def nnreg_scene(config: NNRegConfig) -> Scene:
    return Scene([FitPanel(), NNRegLossPanel(), ParamsPanel()],
                 title="A 1-3-1 tanh network learns y = x$^{1/3}$: Adam vs least squares",
                 width_ratios=(1.45, 1.0, 1.1), figsize=(12.8, 7.2))


#: The loss Adam minimises, as mathtext.
MSE_OBJECTIVE = r"$\mathrm{MSE} = \frac{1}{n}\sum_i \left(\hat y(x_i) - x_i^{1/3}\right)^2$"


def nnreg_story(config: NNRegConfig, run) -> Story:
    """Adam bends the three tanh units onto the data; once its MSE is below 10⁻³ the fit is
    close inside the data, and the lesson moves outside it."""
    epochs = np.asarray(run.epochs)
    losses = np.asarray(run.losses, dtype=float)
    chapters = [Chapter("fitting", int(epochs[0]),
                        "Adam bends three tanh units to follow y = x^(1/3) on the data.")]
    close = np.flatnonzero(losses < 1e-3)
    if len(close) and epochs[close[0]] > chapters[-1].start:
        chapters.append(Chapter("outside the data", int(epochs[close[0]]),
                                "Close inside the data; outside it nothing pins the fit, so "
                                "it follows whatever its tanh units do there."))
    return Story(tuple(chapters), objective=MSE_OBJECTIVE)


NN_REGRESSION = Algorithm(
    name="nn-regression",
    summary="a 1-3-1 tanh network fits y = x^(1/3) with Adam; least squares; extrapolation",
    config=NNRegConfig,
    trainer=NNRegTrainer,
    dataset=default_dataset,
    scene=nnreg_scene,
    dataset_help="n_points points of y = x^(1/3), evenly spaced on [0, fit_max]",
    no_data_reason="it is about one known function, y = x^(1/3): its panels draw the true "
                   "curve beside the fits and how each extrapolates beyond fit_max; change "
                   "the data with --set n_points=…, fit_max=…",
    schedule=nnreg_schedule,
    story=nnreg_story,
    fps=8.0,
)


@hookimpl
def mlviz_algorithms():
    return [NN_REGRESSION]


@hookimpl
def mlviz_panels():
    return [FitPanel, NNRegLossPanel, ParamsPanel]
