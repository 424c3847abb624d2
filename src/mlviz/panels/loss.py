"""The loss curve: the training loss up to the current epoch (a :class:`MetricCurvePanel`)."""

from __future__ import annotations

import warnings
from typing import Any

from .metric import MetricCurvePanel

#: Where mlviz 0.1 aligned the readout (a plugin that moves it expects this alignment).
OLD_ALIGNMENT = ("right", "top")


class _Label(str):
    """``LossCurvePanel.label``: the y label, a ``str`` since mlviz 0.2. In 0.1 the same
    attribute was the readout's ``Text``: what a ``str`` lacks is taken from the readout,
    with a :class:`DeprecationWarning`, so 0.1 plugins keep working."""

    _panel: LossCurvePanel

    def __getattr__(self, name: str) -> Any:
        readout = self.__dict__["_panel"].__dict__.get("readout")
        if name.startswith("__") or readout is None or not hasattr(readout, name):
            raise AttributeError(f"'str' object has no attribute {name!r}")
        warnings.warn("LossCurvePanel.label is the y label (a str) since mlviz 0.2; the "
                      f"readout text is LossCurvePanel.readout: use panel.readout.{name}",
                      DeprecationWarning, stacklevel=2)
        if (readout.get_horizontalalignment(), readout.get_verticalalignment()) \
                != OLD_ALIGNMENT:
            readout.set_horizontalalignment(OLD_ALIGNMENT[0])
            readout.set_verticalalignment(OLD_ALIGNMENT[1])
        return getattr(readout, name)


class LossCurvePanel(MetricCurvePanel):
    """Loss per epoch, drawn up to the current frame, with the current value marked.

    Needs nothing but the loss, which every run records. The same as
    ``MetricCurvePanel("loss", label=ylabel, ...)``, with mlviz 0.1's arguments.

    ``label`` is the y label and ``readout`` the text of the current values. (In mlviz 0.1
    ``label`` was the readout's text artist; moving it through ``label`` still works, aligned
    as in 0.1, with a :class:`DeprecationWarning`.)
    """

    name = "loss-curve"

    def __init__(self, ylabel: str = "loss", title: str = "Loss", log: bool = False,
                 xlabel: str = "epoch") -> None:
        super().__init__("loss", label=ylabel, title=title, log=log, xlabel=xlabel)

    @property
    def label(self) -> str:
        label = _Label(self.__dict__["_label"])
        label.__dict__["_panel"] = self
        return label

    @label.setter
    def label(self, value: str) -> None:
        self.__dict__["_label"] = str(value)

    @property
    def ylabel(self) -> str:
        """mlviz 0.1's name of :attr:`label` (deprecated)."""
        warnings.warn("LossCurvePanel.ylabel is deprecated since mlviz 0.2; use "
                      "LossCurvePanel.label", DeprecationWarning, stacklevel=2)
        return str(self.__dict__["_label"])
