"""A small neural network from scratch: Dense and activation layers, backprop, gradient descent.

Samples are rows: a Dense layer maps ``X`` (n, in) to ``X @ W.T + b`` (n, out), so ``W`` has
the (out, in) shape of the notebook's and PyTorch's weight matrices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Layer:
    """A step of the forward pass that can send gradients back."""

    def forward(self, inputs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """Given dJ/d(output), store the parameter gradients and return dJ/d(input)."""
        raise NotImplementedError


class Dense(Layer):
    """Fully connected layer ``Z = X Wᵀ + b``."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        self.weight = np.array(weight, dtype=float)
        self.bias = np.array(bias, dtype=float)
        self.grad_weight = np.zeros_like(self.weight)
        self.grad_bias = np.zeros_like(self.bias)

    def forward(self, inputs: np.ndarray) -> np.ndarray:
        self.inputs = inputs
        return inputs @ self.weight.T + self.bias

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        self.grad_weight = grad_output.T @ self.inputs  # sum over samples of outer products
        self.grad_bias = grad_output.sum(axis=0)
        return grad_output @ self.weight


class Activation(Layer):
    """Element-wise ``g(Z)``; backward multiplies by ``g'(Z)``."""

    def forward(self, inputs: np.ndarray) -> np.ndarray:
        self.inputs = inputs
        return self.function(inputs)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return grad_output * self.derivative(self.inputs)

    @staticmethod
    def function(z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def derivative(z: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Tanh(Activation):
    @staticmethod
    def function(z):
        return np.tanh(z)

    @staticmethod
    def derivative(z):
        return 1.0 - np.tanh(z) ** 2


class ReLU(Activation):
    @staticmethod
    def function(z):
        return np.maximum(z, 0.0)

    @staticmethod
    def derivative(z):
        return (z > 0).astype(float)


class Sigmoid(Activation):
    @staticmethod
    def function(z):
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic

    @staticmethod
    def derivative(z):
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        return s * (1.0 - s)


class Identity(Activation):
    @staticmethod
    def function(z):
        return z

    @staticmethod
    def derivative(z):
        return np.ones_like(z)


ACTIVATIONS: dict[str, type[Activation]] = {
    "tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid, "linear": Identity,
}


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error over every sample (all 144 of the grid, not 12)."""
    return float(np.mean((y_pred - y_true) ** 2))


def mse_prime(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """dJ/dŷ of the mean squared error."""
    return 2.0 * (y_pred - y_true) / y_true.size


class GradientDescent:
    """Plain gradient descent: ``θ ← θ − lr · ∂J/∂θ`` for every Dense layer."""

    def __init__(self, lr: float) -> None:
        self.lr = lr

    def step(self, layers: Sequence[Layer]) -> None:
        for layer in layers:
            if isinstance(layer, Dense):
                layer.weight -= self.lr * layer.grad_weight
                layer.bias -= self.lr * layer.grad_bias


def initial_weights(sizes: Sequence[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, bias) for each Dense layer: uniform ±1/√fan_in (PyTorch's default), seeded."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append((rng.uniform(-bound, bound, (fan_out, fan_in)),
                        rng.uniform(-bound, bound, fan_out)))
    return weights


def build(weights: Sequence[tuple[np.ndarray, np.ndarray]], activation: str,
          output: str) -> list[Layer]:
    """Dense, activation, Dense, activation, …, Dense, output activation."""
    layers: list[Layer] = []
    for index, (weight, bias) in enumerate(weights):
        layers.append(Dense(weight, bias))
        last = index == len(weights) - 1
        layers.append(ACTIVATIONS[output if last else activation]())
    return layers


def forward(layers: Sequence[Layer], inputs: np.ndarray) -> np.ndarray:
    out = inputs
    for layer in layers:
        out = layer.forward(out)
    return out


def backward(layers: Sequence[Layer], grad: np.ndarray) -> np.ndarray:
    for layer in reversed(layers):
        grad = layer.backward(grad)
    return grad


def param_dict(layers: Sequence[Layer]) -> dict[str, np.ndarray]:
    """The parameters by name: ``layer1.weight``, ``layer1.bias``, ``layer2.weight``, …"""
    params: dict[str, np.ndarray] = {}
    dense = [layer for layer in layers if isinstance(layer, Dense)]
    for index, layer in enumerate(dense, start=1):
        params[f"layer{index}.weight"] = layer.weight
        params[f"layer{index}.bias"] = layer.bias
    return params


def batched_mse(params: dict[str, np.ndarray], inputs: np.ndarray, targets: np.ndarray,
                activation: str, output: str) -> np.ndarray:
    """MSE for G parameter sets at once: every array in ``params`` has a leading axis G.

    One broadcast matrix product per layer, (G, n, in) @ (G, in, out): no loop over the G
    points of a loss-landscape grid. Layers before the first one that varies over the grid
    (their arrays are broadcast views, stride 0 along G) are computed once, not G times.
    """
    n_layers = sum(1 for name in params if name.endswith(".weight"))
    size = next(iter(params.values())).shape[0]
    out, batched = np.asarray(inputs, float), False
    for index in range(1, n_layers + 1):
        weight = params[f"layer{index}.weight"]
        bias = params[f"layer{index}.bias"]
        if not batched and _constant(weight) and _constant(bias):
            out = out @ weight[0].T + bias[0]
        else:
            out = out if batched else out[None]
            out = out @ np.swapaxes(weight, -1, -2) + bias[:, None, :]
            batched = True
        out = ACTIVATIONS[output if index == n_layers else activation].function(out)
    errors = (out - targets) ** 2
    if not batched:
        return np.full(size, float(np.mean(errors)))
    return np.mean(errors, axis=(1, 2))


def _constant(values: np.ndarray) -> bool:
    """Whether a (G, ...) array is one value broadcast along G."""
    return values.ndim > 0 and values.strides[0] == 0
