"""Per-epoch training state, frozen so that panels can never change history."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


def frozen_array(value: Any) -> np.ndarray:
    """A read-only copy of ``value`` (later in-place updates by a trainer cannot leak in)."""
    array = np.array(value, copy=True)
    array.flags.writeable = False
    return array


class FrozenDict(dict):
    """A dict that refuses changes after construction, and pickles (unlike ``MappingProxyType``)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a snapshot's mappings are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self):
        return (FrozenDict, (dict(self),))


def _freeze(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return frozen_array(value)
    if isinstance(value, Mapping):
        return FrozenDict({k: _freeze(v) for k, v in value.items()})
    return value


@dataclass(frozen=True)
class Snapshot:
    """The state of a training run after one epoch (or one step).

    ``epoch`` counts from 0 and increases strictly through a run; ``loss`` is a Python float;
    ``params`` maps parameter names to arrays. Algorithms subclass it (as frozen dataclasses)
    to add what their panels need: labels, predictions, centroids, ...

    ``traces`` (a class attribute) names the values that :func:`mlviz.train` records at
    *every* epoch, whatever the frame schedule: a field of the subclass (a number, or an
    array of the same shape every epoch), ``"params.NAME"`` for one parameter, or
    ``"params"`` for all of them. Panels read them with :meth:`mlviz.Run.trace`, so a curve
    or a path never depends on how many frames are drawn. ``loss`` is always recorded.

    Every array, including those inside ``params`` and in subclass fields, is copied and made
    read-only on construction.
    """

    traces: ClassVar[tuple[str, ...]] = ()

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

    def value(self, name: str) -> Any:
        """The value a trace or a panel requirement calls ``name``: a field or ``params.KEY``."""
        head, dot, key = name.partition(".")
        if dot and head == "params":
            return self.params[key]
        return getattr(self, name)

    def validate(self, dataset: Any) -> None:
        """Raise ``ValueError`` if this snapshot cannot be drawn with ``dataset`` (the run's
        :class:`~mlviz.Dataset`): a label that names no cluster, a row per point missing.

        Called on every snapshot of a run record as it is loaded, after mlviz's own checks
        (every field present and of its declared type, arrays of one dimensionality and
        kind through the run, traced values equal to their trace, numbers within the
        recorded ranges): a record is a file anyone can edit, and what it holds must be
        refused with one line naming the file, not fail in a panel. A subclass whose panels
        index with its values checks them here; the default checks nothing more.
        """

    def has(self, name: str) -> bool:
        """Whether :meth:`value` knows ``name``."""
        head, dot, key = name.partition(".")
        if dot and head == "params":
            return key in self.params
        return name in {f.name for f in dataclasses.fields(self)}
