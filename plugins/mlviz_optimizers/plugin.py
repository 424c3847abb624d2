"""Registers the ``optimizers`` algorithm and its panels with mlviz."""

from __future__ import annotations

import numpy as np

from mlviz import Algorithm, FrameSchedule, Scene, hookimpl
from mlviz.story import Chapter, Story
from mlviz.sweep import declare_sweep

from .panels import RaceContourPanel, RaceLossPanel, RaceSurfacePanel
from .surfaces import OPTIMIZERS
from .trainer import OptimizersConfig, RaceTrainer, race_dataset

FRAMES = 100  # about this many frames, dense where the racers move fast (early)


def race_schedule(config: OptimizersConfig) -> FrameSchedule:
    """Every step for the first 2 %, then evenly thinner: about FRAMES frames in all."""
    steps = config.n_steps
    early = max(steps // 50, 1)
    late = max(steps // FRAMES, 1)
    return FrameSchedule(steps=((early, 1), (steps // 5, max(late // 2, 1))), late_step=late)


def race_scene(config: OptimizersConfig) -> Scene:
    return Scene(
        [RaceContourPanel(), RaceSurfacePanel(), RaceLossPanel()],
        title="SGD, momentum, RMSprop and Adam race on the "
              f"{config.surface.capitalize()} function",
        width_ratios=(1.1, 1.2, 0.9), figsize=(12.8, 7.2),
    )


#: What each surface's race minimises, as mathtext.
OBJECTIVES = {
    "rosenbrock": r"$\min_{x,y}\ f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$",
    "saddle": r"$\min_{x,y}\ f(x, y) = x^2 - y^2 + y^4/4$",
    "himmelblau": r"$\min_{x,y}\ f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2$",
}
#: A racer is "at the minimum" once f − f_min is below this.
AT_MINIMUM = 1e-3


def race_story(config: OptimizersConfig, run) -> Story:
    """The start; the step where every racer has come down to half the start's f − f_min
    (the flat part, where they differ); the first racer to reach the minimum; the finish."""
    epochs = run.trace("epoch")
    gap = run.trace("values") - config.spec.f_min
    names = [name for _, name in OPTIMIZERS]
    chapters = [Chapter("the start", int(epochs[0]),
                        "All four start at the same point and step downhill, each by its own "
                        "update rule and learning rate.")]
    below = np.where(np.isfinite(gap), gap, -np.inf) <= 0.5 * np.nanmax(gap[0])
    flat = np.flatnonzero(below.all(axis=1))
    if flat.size and 0 < flat[0] < len(epochs) - 1:
        chapters.append(Chapter("the flat part", int(epochs[flat[0]]),
                                "The steep part is done fast; on the flat part the update "
                                "rules differ: momentum and adaptive steps pull ahead."))
    reached = np.isfinite(gap) & (gap <= AT_MINIMUM)
    if reached.any():
        first = int(np.flatnonzero(reached.any(axis=1))[0])
        if first > chapters[-1].start and first < len(epochs) - 1:
            who = names[int(np.flatnonzero(reached[first])[0])]
            chapters.append(Chapter("first at the minimum", int(epochs[first]),
                                    f"{who} is the first within {AT_MINIMUM:g} of the "
                                    f"minimum, after {int(epochs[first])} steps."))
    last = gap[-1]
    order = [names[k] for k in np.argsort(np.where(np.isfinite(last), last, np.inf))]
    out = [names[k] for k in range(len(names)) if not np.isfinite(last[k])]
    ending = f" {', '.join(out)} diverged." if out else ""
    chapters.append(Chapter("the finish", int(epochs[-1]),
                            f"After {int(epochs[-1])} steps, closest to the minimum: "
                            f"{', '.join(n for n in order if n not in out)}.{ending}"))
    return Story(tuple(chapters), objective=OBJECTIVES[config.surface])


OPTIMIZERS_ALGORITHM = Algorithm(
    name="optimizers",
    summary="SGD, momentum, RMSprop and Adam (torch.optim) race on Rosenbrock, a saddle "
            "or Himmelblau",
    config=OptimizersConfig,
    trainer=RaceTrainer,
    dataset=race_dataset,
    scene=race_scene,
    dataset_help="no data: the surface (--set surface=…) is the objective, "
                 "and the start point (--set start=…) is shared by all",
    no_data_reason="the optimizers race on a mathematical surface, not on data: choose it "
                   "with --set surface=rosenbrock, saddle or himmelblau",
    schedule=race_schedule,
    fps=10.0,
    story=race_story,
)

# A sweep over SGD's learning rate on Rosenbrock: too small (it crawls down the wall), one
# that reaches the minimum in time, and one that diverges (the racer drops out); the other
# three racers, the same in every run, are the yardstick.
def race_sweep_scene(config: OptimizersConfig) -> Scene:
    """For a sweep: each run's paths on the contours, and its loss curves."""
    return Scene([RaceContourPanel(), RaceLossPanel()],
                 title=f"Optimizers on the {config.surface.capitalize()} function",
                 width_ratios=(1.0, 1.0), figsize=(12.8, 7.2))


declare_sweep(OPTIMIZERS_ALGORITHM, values={"lr_sgd": (0.0005, 0.002, 0.003)},
              scene=race_sweep_scene)


@hookimpl
def mlviz_algorithms():
    return [OPTIMIZERS_ALGORITHM]


@hookimpl
def mlviz_panels():
    return [RaceContourPanel, RaceSurfacePanel, RaceLossPanel]
