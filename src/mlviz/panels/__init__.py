"""Reusable panels shipped with mlviz, registered through the ``mlviz_panels`` hook.

Each declares the data it reads (``fields`` of the snapshot, ``traces`` of the run), so it
can be placed in any algorithm's scene whose snapshots provide them.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from .landscape import LossLandscapePanel
from .loss import LossCurvePanel
from .metric import MetricCurvePanel


@hookimpl
def mlviz_panels():
    return [LossCurvePanel, MetricCurvePanel, LossLandscapePanel]


__all__ = ["LossCurvePanel", "LossLandscapePanel", "MetricCurvePanel"]
