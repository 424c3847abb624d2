"""Registers the ``neural-network`` algorithm: a from-scratch network fitting a saddle."""

from __future__ import annotations

from mlviz import Algorithm, Scene, hookimpl
from mlviz.panels import LossCurvePanel, LossLandscapePanel
from mlviz.sweep import declare_sweep

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
    no_data_reason="its surface panel draws the fit on the dims × dims grid of the saddle "
                   "z = y² − x², which a table of points does not give; use --set dims=N to "
                   "sample it more finely",
    schedule=nn_schedule,
    fps=5.0,
)


def nn_sweep_scene(config: NNConfig) -> Scene:
    """For a sweep: every run's MSE on one axis, and each run's fitted surface."""
    backend = "PyTorch" if config.backend == "torch" else "numpy, from scratch"
    return Scene([LossCurvePanel(ylabel="MSE", title="Mean squared error", log=True),
                  SurfacePanel()],
                 title=f"Neural network ({config.activation}, {backend})",
                 width_ratios=(1.0, 1.2))


# A sweep over hidden widths: 2 units cannot bend into the saddle, 4 can, 16 fit it closely.
declare_sweep(NEURAL_NETWORK, values={"layers": ((2, 2, 1), (2, 4, 1), (2, 16, 1))},
              scene=nn_sweep_scene)


@hookimpl
def mlviz_algorithms():
    return [NEURAL_NETWORK]


@hookimpl
def mlviz_panels():
    return [SurfacePanel]
