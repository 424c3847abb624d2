"""Registers the ``neural-network`` algorithm: a from-scratch network fitting a saddle."""

from __future__ import annotations

from mlviz import Algorithm, Scene, hookimpl
from mlviz.panels import LossCurvePanel, LossLandscapePanel

from .panels import SurfacePanel
from .trainer import NNConfig, landscape_loss, make_trainer, nn_schedule, saddle


def last_layer_landscape(config: NNConfig) -> LossLandscapePanel:
    """MSE over the first two weights of the output layer, w + δ, around the current weights."""
    count = len(config.layers) - 1
    last = f"layer{count}.weight"
    return LossLandscapePanel(
        landscape_loss, weights=((last, (0, 0)), (last, (0, 1))), follow=True,
        schedule=nn_schedule, span=1.5, resolution=21, title="MSE around the output weights",
        zlabel="", labels=(f"W{count}[0,0]", f"W{count}[0,1]"), zoom=0.9)


def nn_scene(config: NNConfig) -> Scene:
    sizes = "-".join(map(str, config.layers))
    backend = "PyTorch" if config.backend == "torch" else "numpy, from scratch"
    return Scene(
        [LossCurvePanel(ylabel="MSE", title="Mean squared error"), SurfacePanel(),
         last_layer_landscape(config)],
        title=f"Neural network {sizes} ({config.activation}, {backend})",
        width_ratios=(0.9, 1.3, 1.3),
    )


NEURAL_NETWORK = Algorithm(
    name="neural-network",
    summary="a from-scratch neural network (or its PyTorch twin) fitting the saddle z = y² − x²",
    config=NNConfig,
    trainer=make_trainer,
    dataset=saddle,
    scene=nn_scene,
    dataset_help="z = y² − x² sampled on a dims × dims grid over [−1, 1]² (dims)",
    schedule=nn_schedule,
    fps=5.0,
)


@hookimpl
def mlviz_algorithms():
    return [NEURAL_NETWORK]


@hookimpl
def mlviz_panels():
    return [SurfacePanel]
