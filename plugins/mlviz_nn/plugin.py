"""Registers the ``neural-network`` algorithm: a from-scratch network fitting a saddle."""

from __future__ import annotations

import numpy as np

from mlviz import Algorithm, Run, Scene, hookimpl
from mlviz.panels import LossCurvePanel, LossLandscapePanel
from mlviz.story import Chapter, Story
from mlviz.sweep import declare_sweep

from .panels import PathPlaneLandscapePanel, SurfacePanel
from .trainer import NNConfig, landscape_loss, make_trainer, nn_schedule, saddle


def last_layer_landscape(config: NNConfig) -> LossLandscapePanel:
    """MSE over the first two weights of the output layer, w + δ, around the current weights."""
    count = len(config.layers) - 1
    last = f"layer{count}.weight"
    return LossLandscapePanel(
        landscape_loss, weights=((last, (0, 0)), (last, (0, 1))), follow=True,
        schedule=nn_schedule, span=1.5, resolution=21, title="MSE around the output weights",
        zlabel="", labels=(f"W{count}[0,0]", f"W{count}[0,1]"), zoom=0.9)


def descent_landscape(config: NNConfig) -> PathPlaneLandscapePanel:
    """MSE over the fixed plane through the final weights that holds the descent best."""
    return PathPlaneLandscapePanel(landscape_loss, zlabel="MSE", zoom=0.95, labels=("α", "β"))


def nn_scene(config: NNConfig) -> Scene:
    """The two 3D panels side by side above the loss curve, which runs the full width."""
    sizes = "-".join(map(str, config.layers))
    backend = "PyTorch" if config.backend == "torch" else "numpy, from scratch"
    return Scene(
        [SurfacePanel(), descent_landscape(config),
         LossCurvePanel(ylabel="MSE", title="Mean squared error")],
        title=f"Neural network {sizes} ({config.activation}, {backend})",
        mosaic="AB;CC", height_ratios=(2.3, 1.0), figsize=(12.8, 7.2),
    )


OBJECTIVE = r"$\mathrm{MSE}(W) = \frac{1}{n}\sum_i \left(f_W(x_i, y_i) - z_i\right)^2$"


def phase_starts(losses: np.ndarray, window: int = 10) -> tuple[int | None, ...]:
    """(plateau, descent, fine-tuning) start epochs of a loss history (``None``: no such
    phase): the plateau starts where the first fast fall ends (less than 0.2 % of the whole
    fall in ``window`` epochs); the descent where the loss is 10 % of the way from the
    plateau to the end; fine-tuning where 95 % of that way is done."""
    losses = np.asarray(losses, float)
    if len(losses) < 2 * window or not np.all(np.isfinite(losses)):
        return None, None, None
    fall = losses[0] - losses[-1]
    if fall <= 0:
        return None, None, None
    slow = np.nonzero(losses[:-window] - losses[window:] < 0.002 * fall)[0]
    plateau = int(slow[0]) if slow.size else None
    level = losses[plateau] if plateau is not None else losses[0]
    after = plateau or 0
    descent = np.nonzero(losses[after:] < level - 0.1 * (level - losses[-1]))[0]
    start = after + int(descent[0]) if descent.size else None
    done = np.nonzero(losses[after:] - losses[-1] < 0.05 * (level - losses[-1]))[0]
    tune = after + int(done[0]) if done.size else None
    if plateau is not None and start is not None and start - plateau < 5 * window:
        plateau = None  # no real plateau: the fall goes straight on
    return plateau, start, tune


def nn_story(config: NNConfig, run: Run) -> Story:
    """First steps, the plateau, the descent into the saddle and the fine-tuning, each
    starting where the run's loss history says (see :func:`phase_starts`)."""
    epochs, losses = run.history("loss")
    plateau, descent, tune = phase_starts(losses)
    chapters = [Chapter("first steps", int(epochs[0]),
                        "The first steps pull the network's output towards the mean of z: "
                        "the MSE falls fast, then stalls.")]
    for title, index, sentence in (
            ("the plateau", plateau, "On the plateau the output stays nearly flat: the "
                                     "gradient is small and the MSE barely moves."),
            ("into the saddle", descent, "The hidden units find the two curvatures: the "
                                         "surface bends into the saddle and the MSE drops."),
            ("fine-tuning", tune, "Gradient descent polishes the fit: the path settles in "
                                  "the valley and the MSE is close to its end value.")):
        if index is not None and int(epochs[index]) > chapters[-1].start:
            chapters.append(Chapter(title, int(epochs[index]), sentence))
    return Story(tuple(chapters), objective=OBJECTIVE)


NEURAL_NETWORK = Algorithm(
    name="neural-network",
    summary="a from-scratch neural network (or its PyTorch twin) fitting the saddle z = y² − x²",
    config=NNConfig,
    trainer=make_trainer,
    dataset=saddle,
    scene=nn_scene,
    story=nn_story,
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
    return [SurfacePanel, PathPlaneLandscapePanel]
