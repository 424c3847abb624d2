"""Registers the ``linear-regression`` algorithm and its panels with mlviz."""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from mlviz import Algorithm, FrameSchedule, Run, Scene, hookimpl
from mlviz.story import Chapter, Story
from mlviz.sweep import declare_sweep

from .datasets import DATASET_HELP, default_dataset, load_xy
from .panels import FitPanel, LossPanel, SurfacePanel
from .trainer import AUTO_LR_FRACTION, LinRegConfig, LinRegTrainer, Problem

#: Raw x: every epoch to 30, every 2nd to 60, every 4th to 100, then sparse (about 65
#: frames at 200): the narrow valley keeps the loss moving all along.
EARLY_STEPS = ((30, 1), (60, 2), (100, 4))
LATE_FRAMES = 35
#: z-scored x: the loss is "flat" once its excess over least squares is this share of the
#: start's; the frames after it are at most this share of the frames before it.
FLAT_EXCESS, FLAT_SHARE = 1e-3, 0.2
MOVING_FRAMES = 60  # at most this many frames while the loss moves


def settling_epochs(config: LinRegConfig) -> int | None:
    """With z-scored x, the epochs after which the loss is flat, from the rate alone: the
    MSE's Hessian is 2·I there, so each step shrinks the distance to the minimum by
    ρ = |1 − 2·lr| and the excess loss by ρ² (``None``: raw x, where it depends on data)."""
    if not config.standardize:
        return None
    lr = config.lr or AUTO_LR_FRACTION / 2.0  # the automatic rate: 0.1/λmax, λmax = 2
    rho = abs(1.0 - 2.0 * lr)
    if rho == 0.0:
        return 1
    if rho >= 1.0:
        return config.epochs  # refused by the trainer: never settles
    return max(1, math.ceil(math.log(FLAT_EXCESS) / (2.0 * math.log(rho))))


def linreg_schedule(config: LinRegConfig) -> FrameSchedule:
    """Frames where the loss moves: with z-scored x, dense until it settles (computed from
    the rate) and a fifth as many frames after; with raw x dense early, sparse late. Long
    runs stay near 100 frames."""
    settle = settling_epochs(config)
    if settle is None:
        late = max(10, math.ceil((config.epochs - 100) / LATE_FRAMES))
        return FrameSchedule(steps=EARLY_STEPS, late_step=late)
    moving = min(settle, config.epochs)
    step = max(1, math.ceil(moving / MOVING_FRAMES))
    frames = math.ceil(moving / step)
    late = max(step, math.ceil((config.epochs - moving) / max(1, FLAT_SHARE * frames)))
    return FrameSchedule(steps=((moving, step),), late_step=late)


def linreg_scene(config: LinRegConfig) -> Scene:
    # a narrow empty column keeps the surface's z ticks off the loss panel's
    return Scene([FitPanel(), SurfacePanel(), LossPanel()],
                 title="Linear regression by gradient descent", mosaic="AB.C",
                 width_ratios=(1.2, 1.4, 0.06, 0.75), figsize=(12.8, 7.2))


def linreg_story(config: LinRegConfig, run: Run) -> Story:
    """Downhill, settling (the excess MSE under 5 % of the start's) and converged (under
    0.1 %), where the run gets there; on raw x (a narrow valley) the crawl along the valley
    floor starts when the steep direction's share of the excess is down to 1 %."""
    epochs, losses = run.history("loss")
    problem = Problem.from_dataset(run.dataset, config.standardize)
    best = float(problem.surface(*map(np.array, problem.least_squares())))
    excess = (losses - best) / max(losses[0] - best, 1e-300)
    low, high = problem.curvatures()
    valley = high / low >= 10
    u = "z" if config.standardize else "x"
    chapters = [Chapter("downhill", int(epochs[0]),
                        "Each step moves (w, b) against the gradient of the MSE: the line "
                        "swings towards the data.")]
    if valley:  # the steep direction is done when its share of the excess is 1 %
        lr = config.lr or AUTO_LR_FRACTION / high
        rho = abs(1.0 - lr * high)
        steep = math.ceil(math.log(0.01) / (2.0 * math.log(rho))) if 0 < rho < 1 else 1
        if int(epochs[0]) < steep <= int(epochs[-1]):
            chapters.append(Chapter(
                "along the valley floor", steep,
                "Down the steep side fast, then a crawl: along the valley the gradient is "
                "tiny, and so are the steps."))
    else:
        settling = np.nonzero(excess < 0.05)[0]
        if settling.size and int(epochs[settling[0]]) > chapters[-1].start:
            chapters.append(Chapter(
                "settling", int(epochs[settling[0]]),
                "The gradient shrinks near the minimum, and so do the steps: the line settles "
                "onto the least-squares line."))
    done = np.nonzero(excess < FLAT_EXCESS)[0]
    if done.size and int(epochs[done[0]]) > chapters[-1].start:
        chapters.append(Chapter("converged", int(epochs[done[0]]),
                                "The MSE is at its least-squares minimum: no line fits these "
                                "points better."))
    objective = rf"$\mathrm{{MSE}}(w, b) = \frac{{1}}{{n}}\sum_i\,(y_i - w\,{u}_i - b)^2$"
    return Story(tuple(chapters), objective=objective)


LINEAR_REGRESSION = Algorithm(
    name="linear-regression",
    summary="fit a line by gradient descent, walking down the MSE surface over (w, b)",
    config=LinRegConfig,
    trainer=LinRegTrainer,
    dataset=default_dataset,
    scene=linreg_scene,
    story=linreg_story,
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
