"""What a watched run's record holds besides the traces: its config and its snapshots.

Imports numpy only, so the ``watched-model`` plugin registers without torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..config import Config, param
from ..snapshot import Snapshot

#: The algorithm name a watched run is recorded under.
ALGORITHM = "watched-model"


@dataclass(frozen=True)
class WatchConfig(Config):
    """What was watched: the model, its data and what the record holds.

    Filled in by the recorder; the scene is chosen from it (which panels the model and data
    allow), so a record renders the same scene wherever it is loaded.
    """

    model: str = param("model", "the watched model, summarised (layers, parameters)")
    n_params: int = param(0, "number of trainable parameters", min=0)
    input_shape: str = param("2", "shape of one input (e.g. 2, or 1x8x8)")
    eval_note: str = param("", "which evaluation subset the landscape, regions and "
                               "activations are computed on")
    metrics: str = param("loss", "comma-separated names of the metrics passed to epoch()")
    layers: str = param("", "comma-separated names of the layers whose norms are traced")
    classes: int = param(0, "number of classes of the targets (0: not a classification)",
                         min=0)
    regions: bool = param(False, "whether decision regions are drawn (2-D inputs, classes)")
    hidden: bool = param(False, "whether the last hidden layer's activations are drawn")
    resolution: int = param(31, "landscape grid points along each direction", min=3, max=201)
    directions: str = param("pca", "the landscape's plane: the path's PCA plane (pca) or "
                                   "filter-normalised random directions through the last "
                                   "parameters (filter, Li et al. 2018)",
                            choices=("pca", "filter"))
    budget: int = param(256, "most parameter sets kept in the trace (thinned evenly)", min=4)
    diverged: int = param(-1, "first epoch whose loss or parameters were not finite (-1: none)",
                          min=-1)

    def metric_names(self) -> list[str]:
        return [m for m in self.metrics.split(",") if m]

    def layer_names(self) -> list[str]:
        return [m for m in self.layers.split(",") if m]


def _empty_grid() -> np.ndarray:
    return np.zeros((0, 0), dtype=np.int8)


def _empty_points() -> np.ndarray:
    return np.zeros((0, 2))


@dataclass(frozen=True)
class WatchSnapshot(Snapshot):
    """One drawn epoch of a watched model.

    ``regions``: the predicted class on the decision-region grid (empty where regions are
    not drawn); ``hidden``: the shown evaluation points' last-hidden-layer activations
    projected on their first two principal components (empty where not drawn).
    """

    traces: ClassVar[tuple[str, ...]] = ()

    regions: np.ndarray = field(default_factory=_empty_grid)
    hidden: np.ndarray = field(default_factory=_empty_points)


def summarize(model) -> str:
    """The model in one short line: its layers with parameters (activations, pooling and
    reshaping left out), e.g. ``Conv2d 1→16, Linear 128→10``."""
    leaves = [m for m in model.modules()
              if not list(m.children()) and any(True for _ in m.parameters(recurse=False))]
    parts = []
    for m in leaves:
        name = type(m).__name__
        if hasattr(m, "in_features") and hasattr(m, "out_features"):
            name += f" {m.in_features}→{m.out_features}"
        elif hasattr(m, "in_channels") and hasattr(m, "out_channels"):
            name += f" {m.in_channels}→{m.out_channels}"
        parts.append(name)
    text = ", ".join(parts) if parts else type(model).__name__
    return text if len(text) <= 90 else text[:87] + "…"
