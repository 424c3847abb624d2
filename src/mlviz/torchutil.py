"""Small helpers for plugins that train with PyTorch (torch is imported only when used)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous setting.

    Tiny models train fastest on one thread: more only add synchronisation, and on a busy
    two-core machine they can make training several times slower.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class PlainOptimizer:
    """torch.optim's SGD (with or without momentum), RMSprop or Adam update, op for op.

    The tensors change exactly as under ``torch.optim.SGD``, ``RMSprop`` and ``Adam`` with
    their defaults (no weight decay, dampening, Nesterov, centring or AMSGrad; the
    single-tensor code path torch uses on the CPU), but without ``torch.optim.Optimizer``:
    its first use imports ``torch._dynamo`` (seconds), and its hooks and bookkeeping cost
    more than the arithmetic of a tiny model's step. Use it like an optimizer:
    ``zero_grad()``, ``loss.backward()``, ``step()``.

    Args:
        kind: ``"sgd"`` (``momentum`` > 0: SGD with momentum), ``"rmsprop"`` or ``"adam"``.
        params: the tensors to update (leaves that require grad).
        lr: learning rate; ``momentum`` for SGD, ``alpha`` for RMSprop, ``betas`` for Adam,
            ``eps`` for RMSprop and Adam, with torch's defaults.
    """

    KINDS = ("sgd", "rmsprop", "adam")

    def __init__(
        self,
        kind: Literal["sgd", "rmsprop", "adam"],
        params: Iterable,
        *,
        lr: float,
        momentum: float = 0.0,
        alpha: float = 0.99,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown optimizer {kind!r}; known: {', '.join(self.KINDS)}")
        self.kind = kind
        self.params = list(params)
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.alpha = float(alpha)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.steps = [0] * len(self.params)  # per tensor, as torch keeps them
        self.state: list[list] = [[] for _ in self.params]  # buffers, created on first use

    def zero_grad(self) -> None:
        """Forget the gradients (``set_to_none``, torch.optim's default)."""
        for param in self.params:
            param.grad = None

    def step(self, grads: Sequence | None = None) -> None:
        """One update of every tensor that has a gradient: ``grads`` (one per tensor, in
        order; ``None`` skips that tensor) or, by default, each tensor's ``.grad``."""
        import torch

        if grads is None:
            grads = [param.grad for param in self.params]
        elif len(grads) != len(self.params):
            raise ValueError(f"{len(grads)} gradients for {len(self.params)} tensors")
        update = getattr(self, f"_{self.kind}")
        with torch.no_grad():
            for i, (param, grad) in enumerate(zip(self.params, grads)):
                if grad is not None:
                    update(i, param, grad)

    def _sgd(self, i: int, param, grad) -> None:
        if self.momentum != 0:
            state = self.state[i]
            if not state:
                state.append(grad.detach().clone())
            else:
                state[0].mul_(self.momentum).add_(grad, alpha=1 - 0.0)  # dampening 0
            grad = state[0]
        param.add_(grad, alpha=-self.lr)

    def _rmsprop(self, i: int, param, grad) -> None:
        import torch

        state = self.state[i]
        if not state:
            state.append(torch.zeros_like(param, memory_format=torch.preserve_format))
        square_avg = state[0]
        self.steps[i] += 1
        square_avg.mul_(self.alpha).addcmul_(grad, grad, value=1 - self.alpha)
        avg = square_avg.sqrt().add_(self.eps)
        param.addcdiv_(grad, avg, value=-self.lr)

    def _adam(self, i: int, param, grad) -> None:
        import torch

        state = self.state[i]
        if not state:
            state.extend(torch.zeros_like(param, memory_format=torch.preserve_format)
                         for _ in range(2))
        exp_avg, exp_avg_sq = state
        beta1, beta2 = self.betas
        self.steps[i] += 1
        step = float(self.steps[i])  # torch keeps a float32 tensor and reads it with .item()
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = self.lr / bias_correction1
        denom = (exp_avg_sq.sqrt() / bias_correction2**0.5).add_(self.eps)
        param.addcdiv_(exp_avg, denom, value=-step_size)


class LinearStack:
    """A stack of ``torch.nn.Linear`` layers with one activation between them (none after
    the last), run forward and backward by hand on one flat parameter tensor.

    Each step calls the kernels autograd would (``addmm`` for a layer, the activation and
    its ``*_backward``, ``mm`` and ``sum`` for the gradients), so outputs and gradients
    equal ``loss.backward()``'s to the last bit on the CPU builds we test, without building
    a graph: for tiny networks autograd's bookkeeping costs several times the arithmetic.

    The parameters are copied, in ``model.named_parameters()`` order (weight and bias of
    each layer), into one flat tensor ``theta``, which a :class:`PlainOptimizer` can update
    at once; ``params`` are views of it. The model itself is not changed.

    Args:
        model: its parameters are the layers' weights and biases, in order.
        activation: ``"tanh"``, ``"sigmoid"`` or ``"relu"``.
    """

    ACTIVATIONS = ("tanh", "sigmoid", "relu")

    def __init__(self, model, activation: Literal["tanh", "sigmoid", "relu"]) -> None:
        import torch

        if activation not in self.ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}")
        named = list(model.named_parameters())
        if len(named) % 2 or any(p.dim() != 2 for _, p in named[0::2]):
            raise ValueError("expected the weight and bias of each Linear layer, in order")
        self.names = [name for name, _ in named]
        self.theta = torch.cat([p.detach().reshape(-1) for _, p in named])
        self.params, start = [], 0
        for _, p in named:
            self.params.append(self.theta[start:start + p.numel()].view(p.shape))
            start += p.numel()
        self.weights, self.biases = self.params[0::2], self.params[1::2]
        self.act = {"tanh": torch.tanh, "sigmoid": torch.sigmoid,
                    "relu": torch.relu}[activation]
        aten = torch.ops.aten
        backward: dict[str, Callable[[Any, Any], Any]] = {
            "tanh": aten.tanh_backward, "sigmoid": aten.sigmoid_backward,
            "relu": lambda grad, out: aten.threshold_backward(grad, out, 0),
        }
        self.act_backward = backward[activation]

    def named_params(self) -> dict:
        """A numpy copy of every parameter, by the model's names."""
        return {name: p.numpy().copy() for name, p in zip(self.names, self.params)}

    def forward(self, x) -> list:
        """``[x, each hidden layer's activated output, the output]`` for inputs ``x`` (n, in)."""
        import torch

        outputs = [x]
        for weight, bias in zip(self.weights[:-1], self.biases[:-1]):
            outputs.append(self.act(torch.addmm(bias, outputs[-1], weight.t())))
        outputs.append(torch.addmm(self.biases[-1], outputs[-1], self.weights[-1].t()))
        return outputs

    def backward(self, outputs: list, grad) -> list:
        """Gradients ``[∂/∂weight, ∂/∂bias of each layer]`` from :meth:`forward`'s outputs
        and ``grad``, the loss's gradient with respect to the output (n, out)."""
        grads: list = [None] * len(self.params)
        last = len(self.weights) - 1
        for k in range(last, -1, -1):
            if k < last:
                grad = self.act_backward(grad, outputs[k + 1])
            grads[2 * k] = grad.t().mm(outputs[k])
            grads[2 * k + 1] = grad.sum(0)
            if k:
                grad = grad.mm(self.weights[k])
        return grads

    @staticmethod
    def flat(grads: Sequence) -> object:
        """The gradients as one tensor, laid out like ``theta``."""
        import torch

        return torch.cat([grad.reshape(-1) for grad in grads])
