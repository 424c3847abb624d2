"""Train a 1-2-1 sigmoid network and a 1-10-10-1 ReLU network side by side on y = x².

torch is imported only when training starts (``mlviz list`` stays instant).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from mlviz import Config, ConfigError, Dataset, Snapshot, param
from mlviz.torchutil import torch_threads

#: The two networks, in the order of every (2, …) array below.
NETS = ("sigmoid", "relu")
GRID_POINTS = 241  # where the curves are evaluated, across the whole extrapolation view


@dataclass(frozen=True)
class ParabolaConfig(Config):
    seed: int = param(
        8, "seed of the initial weights and the noise (8: the sigmoid net learns; many "
        "seeds leave it stuck on a flat line through the mean, the failure the reference "
        "warns about)",
        min=0,
    )
    epochs: int = param(2000, "full-batch training steps of each network", min=1, max=50_000)
    optimizer: Literal["adam", "sgd"] = param(
        "adam", "torch.optim update rule: Adam, or SGD with momentum 0.9"
    )
    lr: float = param(0.01, "learning rate of both networks", min=1e-6, max=1.0)
    sigmoid_units: int = param(2, "hidden units of the sigmoid network (1-H-1)", min=1, max=64)
    relu_units: int = param(10, "units in each of the ReLU network's two hidden layers", min=1,
                            max=64)
    n_points: int = param(11, "training points, evenly spaced on [−train_range, train_range]",
                          min=2, max=1000)
    noise: float = param(0.0, "standard deviation of Gaussian noise added to the targets",
                         min=0.0, max=50.0)
    train_range: float = param(5.0, "the data cover x ∈ [−train_range, train_range]",
                               min=0.5, max=100.0)
    view_range: float = param(10.0, "the extrapolation view shows x ∈ [−view_range, "
                              "view_range]", min=0.5, max=1000.0)

    def validate(self) -> None:
        if self.view_range <= self.train_range:
            raise ConfigError(
                f"view_range={self.view_range} must exceed train_range={self.train_range} "
                "(the view shows what lies beyond the data)"
            )


@dataclass(frozen=True)
class ParabolaSnapshot(Snapshot):
    """Both networks after ``epoch`` steps; ``loss`` is the sum of their MSEs.

    ``mse``, ``fitted`` and ``curves`` hold one row per network (:data:`NETS`): the MSE on the
    training data, the predictions at the training inputs, and the predictions on
    :func:`prediction_grid`. ``extent`` is ``[[low, high] on the training range,
    [low, high] on the whole grid]`` of both curves (NaN where a network diverged). ``mse``
    and ``extent`` are traced at every epoch: smooth loss curves and axis limits that hold
    every curve of the run, however sparse the frames.
    """

    traces: ClassVar[tuple[str, ...]] = ("mse", "extent")

    mse: np.ndarray | None = None
    fitted: np.ndarray | None = None
    curves: np.ndarray | None = None
    extent: np.ndarray | None = None


def prediction_grid(config: ParabolaConfig) -> np.ndarray:
    """The x values where the networks' curves are drawn, over the whole extrapolation view."""
    return np.linspace(-config.view_range, config.view_range, GRID_POINTS)


def curve_extent(curves: np.ndarray, grid: np.ndarray, train_range: float) -> np.ndarray:
    """``[[low, high] for |x| ≤ train_range, [low, high] on the grid]`` of the finite values
    of all ``curves`` (NaN where there is none)."""
    rows = []
    for part in (curves[:, np.abs(grid) <= train_range + 1e-9], curves):
        finite = part[np.isfinite(part)]
        rows.append([finite.min(), finite.max()] if finite.size else [np.nan, np.nan])
    return np.array(rows)


def build_networks(config: ParabolaConfig):
    """The two networks in float64, initialised from ``config.seed`` (global RNG untouched)."""
    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(config.seed)

    def linear(n_in: int, n_out: int) -> nn.Linear:
        layer = nn.Linear(n_in, n_out, dtype=torch.float64)
        bound = 1.0 / n_in**0.5  # PyTorch's default init, drawn from our own generator
        with torch.no_grad():
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
        return layer

    h, k = config.sigmoid_units, config.relu_units
    sigmoid = nn.Sequential(linear(1, h), nn.Sigmoid(), linear(h, 1))
    relu = nn.Sequential(linear(1, k), nn.ReLU(), linear(k, k), nn.ReLU(), linear(k, 1))
    return sigmoid, relu


def make_optimizer(config: ParabolaConfig, parameters):
    """``torch.optim.Adam`` or ``SGD`` (momentum 0.9), update for update (PlainOptimizer:
    without torch.optim's seconds-long first import and its per-step overhead)."""
    from mlviz.torchutil import PlainOptimizer

    if config.optimizer == "adam":
        return PlainOptimizer("adam", parameters, lr=config.lr)
    return PlainOptimizer("sgd", parameters, lr=config.lr, momentum=0.9)


def mse_output_grad(error, inputs):
    """∂ mean(error²) / ∂ output for the output column over all ``inputs``, as autograd
    computes it: (2·error)·(1/n) on the training rows (the first n), zero on the grid rows."""
    import torch

    grad = torch.zeros((len(inputs), 1), dtype=error.dtype)
    grad[:len(error), 0] = (2.0 * error) * torch.full_like(error, 1.0 / len(error))
    return grad


class ParabolaTrainer:
    """Full-batch MSE training of both networks on the same data, each with its own optimizer.

    Snapshot ``epoch`` holds the parameters *before* update ``epoch`` and the MSE they give,
    so epoch 0 is the untrained networks and epoch ``epochs`` the trained ones.
    """

    def __init__(self, config: ParabolaConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[ParabolaSnapshot]:
        with torch_threads(1):
            yield from self._steps(dataset)

    def _steps(self, dataset: Dataset) -> Iterator[ParabolaSnapshot]:
        import torch

        from mlviz.torchutil import LinearStack

        config = self.config
        x = torch.tensor(dataset.X[:, :1], dtype=torch.float64)
        y = torch.tensor(np.asarray(dataset.y, dtype=float).reshape(-1, 1))
        n = len(x)
        grid = prediction_grid(config)
        inputs = torch.cat([x, torch.as_tensor(grid[:, None])])
        # Each network run forward and backward by hand on one flat parameter tensor: the
        # arithmetic of autograd and torch.optim, without their per-step overhead.
        nets = [LinearStack(net, act)  # type: ignore[arg-type]  # NETS are activation names
                for net, act in zip(build_networks(config), NETS)]
        optimizers = [make_optimizer(config, [net.theta]) for net in nets]
        for epoch in range(config.epochs + 1):
            passes = [net.forward(inputs) for net in nets]
            # the output column: training inputs first, then the drawing grid
            errors = [layers[-1][:n, 0] - y[:, 0] for layers in passes]
            mse = np.array([torch.mean(error**2).item() for error in errors])
            outputs = np.stack([layers[-1][:, 0].numpy() for layers in passes])
            params = {f"{name}.{key}": value
                      for name, net in zip(NETS, nets) for key, value in net.named_params().items()}
            yield ParabolaSnapshot(
                epoch=epoch, loss=float(mse.sum()), params=params, mse=mse,
                fitted=outputs[:, :n], curves=outputs[:, n:],
                extent=curve_extent(outputs[:, n:], grid, config.train_range),
            )
            if epoch < config.epochs:
                for net, layers, error, optimizer in zip(nets, passes, errors, optimizers):
                    optimizer.step([net.flat(net.backward(layers, mse_output_grad(error, inputs)))])


def default_dataset(config: ParabolaConfig) -> Dataset:
    """``n_points`` evenly spaced x in [−train_range, train_range], y = x² (+ seeded noise)."""
    x = np.linspace(-config.train_range, config.train_range, config.n_points)
    y = x**2
    if config.noise > 0:
        y = y + np.random.default_rng(config.seed).normal(0.0, config.noise, size=x.shape)
    return Dataset(x[:, None], y, feature_names=("x",), target_name="y", name="parabola",
                   description=f"{config.n_points} points of y = x² on "
                               f"[−{config.train_range:g}, {config.train_range:g}]")
