"""Training the from-scratch network (or its PyTorch twin) on the saddle z = y² − x²."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from mlviz import Config, ConfigError, Dataset, FrameSchedule, Snapshot, param

from . import network as nn


@dataclass(frozen=True)
class NNConfig(Config):
    layers: tuple[int, ...] = param(
        (2, 12, 2, 1), "layer sizes, input first: 2 inputs (x, y), …, 1 output (z)", min=1, max=256)
    activation: Literal["tanh", "relu", "sigmoid"] = param(
        "tanh", "activation after every hidden layer")
    output: Literal["tanh", "linear"] = param(
        "tanh", "activation of the output layer (the notebook's network ends with tanh)")
    lr: float = param(0.05, "learning rate of gradient descent; the loss's sharpness (top "
                            "Hessian eigenvalue) climbs towards 2/lr: at 0.1 it gets there near "
                            "step 1000 and the loss jumps, at 0.05 not before step 7000",
                      min=1e-6, max=10.0)
    epochs: int = param(2000, "full-batch gradient-descent steps", min=1, max=100_000)
    dims: int = param(12, "the saddle is sampled on a dims × dims grid over [−1, 1]²", min=2, max=60)
    backend: Literal["numpy", "torch"] = param(
        "numpy", "numpy: the from-scratch network; torch: the same network in PyTorch")

    def validate(self) -> None:
        if len(self.layers) < 2:
            raise ConfigError("layers needs at least an input and an output size, e.g. 2,12,2,1")
        if self.layers[0] != 2 or self.layers[-1] != 1:
            raise ConfigError(f"layers must start with 2 (x, y) and end with 1 (z), got "
                              f"{','.join(map(str, self.layers))}")
        if self.layers[-2] < 2:
            raise ConfigError("the layer before the output needs at least 2 units: the loss "
                              "landscape varies two of the output layer's weights")


@dataclass(frozen=True)
class NNSnapshot(Snapshot):
    """Parameters after ``epoch`` steps; ``loss`` is the MSE over all dims² samples.

    ``prediction_range`` (lowest and highest prediction) is traced at every epoch, so the
    surface panel's z axis holds every epoch's predictions, drawn or not (2 numbers an epoch).
    """

    traces: ClassVar[tuple[str, ...]] = ("prediction_range",)

    predictions: np.ndarray | None = None  # (dims, dims), on the dataset's grid
    prediction_range: np.ndarray | None = None  # (2,): predictions.min(), predictions.max()


def saddle(config: NNConfig) -> Dataset:
    """The hyperbolic paraboloid z = y² − x² on a dims × dims grid over [−1, 1]²."""
    axis = np.linspace(-1.0, 1.0, config.dims)
    gx, gy = np.meshgrid(axis, axis)
    z = gy**2 - gx**2
    return Dataset(np.column_stack([gx.ravel(), gy.ravel()]), z.ravel(),
                   feature_names=("x", "y"), target_name="z", name="saddle",
                   description=f"z = y² − x² on a {config.dims} × {config.dims} grid")


def snapshot(epoch: int, loss: float, params: dict[str, np.ndarray], predictions: np.ndarray,
             dims: int) -> NNSnapshot:
    """The snapshot of one epoch, predictions laid out on the dims × dims grid."""
    return NNSnapshot(epoch=epoch, loss=loss, params=params,
                      predictions=predictions.reshape(dims, dims),
                      prediction_range=np.array([predictions.min(), predictions.max()]))


def nn_schedule(config: NNConfig) -> FrameSchedule:
    """Frames where the loss moves: every epoch at first, three through the plateau, every
    25th through the descent (epochs 300–800 at the default rate), and four or five for the
    rest of a long run, where the loss is nearly flat."""
    late = 25 if config.epochs <= 1000 else config.epochs // 8
    steps = tuple((upper, step) for upper, step in ((4, 1), (20, 4), (300, 100), (800, 25))
                  if upper < config.epochs)
    return FrameSchedule(steps=steps, late_step=late)


class NumpyTrainer:
    """Full-batch gradient descent on the from-scratch network."""

    def __init__(self, config: NNConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[NNSnapshot]:
        c = self.config
        layers = nn.build(nn.initial_weights(c.layers, c.seed), c.activation, c.output)
        optimizer = nn.GradientDescent(c.lr)
        inputs, targets = dataset.X, np.asarray(dataset.y, float)[:, None]
        for epoch in range(c.epochs + 1):
            predictions = nn.forward(layers, inputs)
            yield snapshot(epoch, nn.mse(targets, predictions), nn.param_dict(layers),
                           predictions, c.dims)
            if epoch < c.epochs:
                nn.backward(layers, nn.mse_prime(targets, predictions))
                optimizer.step(layers)


def torch_model(config: NNConfig):
    """The same architecture as a ``torch.nn.Sequential`` (float64), layers named layerK."""
    import torch

    activations = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid,
                   "linear": torch.nn.Identity}

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            sizes = config.layers
            self.count = len(sizes) - 1
            for k in range(self.count):
                self.add_module(f"layer{k + 1}", torch.nn.Linear(sizes[k], sizes[k + 1],
                                                                 dtype=torch.float64))
                last = k == self.count - 1
                self.add_module(f"act{k + 1}", activations[config.output if last
                                                           else config.activation]())

        def forward(self, x):
            for k in range(1, self.count + 1):
                x = getattr(self, f"act{k}")(getattr(self, f"layer{k}")(x))
            return x

    return Net()


class TorchTrainer:
    """The same network, initial weights and full-batch gradient descent, in PyTorch."""

    def __init__(self, config: NNConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[NNSnapshot]:
        from mlviz.torchutil import torch_threads

        with torch_threads(1):  # tiny models: one thread is fastest
            yield from self._run(dataset)

    def _run(self, dataset: Dataset) -> Iterator[NNSnapshot]:
        import torch

        c = self.config
        model = torch_model(c)
        with torch.no_grad():
            for k, (weight, bias) in enumerate(nn.initial_weights(c.layers, c.seed), start=1):
                getattr(model, f"layer{k}").weight.copy_(torch.from_numpy(weight))
                getattr(model, f"layer{k}").bias.copy_(torch.from_numpy(bias))
        optimizer = torch.optim.SGD(model.parameters(), lr=c.lr, momentum=0.0)
        loss_fn = torch.nn.MSELoss()
        inputs = torch.from_numpy(np.array(dataset.X, dtype=np.float64))
        targets = torch.from_numpy(np.array(dataset.y, dtype=np.float64))[:, None]
        for epoch in range(c.epochs + 1):
            predictions = model(inputs)
            loss = loss_fn(predictions, targets)
            params = {name: p.detach().numpy().copy() for name, p in model.named_parameters()}
            yield snapshot(epoch, loss.item(), params, predictions.detach().numpy(), c.dims)
            if epoch < c.epochs:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()


def make_trainer(config: NNConfig):
    return TorchTrainer(config) if config.backend == "torch" else NumpyTrainer(config)


def landscape_loss(run):
    """The batched MSE of the run's network over a grid of parameter sets (numpy)."""
    c = run.config
    inputs = np.asarray(run.dataset.X, float)
    targets = np.asarray(run.dataset.y, float)[:, None]
    return lambda params: nn.batched_mse(params, inputs, targets, c.activation, c.output)
