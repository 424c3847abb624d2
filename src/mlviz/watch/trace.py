"""A parameter trace whose memory is bounded, however many epochs are recorded."""

from __future__ import annotations

import numpy as np

#: Default most parameter sets kept.
BUDGET = 256


class ParamTrace:
    """Keeps at most ``budget`` flattened parameter sets, spread evenly over the run.

    Every ``stride``-th epoch is kept; when the buffer is full every other row is dropped
    and the stride doubles. The buffer is allocated once (``budget × n_params``), and the
    latest parameters are kept apart, so memory never grows.
    """

    def __init__(self, n_params: int, budget: int = BUDGET, dtype=np.float32) -> None:
        if budget < 4:
            raise ValueError(f"budget must be at least 4, got {budget}")
        self.budget = budget
        self.rows = np.empty((budget, n_params), dtype=dtype)
        self.epochs = np.empty(budget, dtype=np.int64)
        self.count = 0
        self.stride = 1
        self.last = np.empty(n_params, dtype=dtype)
        self.last_epoch = -1

    def add(self, epoch: int, flat: np.ndarray) -> None:
        self.last[:] = flat
        self.last_epoch = epoch
        if epoch % self.stride:
            return
        if self.count == self.budget:
            half = self.budget // 2 + self.budget % 2
            self.rows[:half] = self.rows[: self.budget: 2]
            self.epochs[:half] = self.epochs[: self.budget: 2]
            self.count = half
            self.stride *= 2
            if epoch % self.stride:
                return
        self.rows[self.count] = flat
        self.epochs[self.count] = epoch
        self.count += 1

    def kept(self) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, rows) kept, the latest epoch always last (copies)."""
        epochs, rows = self.epochs[: self.count], self.rows[: self.count]
        if self.count and epochs[-1] == self.last_epoch:
            return epochs.copy(), rows.copy()
        return (np.append(epochs, self.last_epoch),
                np.concatenate([rows, self.last[None]]))

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + self.epochs.nbytes + self.last.nbytes


class Growing:
    """Rows of a fixed shape appended one at a time into one numpy buffer that doubles
    when full: 8 bytes a value, no Python object per epoch."""

    def __init__(self, shape: tuple[int, ...] = (), fill: float = np.nan) -> None:
        self.buffer = np.full((16, *shape), fill)
        self.fill = fill
        self.count = 0

    def append(self, value) -> None:
        if self.count == len(self.buffer):
            grown = np.full((2 * len(self.buffer), *self.buffer.shape[1:]), self.fill)
            grown[: self.count] = self.buffer
            self.buffer = grown
        self.buffer[self.count] = value
        self.count += 1

    def pad(self, count: int) -> None:
        """Fill up to ``count`` rows with the fill value (a metric first given late)."""
        while self.count < count:
            self.append(self.fill)

    def __len__(self) -> int:
        return self.count

    def array(self) -> np.ndarray:
        return self.buffer[: self.count].copy()

    @property
    def nbytes(self) -> int:
        return self.buffer.nbytes
