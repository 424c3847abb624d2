"""Registers ``watched-model``: the scene of a PyTorch model recorded by :func:`mlviz.watch`.

A watched run comes from the user's own training loop, so this algorithm has no trainer of
its own: ``mlviz render watched-model`` says how to record one. Its records render like
any run's (``mlviz render run.npz -o run.gif``, every format, ``--theme``, ``--panel``).
"""

from __future__ import annotations

from mlviz import Algorithm, Dataset, MlvizError, Scene, hookimpl
from mlviz.panels import MetricCurvePanel
from mlviz.watch.model import ALGORITHM, WatchConfig

from .panels import (
    DecisionRegionsPanel,
    HiddenActivationsPanel,
    LayerNormsPanel,
    PlaneLandscapePanel,
    PlaneLossPanel,
)

HOW = (f"{ALGORITHM} draws a model recorded by your own loop: record one with "
       "mlviz.watch(model, data=(X, y), loss=loss_fn), then render the record "
       "(mlviz render run.npz -o run.gif)")


class RecordOnly:
    """The trainer of ``watched-model``: it cannot train by itself (the user's loop does).

    ``record_only`` tells tools that train every algorithm (the gallery, the conformance
    check) to draw this one from a record instead."""

    record_only = True

    def __init__(self, config: WatchConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset):
        raise MlvizError(HOW)


def no_dataset(config: WatchConfig) -> Dataset:
    raise MlvizError(HOW)


def watch_scene(config: WatchConfig) -> Scene:
    """What the model and data allow: the landscape on the trajectory's PCA plane (a 2 x 2
    block), then, filling the grid in reading order, the decision regions (2-D inputs,
    classes), the last hidden layer's activations, weight and gradient norms per layer,
    the metrics, and the loss on the plane against the true loss."""
    layers = tuple(config.layer_names())
    small: list = []
    if config.regions:
        small.append(DecisionRegionsPanel())
    if config.hidden:
        small.append(HiddenActivationsPanel())
    small += [LayerNormsPanel("weight_norms", layers, "Weight norms", "‖W‖"),
              LayerNormsPanel("grad_norms", layers, "Gradient norms", "‖∇W‖")]
    metrics = config.metric_names()
    small.append(MetricCurvePanel("loss", label="loss", title="Loss (your loop)"))
    for name in metrics[1:2]:
        better = "acc" in name.lower()
        small.append(MetricCurvePanel(name, label=name, higher_is_better=better,
                                      title=name.replace("_", " ").capitalize()))
    small.append(PlaneLossPanel())
    panels = [PlaneLandscapePanel(), *small]
    letters = "ABCDEFGHIJ"
    top, rest = small[:4], small[4:]
    right = [letters[1 + k] for k in range(len(top))]
    rows = [f"AA{''.join(right[:2])}", f"AA{''.join(right[2:4])}"]
    if rest:
        spans = [4 // len(rest)] * len(rest)
        spans[-1] += 4 - sum(spans)
        rows.append("".join(letters[5 + k] * span for k, span in enumerate(spans)))
    title = f"Watched model: {config.model} ({config.n_params:,} parameters)"
    if config.diverged >= 0:
        title += f" — diverged at epoch {config.diverged}"
    return Scene(panels, title=title, mosaic=";".join(rows), figsize=(12.8, 7.2))


WATCHED_MODEL = Algorithm(
    name=ALGORITHM,
    summary="a PyTorch model trained by your own loop, recorded with mlviz.watch(...)",
    config=WatchConfig,
    trainer=RecordOnly,
    dataset=no_dataset,
    scene=watch_scene,
    dataset_help="none: the data is the evaluation subset given to mlviz.watch(...)",
    no_data_reason="the data of a watched model is given to mlviz.watch(...) in Python",
    fps=8.0,
    record_only=True,
)


@hookimpl
def mlviz_algorithms():
    return [WATCHED_MODEL]


@hookimpl
def mlviz_panels():
    return [PlaneLandscapePanel, PlaneLossPanel, LayerNormsPanel, DecisionRegionsPanel,
            HiddenActivationsPanel]
