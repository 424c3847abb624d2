"""Registers the ``logistic-regression`` algorithm and its panels with mlviz."""

from __future__ import annotations

import numpy as np

from mlviz import Algorithm, FrameSchedule, Scene, hookimpl
from mlviz.story import Chapter, Story

from .datasets import default_dataset, load_labelled
from .panels import BCECurvePanel, DecisionBoundaryPanel, ProbabilitySurfacePanel
from .trainer import LogRegConfig, LogRegTrainer


def logreg_scene(config: LogRegConfig) -> Scene:
    return Scene([BCECurvePanel(), ProbabilitySurfacePanel(), DecisionBoundaryPanel()],
                 title="Logistic regression", width_ratios=(0.8, 1.6, 1.05),
                 figsize=(12.8, 7.2))


#: The frames are the epochs the trainer marks as keyframes (LogRegTrainer: where the
#: loss falls, then a few over the slow settling), and the first; none by a rhythm.
KEYFRAMES_ONLY = FrameSchedule(late_step=2**62)


def logreg_schedule(config: LogRegConfig) -> FrameSchedule:
    return KEYFRAMES_ONLY


OBJECTIVE = (r"$J(w, b) = -\frac{1}{n}\sum_{i=1}^{n}\left[y_i \ln p_i + (1 - y_i)"
             r"\ln(1 - p_i)\right],\ \ p_i = \sigma(w \cdot x_i + b)$")
#: What the last chapter says on data no straight line separates (failing is the lesson).
NOT_LINEAR = {
    "circles": "No straight line separates a disc from the ring around it: the best line "
               "leaves accuracy near chance.",
    "xor": "No straight line separates xor's diagonal corners: the best line gets about "
           "two in three right.",
}
#: The last chapter starts once the BCE is within this share of its final value.
SETTLED = 0.01


def logreg_story(config: LogRegConfig, run) -> Story:
    """Random start; the line moving into the gap; the slow settling of the BCE."""
    epochs, losses = run.trace("epoch"), run.trace("loss")
    chapters = [Chapter("the start", int(epochs[0]),
                        "Random weights: p is a tilted plane that separates nothing; "
                        "BCE ≈ ln 2 ≈ 0.69, a coin toss.")]
    if len(epochs) > 2:
        chapters.append(Chapter("the line moves", int(epochs[1]),
                                "Each step of gradient descent turns and shifts the line "
                                "p = 0.5 towards the gap between the classes."))
    final = float(losses[-1])
    settled = np.flatnonzero(np.abs(losses - final) <= SETTLED * abs(final))
    if settled.size and 1 < settled[0] < len(epochs) - 1:
        sentence = ("Now the line barely moves: the weights grow, p sharpens and the BCE "
                    "creeps to its minimum.")
        if getattr(config, "dataset", "") in NOT_LINEAR:
            sentence = NOT_LINEAR[config.dataset]
        chapters.append(Chapter("settling", int(epochs[settled[0]]), sentence))
    return Story(tuple(chapters), objective=OBJECTIVE)


LOGISTIC_REGRESSION = Algorithm(
    name="logistic-regression",
    summary="logistic regression by gradient descent on the binary cross-entropy",
    config=LogRegConfig,
    trainer=LogRegTrainer,
    dataset=default_dataset,
    scene=logreg_scene,
    dataset_help=(
        "breast cancer (Wisconsin Diagnostic, UCI, CC BY 4.0): worst concave points and worst "
        "perimeter, min-max scaled, 1 = benign; or --set dataset=blobs, moons, circles or "
        "xor (n_points, noise, seed)"
    ),
    load_data=load_labelled,
    data_help="two numeric feature columns and a label column of two classes (0/1, or any "
              "two values; the one sorted second is class 1), by default the last column; "
              "--columns A,B --label C choose them; features are min-max scaled",
    dataset_params=("dataset", "n_points", "noise"),
    schedule=logreg_schedule,
    fps=5.0,
    story=logreg_story,
)


@hookimpl
def mlviz_algorithms():
    return [LOGISTIC_REGRESSION]


@hookimpl
def mlviz_panels():
    return [BCECurvePanel, ProbabilitySurfacePanel, DecisionBoundaryPanel]
