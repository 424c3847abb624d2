"""The loss curve: the training loss up to the current epoch (a :class:`MetricCurvePanel`)."""

from __future__ import annotations

from .metric import MetricCurvePanel


class LossCurvePanel(MetricCurvePanel):
    """Loss per epoch, drawn up to the current frame, with the current value marked.

    Needs nothing but the loss, which every run records. The same as
    ``MetricCurvePanel("loss", label=ylabel, ...)``, with mlviz 0.1's arguments.
    """

    name = "loss-curve"

    def __init__(self, ylabel: str = "loss", title: str = "Loss", log: bool = False,
                 xlabel: str = "epoch") -> None:
        super().__init__("loss", label=ylabel, title=title, log=log, xlabel=xlabel)
