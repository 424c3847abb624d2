"""The one-line errors of :func:`mlviz.watch`."""

from __future__ import annotations

from ..errors import MlvizError


class WatchError(MlvizError, ValueError):
    """A watched model cannot be recorded: model and data that do not fit, a loss that is
    not a scalar, an empty run, a recorder saved twice."""
