"""Which epochs become frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The notebooks' rhythm: every epoch to 4, every 5th to 15, every 25th to 50,
#: every 200th to 1000, then every 500th. (upper bound, step) pairs.
NOTEBOOK_STEPS: tuple[tuple[int, int], ...] = ((4, 1), (15, 5), (50, 25), (1000, 200))
NOTEBOOK_LATE_STEP = 500


@dataclass(frozen=True)
class FrameSchedule:
    """Chooses the snapshots to draw from the epochs of a finished training run.

    ``steps`` is a dense-early, sparse-late rhythm of (up-to-epoch, step) pairs, after which
    every ``late_step``-th epoch is drawn; ``steps=()`` and ``late_step=1`` draw every epoch.
    ``budget`` caps the number of frames by thinning the chosen epochs evenly. The last
    snapshot is always drawn, so the animation ends on the trained state.
    """

    steps: tuple[tuple[int, int], ...] = ()
    late_step: int = 1
    budget: int | None = None

    def __post_init__(self) -> None:
        if self.late_step < 1 or any(step < 1 for _, step in self.steps):
            raise ValueError("schedule steps must be ≥ 1")
        if self.budget is not None and self.budget < 1:
            raise ValueError("frame budget must be ≥ 1")

    @classmethod
    def every(cls, budget: int | None = None) -> FrameSchedule:
        """Draw every epoch (thinned to ``budget`` frames if given)."""
        return cls(budget=budget)

    @classmethod
    def notebook(cls, budget: int | None = None) -> FrameSchedule:
        """Dense early, sparse late, as in the reference notebooks."""
        return cls(steps=NOTEBOOK_STEPS, late_step=NOTEBOOK_LATE_STEP, budget=budget)

    def with_budget(self, budget: int | None) -> FrameSchedule:
        """This schedule capped at ``budget`` frames (``None`` keeps the current budget)."""
        if budget is None:
            return self
        return FrameSchedule(self.steps, self.late_step, budget)

    def wants(self, epoch: int) -> bool:
        """Whether the rhythm (before any budget) draws ``epoch``."""
        for upper, step in self.steps:
            if epoch <= upper:
                return epoch % step == 0
        return epoch % self.late_step == 0

    def select(self, epochs: Sequence[int]) -> list[int]:
        """Positions (indices into ``epochs``) of the snapshots to draw, in order."""
        if len(epochs) == 0:
            return []
        chosen = [i for i, epoch in enumerate(epochs) if self.wants(int(epoch))]
        last = len(epochs) - 1
        if not chosen or chosen[-1] != last:
            chosen.append(last)
        if self.budget is not None and len(chosen) > self.budget:
            if self.budget == 1:
                return [last]
            picks = np.unique(np.round(np.linspace(0, len(chosen) - 1, self.budget)).astype(int))
            chosen = [chosen[p] for p in picks]
        return chosen
