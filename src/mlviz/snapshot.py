"""Per-epoch training state, frozen so that panels can never change history."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np


def frozen_array(value: Any) -> np.ndarray:
    """A read-only copy of ``value`` (later in-place updates by a trainer cannot leak in)."""
    array = np.array(value, copy=True)
    array.flags.writeable = False
    return array


def _freeze(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return frozen_array(value)
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    return value


@dataclass(frozen=True)
class Snapshot:
    """The state of a training run after one epoch (or one step).

    ``epoch`` counts from 0 and increases strictly through a run; ``loss`` is a Python float;
    ``params`` maps parameter names to arrays. Algorithms subclass it (as frozen dataclasses)
    to add what their panels need: labels, predictions, centroids, ...

    Every array, including those inside ``params`` and in subclass fields, is copied and made
    read-only on construction.
    """

    epoch: int
    loss: float
    params: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "epoch", int(self.epoch))
        object.__setattr__(self, "loss", float(self.loss))
        for field in dataclasses.fields(self):
            if field.name in ("epoch", "loss"):
                continue
            object.__setattr__(self, field.name, _freeze(getattr(self, field.name)))
