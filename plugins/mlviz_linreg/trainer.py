"""Simple linear regression y ≈ w·x + b by full-batch gradient descent on the MSE.

The loss and its gradient (derived by hand, as in the notebook and the slides):

    MSE(w, b) = 1/n Σ (y_i − (w·x_i + b))²
    ∂MSE/∂w   = −2/n Σ x_i (y_i − (w·x_i + b))
    ∂MSE/∂b   = −2/n Σ (y_i − (w·x_i + b))

Both partial derivatives are taken at the same (w, b) and then applied together (the
notebook's bias update used the already-updated weight). With ``standardize`` the descent
runs on z = (x − mean) / std; y is never scaled, so the loss is in the data's own units and
the fitted line is reported in the original units of x.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from mlviz import Config, ConfigError, Dataset, Snapshot, param

#: The automatic learning rate is this fraction of 1/λmax, λmax the largest curvature of the
#: MSE (0.05 on standardized features; about the notebook's 5e-5 on raw radio spending).
AUTO_LR_FRACTION = 0.1


@dataclass(frozen=True)
class LinRegConfig(Config):
    dataset: Literal["advertising", "slides"] = param(
        "advertising",
        "built-in data: advertising (radio spending -> sales, 200 markets) or slides "
        "(the 25 observations of the 'Modeling with NN' slides); not with --data",
    )
    lr: float = param(
        0.0,
        "learning rate; 0 = automatic: 0.1/λmax, λmax the largest curvature of the MSE "
        "(0.05 with standardize); a rate ≥ 2/λmax diverges and is refused",
        min=0.0, max=10.0,
    )
    epochs: int = param(200, "gradient-descent steps over the whole data set", min=1, max=100_000)
    standardize: bool = param(
        True, "descend on z-scored x (round bowl); false: raw x (narrow valley, slow)"
    )
    gradient: Literal["manual", "autograd"] = param(
        "manual", "how the gradient is computed: the hand-derived formulas, or torch autograd"
    )
    w0: float = param(0.0, "initial slope, in the coordinates of the descent", min=-1e3, max=1e3)
    b0: float = param(0.0, "initial intercept, in the coordinates of the descent", min=-1e3,
                      max=1e3)


@dataclass(frozen=True)
class LinRegSnapshot(Snapshot):
    """One step: ``w``, ``b`` in the descent's coordinates, ``slope``/``intercept`` in the
    data's; ``grad`` is (∂MSE/∂w, ∂MSE/∂b) at this point; ``loss`` is the MSE.

    ``w`` and ``b`` are traced at every epoch: the descent's whole path.
    """

    traces: ClassVar[tuple[str, ...]] = ("w", "b")

    w: float = 0.0
    b: float = 0.0
    slope: float = 0.0
    intercept: float = 0.0
    grad: np.ndarray | None = None


@dataclass(frozen=True)
class Problem:
    """The regression as the descent sees it: features ``u`` (x or z-scored x) and ``y``."""

    u: np.ndarray
    y: np.ndarray
    mean: float  # x = mean + scale · u
    scale: float

    @classmethod
    def from_dataset(cls, dataset: Dataset, standardize: bool) -> Problem:
        x = np.asarray(dataset.X[:, 0], dtype=float)
        y = np.asarray(dataset.y, dtype=float)
        mean, scale = (float(x.mean()), float(x.std())) if standardize else (0.0, 1.0)
        return cls(u=(x - mean) / scale, y=y, mean=mean, scale=scale)

    def to_original(self, w: float | np.ndarray, b: float | np.ndarray) -> tuple:
        """(slope, intercept) in the units of x for the line ŷ = w·u + b (numbers or arrays)."""
        return w / self.scale, b - w * self.mean / self.scale

    def from_original(self, slope: float, intercept: float) -> tuple[float, float]:
        return slope * self.scale, intercept + slope * self.mean

    def hessian(self) -> np.ndarray:
        """The (constant) Hessian of the MSE over (w, b)."""
        u = self.u
        return 2.0 * np.array([[np.mean(u * u), np.mean(u)], [np.mean(u), 1.0]])

    def curvatures(self) -> tuple[float, float]:
        """(λmin, λmax) of the Hessian: the surface's flattest and steepest curvature."""
        low, high = np.linalg.eigvalsh(self.hessian())
        return float(low), float(high)

    def least_squares(self) -> tuple[float, float]:
        """The exact minimiser (w, b) in the descent's coordinates."""
        A = np.column_stack([self.u, np.ones_like(self.u)])
        (w, b), *_ = np.linalg.lstsq(A, self.y, rcond=None)
        return float(w), float(b)

    def surface(self, W: np.ndarray, B: np.ndarray) -> np.ndarray:
        """MSE at every (W, B) of a grid, exactly, from the data's moments (vectorized)."""
        u, y = self.u, self.y
        return (W**2 * np.mean(u * u) + 2 * W * B * np.mean(u) + B**2
                - 2 * W * np.mean(u * y) - 2 * B * np.mean(y) + np.mean(y * y))


def mse(u: np.ndarray, y: np.ndarray, w: float, b: float) -> float:
    """Mean squared error of the line w·u + b."""
    return float(np.mean((y - (w * u + b)) ** 2))


def manual_gradient(u: np.ndarray, y: np.ndarray, w: float, b: float) -> np.ndarray:
    """(∂MSE/∂w, ∂MSE/∂b) from the hand-derived formulas."""
    residual = y - (w * u + b)
    return np.array([-2.0 * np.mean(u * residual), -2.0 * np.mean(residual)])


def autograd_gradient(u: np.ndarray, y: np.ndarray, w: float, b: float) -> np.ndarray:
    """(∂MSE/∂w, ∂MSE/∂b) by torch autograd (torch is imported only here)."""
    import torch

    ut = torch.tensor(np.array(u, dtype=float))  # copies: snapshot arrays are read-only
    yt = torch.tensor(np.array(y, dtype=float))
    wt = torch.tensor(float(w), dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    loss = torch.mean((yt - (wt * ut + bt)) ** 2)
    dw, db = torch.autograd.grad(loss, (wt, bt))
    return np.array([float(dw), float(db)])


def learning_rate(config: LinRegConfig, problem: Problem, allow_divergence: bool = False
                  ) -> float:
    """The configured rate, or the automatic one; refuses rates that diverge (unless
    ``allow_divergence``: a sweep shows them diverging)."""
    _, high = problem.curvatures()
    if config.lr == 0:
        return AUTO_LR_FRACTION / high
    if config.lr >= 2.0 / high and not allow_divergence:
        raise ConfigError(
            f"lr={config.lr:g} diverges on this data: gradient descent is stable only for "
            f"lr < 2/λmax = {2.0 / high:.3g} (standardize={str(config.standardize).lower()}); "
            "use --set lr=0 for an automatic rate"
        )
    return config.lr


class LinRegTrainer:
    """Full-batch gradient descent; snapshot k holds (w, b) after k simultaneous updates.

    ``allow_divergence`` trains a rate that diverges instead of refusing it, and stops
    when (w, b) overflows: what a sweep's comparison of rates wants (see
    ``mlviz.sweep``); a single render keeps the refusal.
    """

    def __init__(self, config: LinRegConfig, allow_divergence: bool = False) -> None:
        self.config = config
        self.allow_divergence = allow_divergence

    def run(self, dataset: Dataset) -> Iterator[LinRegSnapshot]:
        config = self.config
        problem = Problem.from_dataset(dataset, config.standardize)
        lr = learning_rate(config, problem, self.allow_divergence)
        gradient = autograd_gradient if config.gradient == "autograd" else manual_gradient
        u, y = problem.u, problem.y
        w, b = config.w0, config.b0
        for epoch in range(config.epochs + 1):
            grad = gradient(u, y, w, b)
            slope, intercept = problem.to_original(w, b)
            yield LinRegSnapshot(
                epoch=epoch, loss=mse(u, y, w, b), params={"w": np.array(w), "b": np.array(b)},
                w=w, b=b, slope=slope, intercept=intercept, grad=grad,
            )
            w, b = w - lr * float(grad[0]), b - lr * float(grad[1])  # simultaneous update
            if not (math.isfinite(w) and math.isfinite(b)):  # cannot happen below 2/λmax
                if self.allow_divergence:
                    return
                raise ConfigError(f"gradient descent overflowed at epoch {epoch}; lower lr")
