"""The perceptron: per-sample updates on the points it gets wrong.

Prediction: sign(w·x + b). For a misclassified point (y·(w·x + b) ≤ 0) the update is
w ← w + η y x, b ← b + η y: a step of gradient descent on that point's perceptron
criterion max(0, −y·(w·x + b)). The notebook calls this "hinge loss"; it is not (the hinge
loss has a margin, max(0, 1 − y·f)). The loss reported per epoch is the mean criterion
over all points, (1/n) Σ max(0, −yᵢ·(w·xᵢ + b)), with n the number of points.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from mlviz import Config, ConfigError, Dataset, Snapshot, param


@dataclass(frozen=True)
class PerceptronConfig(Config):
    moved = frozenset({"frames"})  # now the frame budget, --frames

    grid: int = param(5, "points per axis of the 3D grid in [-1, 1]³ (grid³ points)",
                      min=2, max=12)
    margin: float = param(0.05, "smallest distance of any grid point to the target plane "
                                "(no point lies on it)", min=0.001, max=0.3)
    lr: float = param(0.001, "learning rate η of the update w ← w + η y x, b ← b + η y",
                      min=1e-4, max=10.0)
    epochs: int = param(200, "most passes over the points", min=1, max=10_000)
    shuffle: bool = param(True, "visit the points in a new seeded order every epoch "
                                "(false: grid order)")
    stop_early: bool = param(True, "stop after the first epoch that ends with no "
                                   "misclassified point")


@dataclass(frozen=True)
class PerceptronSnapshot(Snapshot):
    """Weights after ``epoch`` epochs; ``loss`` is the mean perceptron criterion of these.

    Traced at every epoch: the mistakes and the weights (5 numbers an epoch).
    """

    traces: ClassVar[tuple[str, ...]] = ("misclassified", "params.w", "params.b")

    misclassified: int = 0
    updates: int = 0  # how many points changed the weights during this epoch


def criterion(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """Mean perceptron criterion (1/n) Σ max(0, −y·(w·x + b)), a float."""
    return float(np.mean(np.maximum(0.0, -y * (X @ w + b))))


def criterion_gradient(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float
) -> tuple[np.ndarray, float]:
    """(∇w, ∂/∂b) of the mean criterion where differentiable: −(1/n) Σ_{y·f < 0} y (x, 1)."""
    wrong = (y * (X @ w + b) < 0).astype(float)
    return -(X.T @ (wrong * y)) / len(y), float(-(wrong * y).sum() / len(y))


def misclassified(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Mask of the points on the wrong side of (or on) the plane w·x + b = 0."""
    return y * (X @ w + b) <= 0


def signed_distances(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """(w·x + b) / |w|: how far each point lies from the plane, positive on w's side."""
    return (X @ w + b) / np.linalg.norm(w)


class PerceptronTrainer:
    """Rosenblatt's perceptron from a seeded unit normal pointing away from the target."""

    def __init__(self, config: PerceptronConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[PerceptronSnapshot]:
        config = self.config
        X, y = dataset.X, np.asarray(dataset.y, dtype=float)
        rng = np.random.default_rng(config.seed + 1)
        w = _unit(np.asarray(rng.normal(size=X.shape[1]), dtype=float))
        target = dataset.extra.get("normal")
        if target is not None and w @ target > 0:
            w = -w  # start on the wrong side, so there is something to learn
        b = 0.0
        updates = 0
        for epoch in range(config.epochs + 1):
            wrong = misclassified(X, y, w, b)
            yield PerceptronSnapshot(epoch=epoch, loss=criterion(X, y, w, b),
                                     params={"w": w, "b": np.array(b)},
                                     misclassified=int(wrong.sum()), updates=updates)
            if epoch == config.epochs or (config.stop_early and not wrong.any()):
                return
            order = rng.permutation(len(y)) if config.shuffle else range(len(y))
            updates = 0
            for i in order:
                if y[i] * (X[i] @ w + b) <= 0.0:
                    w = w + config.lr * y[i] * X[i]
                    b = b + config.lr * y[i]
                    updates += 1


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def default_dataset(config: PerceptronConfig) -> Dataset:
    """A grid³ lattice in [-1, 1]³ labelled ±1 by a seeded plane no point is near."""
    axis = np.linspace(-1.0, 1.0, config.grid)
    X = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    rng = np.random.default_rng(config.seed)
    for _ in range(2000):
        normal = _unit(rng.normal(size=3))
        offset = float(rng.uniform(-0.3, 0.3))
        f = X @ normal + offset
        minority = min((f > 0).sum(), (f < 0).sum())
        if np.abs(f).min() >= config.margin and minority >= 0.2 * len(X):
            break
    else:
        raise ConfigError(
            f"no plane keeps margin={config.margin} from every point of a {config.grid}³ grid; "
            "lower margin or grid"
        )
    return Dataset(X, np.where(f > 0, 1, -1), feature_names=("x", "y", "z"), target_name="side",
                   name="grid", description=(
                       f"{len(X)} grid points labelled by the plane "
                       f"{normal[0]:.2f}x {normal[1]:+.2f}y {normal[2]:+.2f}z {offset:+.2f} = 0"),
                   extra={"normal": normal, "offset": offset})
