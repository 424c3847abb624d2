"""Registers the ``optimizers`` algorithm and its panels with mlviz."""

from __future__ import annotations

from mlviz import Algorithm, FrameSchedule, Scene, hookimpl
from mlviz.sweep import declare_sweep

from .panels import RaceContourPanel, RaceLossPanel, RaceSurfacePanel
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
        width_ratios=(1.1, 1.2, 0.9), legend="lower center",
    )


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
)

# A sweep over SGD's learning rate on Rosenbrock: too small (it crawls down the wall), one
# that reaches the minimum in time, and one that diverges (the racer drops out); the other
# three racers, the same in every run, are the yardstick.
def race_sweep_scene(config: OptimizersConfig) -> Scene:
    """For a sweep: each run's paths on the contours, and its loss curves."""
    return Scene([RaceContourPanel(), RaceLossPanel()],
                 title=f"Optimizers on the {config.surface.capitalize()} function",
                 width_ratios=(1.0, 1.0), legend="lower center")


declare_sweep(OPTIMIZERS_ALGORITHM, values={"lr_sgd": (0.0005, 0.002, 0.003)},
              scene=race_sweep_scene)


@hookimpl
def mlviz_algorithms():
    return [OPTIMIZERS_ALGORITHM]


@hookimpl
def mlviz_panels():
    return [RaceContourPanel, RaceSurfacePanel, RaceLossPanel]
