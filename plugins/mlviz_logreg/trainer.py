"""Logistic regression trained by full-batch gradient descent (or per-sample SGD).

The model is p(y = 1 | x) = σ(w·x + b); the loss is the mean binary cross-entropy
L(w, b) = −(1/n) Σ [y ln p + (1 − y) ln(1 − p)], with p clipped away from 0 and 1.
Its gradient (derived in the notebook, §0.4.7) is ∇w L = (1/n) Σ xᵢ (pᵢ − yᵢ) and
∂L/∂b = (1/n) Σ (pᵢ − yᵢ).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from mlviz import Config, ConfigError, Dataset, Snapshot, param

EPS = 1e-12  # probabilities are clipped to [EPS, 1 − EPS] before taking logs
SGD_LR = 0.1  # the automatic learning rate of per-sample SGD
AUTO_EPOCHS = {"batch": 15_000, "sgd": 300}


@dataclass(frozen=True)
class LogRegConfig(Config):
    moved = frozenset({"frames"})  # now the frame budget, --frames

    dataset: Literal["breast-cancer", "blobs", "moons", "circles", "xor"] = param(
        "breast-cancer",
        "default data: two breast-cancer features, two overlapping blobs, or moons, circles "
        "and xor (no line separates those: see where a linear boundary fails); min-max "
        "scaled",
    )
    optimizer: Literal["batch", "sgd"] = param(
        "batch", "batch: full-batch gradient descent; sgd: one update per sample, shuffled"
    )
    lr: float = param(0.0, "learning rate; 0 picks 1.8/L for batch (L = λmax(XᵀX)/4n, the "
                           "BCE's smoothness constant; below 2/L the loss falls every epoch) "
                           "and 0.1 for sgd", min=0.0, max=100.0)
    epochs: int = param(0, "passes over the data; 0 picks enough to converge (batch 15000, "
                           "sgd 300)", min=0, max=1_000_000)
    n_points: int = param(200, "number of points of the blobs, moons, circles and xor data",
                          min=10, max=100_000)
    noise: float = param(0.13, "standard deviation of the Gaussian noise of those data (the "
                               "blobs' centres are 0.28 apart; the others span [−1, 1])",
                         min=0.0, max=1.0)
    grid: int = param(15, "resolution of the probability surface (grid points per axis)",
                      min=5, max=100)

    def validate(self) -> None:
        if self.optimizer == "sgd" and self.resolved_epochs > 20_000:
            raise ConfigError(
                f"epochs={self.epochs} is too many for optimizer=sgd (one Python step per "
                "sample); use at most 20000"
            )

    def resolved_lr(self, X: np.ndarray) -> float:
        """The learning rate: ``lr``, or the automatic one for these features."""
        if self.lr:
            return self.lr
        return 1.8 / smoothness(X) if self.optimizer == "batch" else SGD_LR

    @property
    def resolved_epochs(self) -> int:
        return self.epochs or AUTO_EPOCHS[self.optimizer]


@dataclass(frozen=True)
class LogRegSnapshot(Snapshot):
    """Parameters after ``epoch`` epochs; ``loss`` is the mean BCE of exactly these.

    ``accuracy`` (on the training data) is traced at every epoch, like the loss.
    ``keyframe``: an epoch worth drawing (:func:`paced_epochs`); the frames are these.
    """

    traces: ClassVar[tuple[str, ...]] = ("accuracy",)

    accuracy: float = 0.0
    keyframe: bool = False


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^−z), without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def probabilities(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return sigmoid(X @ w + b)


def bce(y: np.ndarray, p: np.ndarray) -> float:
    """Mean binary cross-entropy with clipped logs (a float)."""
    p = np.clip(p, EPS, 1.0 - EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def smoothness(X: np.ndarray) -> float:
    """L = λmax(X̃ᵀX̃) / 4n with X̃ = [X, 1]: the mean BCE's gradient is L-Lipschitz."""
    Xa = np.column_stack([X, np.ones(len(X))])
    return float(np.linalg.eigvalsh(Xa.T @ Xa).max() / (4 * len(X)))


def bce_gradient(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """(∇w L, ∂L/∂b) of the mean BCE: the hand-derived formulas."""
    residual = probabilities(X, w, b) - y
    return X.T @ residual / len(y), float(residual.mean())


class LogRegTrainer:
    """Gradient descent from seeded uniform [0, 1) weights, as in the notebook.

    The whole descent is computed first (a few numbers per epoch), so that the snapshots
    worth drawing can be marked as keyframes by how far the loss has fallen
    (:func:`paced_epochs`); then every epoch's snapshot is yielded.
    """

    def __init__(self, config: LogRegConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[LogRegSnapshot]:
        X, y = dataset.X, np.asarray(dataset.y, dtype=float)
        weights, biases, losses, accuracies = self.descend(X, y)
        drawn = set(paced_epochs(losses).tolist())
        for epoch, (w, b) in enumerate(zip(weights, biases)):
            yield LogRegSnapshot(epoch=epoch, loss=float(losses[epoch]),
                                 params={"w": w.copy(), "b": np.array(b)},
                                 accuracy=float(accuracies[epoch]), keyframe=epoch in drawn)

    def descend(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        """(w, b, mean BCE, accuracy) at every epoch 0 … epochs, as arrays over epochs."""
        config = self.config
        rng = np.random.default_rng(config.seed)
        w = np.asarray(rng.uniform(0.0, 1.0, X.shape[1]), dtype=float)
        b = float(rng.uniform(0.0, 1.0))
        lr, epochs = config.resolved_lr(X), config.resolved_epochs
        weights, biases = np.empty((epochs + 1, X.shape[1])), np.empty(epochs + 1)
        losses, accuracies = np.empty(epochs + 1), np.empty(epochs + 1)
        for epoch in range(epochs + 1):
            p = probabilities(X, w, b)
            weights[epoch], biases[epoch] = w, b
            losses[epoch] = bce(y, p)
            accuracies[epoch] = np.mean((p >= 0.5) == (y == 1))
            if epoch == epochs:
                break
            if config.optimizer == "batch":
                residual = p - y
                w = w - lr * (X.T @ residual) / len(y)
                b = b - lr * float(residual.mean())
            else:
                for i in rng.permutation(len(y)):
                    r = float(sigmoid(X[i] @ w + b)) - y[i]
                    w = w - lr * r * X[i]
                    b = b - lr * r
        return weights, biases, losses, accuracies


#: A frame each time the loss has fallen by another LOSS_STEP of its whole range (so every
#: such frame moves the BCE by more than 1 % of it) ...
LOSS_STEP = 1 / 80
#: ... then this many frames, spread evenly over log(epoch), for the slow settling.
SETTLE_FRAMES = 8


def paced_epochs(losses: np.ndarray, step: float = LOSS_STEP,
                 settle: int = SETTLE_FRAMES) -> np.ndarray:
    """The epochs worth drawing, from every epoch's loss: epoch 0; then, one after another,
    the first epoch whose loss lies ``step`` of the losses' range below the last drawn
    one's (frames go where the loss falls, every epoch while it falls fast); once less
    than two such steps are left to fall, ``settle`` epochs (at most a quarter as many as
    before) spread over log(epoch) to the last one: the slow settling gets a few frames,
    not most of them."""
    losses = np.asarray(losses, dtype=float)
    last = len(losses) - 1
    finite = losses[np.isfinite(losses)]
    lowest = float(finite.min()) if finite.size else 0.0
    gap = step * (float(finite.max()) - lowest) if finite.size else 0.0
    drawn, current = [0], 0
    while gap > 0 and losses[current] - lowest >= 2 * gap:
        lower = np.flatnonzero(losses[current + 1:] <= losses[current] - gap)
        if not lower.size:
            break
        current += 1 + int(lower[0])
        drawn.append(current)
    if current < last:
        settle = min(settle, max(1, len(drawn) // 4))  # at most a fifth of the frames
        tail = np.geomspace(max(current, 1), last, settle + 1)[1:]
        drawn.extend(int(e) for e in np.round(tail))
    return np.unique(np.array(drawn, dtype=int))
