"""Registers the ``weight-nudging`` algorithm and its panels with mlviz."""

from __future__ import annotations

from mlviz import Algorithm, Run, Scene, hookimpl
from mlviz.story import Chapter, Story

from .panels import DataLinePanel, ErrorCurvePanel, ErrorStepsPanel, WeightPanel
from .trainer import GRADIENT, NudgingConfig, NudgingTrainer, default_dataset

#: The MSE the error curve draws and the mean error the stopping rule reads: on data
#: y = target·x, MSE = k · (mean error)² (k = mean(x²)/mean(x)²).
OBJECTIVE = (r"$\mathrm{MSE}(w) = \frac{1}{n}\sum_i (w\,x_i - y_i)^2"
             r" = k\,\bar{e}^2,\quad \bar{e} = \frac{1}{n}\sum_i (w\,x_i - y_i)$")


def nudging_scene(config: NudgingConfig) -> Scene:
    return Scene([DataLinePanel(), ErrorCurvePanel(), WeightPanel(), ErrorStepsPanel()],
                 title="Learning w in f(x) = w·x: fixed nudges, then gradient descent", cols=2,
                 figsize=(12.8, 7.2))


def nudging_story(config: NudgingConfig, run: Run) -> Story:
    """The two acts, each from its first step."""
    acts = run.trace("act")
    epochs = run.trace("epoch")
    chapters = [Chapter("act 1: fixed nudges", int(epochs[0]),
                        f"Each step moves w by {config.nudge:g} against the sign of the mean "
                        "error, however far w is from the target.")]
    second = epochs[acts == GRADIENT]
    if second.size:
        chapters.append(Chapter("act 2: gradient descent", int(second[0]),
                                "Gradient descent steps by lr × the slope of the MSE: big "
                                "steps far from the target, small ones near it."))
    return Story(tuple(chapters), objective=OBJECTIVE)


WEIGHT_NUDGING = Algorithm(
    name="weight-nudging",
    summary="learn w in f(x) = w·x by fixed ±0.05 nudges, then by gradient descent (SGD)",
    config=NudgingConfig,
    trainer=NudgingTrainer,
    dataset=default_dataset,
    scene=nudging_scene,
    story=nudging_story,
    dataset_help="f(x) = target·x at x = 1 … n_points",
    no_data_reason="it measures the learned weight against the known target slope (the data "
                   "are y = target·x): change them with --set target=…, n_points=…",
    fps=6.0,
)


@hookimpl
def mlviz_algorithms():
    return [WEIGHT_NUDGING]


@hookimpl
def mlviz_panels():
    return [DataLinePanel, ErrorCurvePanel, WeightPanel, ErrorStepsPanel]
