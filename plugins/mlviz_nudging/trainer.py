"""Two acts on the same data and the same starting weight: fixed nudges, then PyTorch SGD.

Act 1 follows the reference notebook: the error is ``mean(w·x − y)`` (prediction minus
target); the weight moves by a fixed ``nudge`` against the error's sign until
``|error| ≤ tolerance``. Act 2 minimises the MSE with ``torch.optim.SGD`` (with momentum)
under the same stopping rule. One snapshot (one frame) per step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from mlviz import Config, ConfigError, Dataset, Snapshot, param

NUDGING, GRADIENT = 1, 2  # the two acts
DIVERGED = 1e6  # act 2 stops once its error grows this many times beyond the first one


@dataclass(frozen=True)
class NudgingConfig(Config):
    target: float = param(3.0, "true slope: the data are y = target·x", min=-100.0, max=100.0)
    n_points: int = param(6, "data at x = 1, 2, …, n_points", min=1, max=1000)
    w_low: float = param(0.0, "the starting weight is uniform in [w_low, w_high]",
                         min=-100.0, max=100.0)
    w_high: float = param(1.0, "upper end of the starting weight's range", min=-100.0,
                          max=100.0)
    nudge: float = param(0.05, "act 1: fixed step of the weight, against the error's sign",
                         min=1e-6, max=10.0)
    tolerance: float = param(0.1, "an act ends once |mean(w·x − y)| ≤ tolerance", min=1e-9,
                             max=1e3)
    lr: float = param(0.01, "act 2: SGD learning rate on the MSE", min=1e-6, max=10.0)
    momentum: float = param(0.2, "act 2: SGD momentum", min=0.0, max=0.99)
    max_steps: int = param(400, "most steps per act (if it never gets within tolerance)",
                           min=1, max=100_000)

    def validate(self) -> None:
        if self.w_low > self.w_high:
            raise ConfigError(f"w_low={self.w_low} must not exceed w_high={self.w_high}")


@dataclass(frozen=True)
class NudgingSnapshot(Snapshot):
    """One step of one act. ``loss`` is the MSE of ``weight``.

    ``error`` is ``mean(weight·x − y)``; ``grad`` is d MSE / d weight (from autograd in act 2,
    where SGD uses it; from the formula in act 1, where only its sign matters);
    ``next_weight`` is where this step takes the weight (``weight`` on an act's last step).
    ``weight`` and ``act`` are traced at every step: each act's path is the weights of the
    steps whose act it is.
    """

    traces: ClassVar[tuple[str, ...]] = ("weight", "act")

    act: int = NUDGING
    step: int = 0
    weight: float = 0.0
    next_weight: float = 0.0
    error: float = 0.0
    grad: float = 0.0
    done: bool = False


def mean_error(w: float | np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """mean(w·x − y), for one weight or an array of weights."""
    w = np.asarray(w, dtype=float)
    return w * x.mean() - y.mean()


def mse(w: float | np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """mean((w·x − y)²), for one weight or an array of weights."""
    w = np.asarray(w, dtype=float)
    return np.mean((np.multiply.outer(w, x) - y) ** 2, axis=-1)


def mse_grad(w: float | np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d MSE / d w = 2 · mean(x · (w·x − y))."""
    w = np.asarray(w, dtype=float)
    return 2.0 * np.mean(x * (np.multiply.outer(w, x) - y), axis=-1)


def mse_per_squared_error(x: np.ndarray) -> float:
    """k in MSE = k · (mean error)², exact on data y = target·x: the error of every point is
    (w − target)·x_i, so the MSE is (w − target)²·mean(x²) and the mean error (w −
    target)·mean(x); k = mean(x²) / mean(x)² (≥ 1; 1.24 for x = 1 … 6)."""
    x = np.asarray(x, dtype=float)
    return float(np.mean(x * x) / np.mean(x) ** 2)


def tolerance_band(x: np.ndarray, y: np.ndarray, tolerance: float) -> tuple[float, float]:
    """The weights whose |mean error| is within ``tolerance`` (mean(x) must be positive)."""
    mx, my = float(x.mean()), float(y.mean())
    return (my - tolerance) / mx, (my + tolerance) / mx


def start_weight(config: NudgingConfig) -> float:
    return float(np.random.default_rng(config.seed).uniform(config.w_low, config.w_high))


class NudgingTrainer:
    """Act 1 (nudges) then act 2 (SGD with momentum), from the same seeded weight."""

    def __init__(self, config: NudgingConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[NudgingSnapshot]:
        x, y = dataset.X[:, 0], np.asarray(dataset.y, dtype=float)
        w0 = start_weight(self.config)
        epoch = 0
        for step, (w, nxt, done) in enumerate(self._nudging(w0, x, y)):
            grad = float(mse_grad(w, x, y))  # not used by the nudges; drawn as the slope
            yield self._snapshot(epoch, NUDGING, step, w, nxt, grad, done, x, y)
            epoch += 1
        for step, (w, nxt, grad, done) in enumerate(self._descent(w0, x, y)):
            yield self._snapshot(epoch, GRADIENT, step, w, nxt, grad, done, x, y)
            epoch += 1

    @staticmethod
    def _snapshot(epoch, act, step, w, nxt, grad, done, x, y):
        return NudgingSnapshot(
            epoch=epoch, loss=float(mse(w, x, y)), params={"w": np.array([w])},
            act=act, step=step, weight=w, next_weight=nxt, error=float(mean_error(w, x, y)),
            grad=grad, done=done,
        )

    def _nudging(self, w: float, x: np.ndarray, y: np.ndarray):
        """Yield (weight, next weight, last step?) of the notebook's nudging loop."""
        config = self.config
        for step in range(config.max_steps + 1):
            error = float(mean_error(w, x, y))
            if abs(error) <= config.tolerance or step == config.max_steps:
                yield w, w, True
                return
            nxt = w - config.nudge if error >= 0 else w + config.nudge
            yield w, nxt, False
            w = nxt

    def _descent(self, w: float, x: np.ndarray, y: np.ndarray):
        """Yield (weight, next weight, autograd gradient, last step?) of SGD on the MSE."""
        import torch

        from mlviz.torchutil import PlainOptimizer

        config = self.config
        xt = torch.tensor(x, dtype=torch.float64)
        yt = torch.tensor(y, dtype=torch.float64)
        weight = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        # torch.optim.SGD's update, op for op, without torch.optim's seconds-long first import
        optimizer = PlainOptimizer("sgd", [weight], lr=config.lr, momentum=config.momentum)
        limit = DIVERGED * max(1.0, abs(float(mean_error(w, x, y))))
        for step in range(config.max_steps + 1):
            optimizer.zero_grad()
            loss = torch.mean((weight * xt - yt) ** 2)
            loss.backward()
            assert weight.grad is not None  # backward() just filled it
            current, grad = weight.item(), weight.grad.item()
            error = abs(float(mean_error(current, x, y)))
            if error <= config.tolerance or step == config.max_steps or not error < limit:
                yield current, current, grad, True  # within tolerance, out of steps, or diverged
                return
            optimizer.step()
            yield current, weight.item(), grad, False


def default_dataset(config: NudgingConfig) -> Dataset:
    x = np.arange(1.0, config.n_points + 1.0)
    return Dataset(x, config.target * x, feature_names=("x",), target_name="f(x)",
                   name="line", description=f"{config.n_points} points of f(x) = "
                   f"{config.target:g}·x")
