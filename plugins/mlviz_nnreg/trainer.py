"""Adam training of the 1-3-1 tanh network on y = x^(1/3), one snapshot per epoch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from mlviz import Config, ConfigError, Dataset, FrameSchedule, Snapshot, param

from .model import N_PARAMS, levenberg_marquardt, mse_and_gradient, split

#: Dense early, sparse late: ~70 frames for the ~15 000 epochs the default run takes.
SCHEDULE_STEPS = ((10, 1), (40, 5), (100, 20), (400, 50), (1000, 100), (4000, 250))
SCHEDULE_LATE_STEP = 500


@dataclass(frozen=True)
class NNRegConfig(Config):
    seed: int = param(
        5, "random seed of the starting parameters (shared by Adam and least squares)", min=0
    )
    lr: float = param(0.01, "Adam learning rate", min=1e-6, max=1.0)
    tol: float = param(2e-5, "stop once the MSE is below this", min=0.0)
    epochs: int = param(20_000, "most Adam epochs; training stops earlier once the MSE is "
                        "below tol", min=1, max=1_000_000)
    init_scale: float = param(
        0.1, "starting parameters are normal with this standard deviation", min=0.0, max=10.0
    )
    n_points: int = param(50, "training points, evenly spaced in [0, fit_max]", min=3,
                          max=100_000)
    fit_max: float = param(1.0, "the data cover x in [0, fit_max]", min=1e-3, max=1e3)
    view_max: float = param(
        3.0, "the fit panel shows x in [0, view_max], beyond the data", min=1e-3, max=1e4
    )
    lsq_iters: int = param(
        5000, "Levenberg–Marquardt iterations of the least-squares comparison (0: none)",
        min=0, max=100_000,
    )

    def validate(self) -> None:
        if self.view_max <= self.fit_max:
            raise ConfigError(
                f"view_max={self.view_max} must exceed fit_max={self.fit_max} "
                "(the panel shows the data and the extrapolation beyond it)"
            )


@dataclass(frozen=True)
class NNRegSnapshot(Snapshot):
    """The network after ``epoch`` Adam steps; ``loss`` is its MSE on the training data.

    ``theta`` (the ten parameters, laid out as in :mod:`.model`) is traced at every epoch.
    ``lsq_theta`` and ``lsq_loss`` describe the least-squares fit (the same in every snapshot;
    ``None`` and NaN when it is switched off).
    """

    traces: ClassVar[tuple[str, ...]] = ("theta",)

    theta: np.ndarray | None = None
    lsq_theta: np.ndarray | None = None
    lsq_loss: float = float("nan")


def initial_theta(config: NNRegConfig) -> np.ndarray:
    """The seeded starting point shared by Adam and the least-squares fit."""
    return np.random.default_rng(config.seed).normal(size=N_PARAMS) * config.init_scale


def nnreg_schedule(config: NNRegConfig) -> FrameSchedule:
    return FrameSchedule(steps=SCHEDULE_STEPS, late_step=SCHEDULE_LATE_STEP)


class NNRegTrainer:
    """Full-batch Adam on the MSE (float64) until MSE < tol.

    The update is ``torch.optim.Adam``'s, written out in numpy on the gradient of
    :func:`.model.mse_and_gradient` (the tests check both against torch step for step): ten
    parameters need no autograd graph, and numpy's per-step cost is a tenth of torch's.
    """

    BETAS = (0.9, 0.999)
    EPS = 1e-8

    def __init__(self, config: NNRegConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[NNRegSnapshot]:
        config = self.config
        x, y = np.ascontiguousarray(dataset.X[:, 0], dtype=float), np.asarray(dataset.y, dtype=float)
        start = initial_theta(config)
        lsq_theta, lsq_loss = None, float("nan")
        if config.lsq_iters > 0:
            fit = levenberg_marquardt(start, x, y, max_iter=config.lsq_iters)
            lsq_theta, lsq_loss = fit.theta, fit.mse

        beta1, beta2 = self.BETAS
        theta = start.copy()
        exp_avg, exp_avg_sq = np.zeros_like(theta), np.zeros_like(theta)
        for epoch in range(config.epochs + 1):
            value, grad = mse_and_gradient(theta, x, y)
            yield NNRegSnapshot(
                epoch=epoch, loss=value, params=split(theta), theta=theta,
                lsq_theta=lsq_theta, lsq_loss=lsq_loss,
            )
            if value < config.tol or not np.isfinite(value):
                return
            # torch.optim.Adam's single-tensor update, in its order of operations
            step = epoch + 1
            exp_avg += (1 - beta1) * (grad - exp_avg)  # lerp
            exp_avg_sq *= beta2
            exp_avg_sq += (1 - beta2) * (grad * grad)  # addcmul
            step_size = config.lr / (1 - beta1**step)
            denom = np.sqrt(exp_avg_sq) / (1 - beta2**step) ** 0.5 + self.EPS
            theta = theta - step_size * (exp_avg / denom)


def truth(x: np.ndarray) -> np.ndarray:
    """The function the data come from: y = x^(1/3)."""
    return np.cbrt(x)


def default_dataset(config: NNRegConfig) -> Dataset:
    x = np.linspace(0.0, config.fit_max, config.n_points)
    about = f"{config.n_points} points of y = x^(1/3) on [0, {config.fit_max:g}]"
    return Dataset(x, truth(x), feature_names=("x",), target_name="y", name="cube root",
                   description=about)
