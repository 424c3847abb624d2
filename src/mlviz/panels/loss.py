"""The loss curve: the training history up to the current epoch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..panel import Panel
from ..style import LOSS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..snapshot import Snapshot
    from ..trainer import Run


class LossCurvePanel(Panel):
    """Loss per epoch, drawn up to the current frame, with the current value marked."""

    name = "loss-curve"

    def __init__(self, ylabel: str = "loss", title: str = "Loss", log: bool = False,
                 xlabel: str = "epoch") -> None:
        self.ylabel = ylabel
        self.title = title
        self.log = log
        self.xlabel = xlabel

    def setup(self, ax: Axes, run: Run) -> None:
        self.ax = ax
        self.run = run
        epochs, losses = run.epochs, run.losses
        finite = losses[np.isfinite(losses)]
        ax.set_title(self.title)
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.ylabel)
        ax.grid(True)
        last = max(int(epochs[-1]), 1)
        ax.set_xlim(-0.02 * last, last * 1.02)
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            if self.log and lo > 0:
                ax.set_yscale("log")
                ax.set_ylim(lo / 1.5, hi * 1.5)
            else:
                pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
                ax.set_ylim(lo - pad, hi + pad)
        (self.line,) = ax.plot([], [], color=LOSS)
        (self.marker,) = ax.plot([], [], "o", color=LOSS, markersize=5)
        self.label = ax.text(0.97, 0.95, "", transform=ax.transAxes, ha="right", va="top",
                             fontsize=9, family="DejaVu Sans Mono")

    def update(self, snapshot: Snapshot):
        epochs, losses = self.run.losses_until(snapshot.epoch)
        self.line.set_data(epochs, losses)
        self.marker.set_data([snapshot.epoch], [snapshot.loss])
        self.label.set_text(f"epoch {snapshot.epoch}\n{self.ylabel} {snapshot.loss:.4g}")
        return [self.line, self.marker, self.label]
