"""Training a narrow PyTorch classifier on XOR, recording every layer's view of the data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from mlviz import Config, Dataset, FrameSchedule, Snapshot, param

GRID = 60  # resolution of the predicted-probability image over the input square


@dataclass(frozen=True)
class LayersConfig(Config):
    hidden_layers: int = param(
        2, "2-unit hidden layers between the 2-unit input layer and the output unit", min=0, max=16)
    activation: Literal["tanh", "sigmoid", "relu"] = param(
        "tanh", "activation after every layer but the output (a logit)")
    lr: float = param(0.2, "learning rate of SGD", min=1e-6, max=10.0)
    momentum: float = param(0.9, "momentum of SGD", min=0.0, max=0.999)
    batch_size: int = param(50, "points per SGD step (500 points: 10 steps per epoch)",
                            min=1, max=100_000)
    epochs: int = param(150, "passes over the data", min=1, max=10_000)
    init_scale: float = param(
        2.0, "initial weights are PyTorch's default (uniform ±1/√fan_in) times this", min=0.0, max=10.0)
    n_points: int = param(500, "points in the XOR dataset", min=8, max=100_000)
    neuron: int = param(0, "the landscape panels vary weights 1 and 2 of this neuron of each "
                           "layer (0 or 1; the output layer has only neuron 0)", min=0, max=1)
    span: float = param(2.0, "landscape half-width: each weight varies by δ ∈ [−span, span]",
                        min=1e-3, max=100.0)
    resolution: int = param(15, "landscape grid points along each weight", min=3, max=101)


@dataclass(frozen=True)
class LayersSnapshot(Snapshot):
    """State after ``epoch`` passes; ``loss`` is the mean BCE over all points, at these weights.

    Traced at every epoch: ``hidden_range`` and ``grad_norms`` (5 numbers a Linear layer).
    """

    traces: ClassVar[tuple[str, ...]] = ("hidden_range", "grad_norms")

    hidden: np.ndarray = None  # (n_layers, n, 2): the input, then each 2-unit layer's output
    hidden_range: np.ndarray = None  # (n_layers, 2, 2): [layer, (min, max), unit] of hidden
    proba: np.ndarray = None  # (n,): P(class 1) for every point
    grid_proba: np.ndarray = None  # (GRID, GRID): P(class 1) over [−1, 1]²
    grad_norms: np.ndarray = None  # (n_linear,): ‖∂loss/∂W‖ of each layer, full batch
    accuracy: float = 0.0


def xor_dataset(config: LayersConfig) -> Dataset:
    """``n_points`` uniform in [−1, 1]²; class 1 where exactly one coordinate is positive."""
    rng = np.random.default_rng(config.seed)
    points = rng.uniform(-1.0, 1.0, (config.n_points, 2))
    labels = ((points[:, 0] > 0) != (points[:, 1] > 0)).astype(int)
    return Dataset(points, labels, feature_names=("x₁", "x₂"), target_name="class", name="XOR",
                   description=f"{config.n_points} points, XOR of the signs of x₁ and x₂")


def layers_schedule(config: LayersConfig) -> FrameSchedule:
    """About 40 frames: every epoch to 5, then evenly spaced."""
    late = max(1, config.epochs // 35)
    return FrameSchedule(steps=((min(5, config.epochs), 1),), late_step=late)


def n_linear(config: LayersConfig) -> int:
    return config.hidden_layers + 2


def build_model(config: LayersConfig):
    """Linear(2, 2) → act → [Linear(2, 2) → act] × hidden_layers → Linear(2, 1) (a logit)."""
    import torch

    activation = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[config.activation]

    class NarrowNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            sizes = [2] * (config.hidden_layers + 2) + [1]
            self.layers = torch.nn.ModuleList(
                torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

        def forward(self, x, keep: list | None = None):
            for layer in self.layers[:-1]:
                x = activation(layer(x))
                if keep is not None:
                    keep.append(x)
            return self.layers[-1](x).squeeze(-1)

    return NarrowNet()


def landscape_loss(run):
    """Batched mean BCE of the run's network for a grid of parameter sets (functional + vmap)."""
    import torch

    from mlviz.landscape import torch_batched_loss

    model = build_model(run.config)
    targets = np.asarray(run.dataset.y, dtype=float)
    return torch_batched_loss(model, torch.nn.functional.binary_cross_entropy_with_logits,
                              np.asarray(run.dataset.X), targets, dtype=torch.float32)


class LayersTrainer:
    """Mini-batch SGD with momentum on the binary cross-entropy (a classifier, not regression)."""

    def __init__(self, config: LayersConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[LayersSnapshot]:
        from mlviz.torchutil import torch_threads

        with torch_threads(1):  # tiny models: one thread is fastest
            yield from self._run(dataset)

    def _run(self, dataset: Dataset) -> Iterator[LayersSnapshot]:
        import torch

        c = self.config
        torch.manual_seed(c.seed)
        model = build_model(c)
        with torch.no_grad():
            for layer in model.layers:
                layer.weight.mul_(c.init_scale)
        optimizer = torch.optim.SGD(model.parameters(), lr=c.lr, momentum=c.momentum)
        loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
        x = torch.as_tensor(np.array(dataset.X), dtype=torch.float32)
        y = torch.as_tensor(np.array(dataset.y), dtype=torch.float32)
        axis = np.linspace(-1.0, 1.0, GRID)
        gx, gy = np.meshgrid(axis, axis)
        grid = torch.as_tensor(np.column_stack([gx.ravel(), gy.ravel()]), dtype=torch.float32)
        shuffle = torch.Generator().manual_seed(c.seed)
        n = len(y)
        for epoch in range(c.epochs + 1):
            keep: list = []
            logits = model(x, keep)
            loss = loss_fn(logits, y)
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                hidden = torch.stack([x] + keep).numpy()
                proba = torch.sigmoid(logits).numpy()
                yield LayersSnapshot(
                    epoch=epoch, loss=loss.item(),
                    params={k: v.detach().numpy().copy() for k, v in model.named_parameters()},
                    hidden=hidden, proba=proba,
                    hidden_range=np.stack([hidden.min(axis=1), hidden.max(axis=1)], axis=1),
                    grid_proba=torch.sigmoid(model(grid)).numpy().reshape(GRID, GRID),
                    grad_norms=np.array([float(layer.weight.grad.norm()) for layer in model.layers]),
                    accuracy=float(np.mean((proba > 0.5) == (y.numpy() > 0.5))),
                )
            if epoch == c.epochs:
                break
            order = torch.randperm(n, generator=shuffle)
            for start in range(0, n, c.batch_size):
                batch = order[start:start + c.batch_size]
                optimizer.zero_grad()
                loss_fn(model(x[batch]), y[batch]).backward()
                optimizer.step()
