"""Reusable panels shipped with mlviz, registered through the ``mlviz_panels`` hook."""

from __future__ import annotations

from ..hookspecs import hookimpl
from .landscape import LossLandscapePanel
from .loss import LossCurvePanel


@hookimpl
def mlviz_panels():
    return [LossCurvePanel, LossLandscapePanel]


__all__ = ["LossCurvePanel", "LossLandscapePanel"]
