"""Registers the ``nn-regression`` algorithm and its panels with mlviz."""

from __future__ import annotations

from mlviz import Algorithm, Scene, hookimpl

from .panels import FitPanel, NNRegLossPanel, ParamsPanel
from .trainer import NNRegConfig, NNRegTrainer, default_dataset, nnreg_schedule


def nnreg_scene(config: NNRegConfig) -> Scene:
    return Scene([FitPanel(), NNRegLossPanel(), ParamsPanel()],
                 title="A 1-3-1 tanh network learns y = x$^{1/3}$: Adam vs least squares",
                 width_ratios=(1.45, 1.0, 1.1))


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
    fps=8.0,
)


@hookimpl
def mlviz_algorithms():
    return [NN_REGRESSION]


@hookimpl
def mlviz_panels():
    return [FitPanel, NNRegLossPanel, ParamsPanel]
