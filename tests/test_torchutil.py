"""mlviz.torchutil: PlainOptimizer against torch.optim, LinearStack against autograd."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from mlviz.torchutil import LinearStack, PlainOptimizer  # noqa: E402

RULES = [  # (PlainOptimizer arguments, the torch.optim class and arguments it reproduces)
    (("sgd", {"lr": 0.1}), (torch.optim.SGD, {"lr": 0.1})),
    (("sgd", {"lr": 0.05, "momentum": 0.9}), (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9})),
    (("rmsprop", {"lr": 0.01}), (torch.optim.RMSprop, {"lr": 0.01})),
    (("adam", {"lr": 0.05}), (torch.optim.Adam, {"lr": 0.05})),
]
SHAPES = [(3, 2), (3,), (1, 3), (1,), (10, 10)]


def _gradients(dtype, steps=40, seed=0):
    generator = torch.Generator().manual_seed(seed)
    start = [torch.randn(s, dtype=dtype, generator=generator) for s in SHAPES]
    grads = [[torch.randn(s, dtype=dtype, generator=generator) * 3 for s in SHAPES]
             for _ in range(steps)]
    return start, grads


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("mine", "theirs"), RULES, ids=["sgd", "momentum", "rmsprop", "adam"])
def test_plain_optimizer_is_torch_optim_step_for_step(mine, theirs, dtype):
    start, grads = _gradients(dtype)
    a = [p.clone().requires_grad_() for p in start]
    b = [p.clone().requires_grad_() for p in start]
    plain = PlainOptimizer(mine[0], a, **mine[1])
    reference = theirs[0](b, **theirs[1])
    for step, g in enumerate(grads):
        for p, q, gi in zip(a, b, g):
            p.grad, q.grad = gi.clone(), gi.clone()
        if step == 5:  # a tensor without a gradient is left alone, as torch.optim does
            a[1].grad = b[1].grad = None
        plain.step()
        reference.step()
        for p, q in zip(a, b):
            assert torch.equal(p, q), (mine, step)


def test_gradients_can_be_given_and_one_flat_tensor_is_the_same_update():
    start, grads = _gradients(torch.float64)
    per_tensor = [p.clone() for p in start]
    flat = torch.cat([p.reshape(-1) for p in start])
    a = PlainOptimizer("adam", per_tensor, lr=0.05)
    b = PlainOptimizer("adam", [flat], lr=0.05)
    for g in grads:
        a.step(g)
        b.step([torch.cat([gi.reshape(-1) for gi in g])])
    torch.testing.assert_close(torch.cat([p.reshape(-1) for p in per_tensor]), flat,
                               rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="2 gradients for 1 tensors"):
        b.step(grads[0][:2])
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        PlainOptimizer("lbfgs", per_tensor, lr=1.0)


def test_plain_optimizer_does_not_import_torch_dynamo():
    """The point of it: torch.optim's first step imports torch._dynamo (seconds)."""
    code = ("import sys, torch\nfrom mlviz.torchutil import PlainOptimizer\n"
            "p = torch.zeros(2, requires_grad=True)\n"
            "o = PlainOptimizer('adam', [p], lr=0.1)\n"
            "(p - 1).pow(2).sum().backward(); o.step(); o.zero_grad()\n"
            "assert p.grad is None and p.abs().sum() > 0\n"
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out[-1] == "False"


def _stack(sizes, activation, dtype, seed):
    torch.manual_seed(seed)
    layers = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=dtype))
        if k < len(sizes) - 2:
            layers.append({"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
                           "relu": torch.nn.ReLU}[activation]())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize(("sizes", "activation", "dtype"), [
    ((2, 2, 2, 2, 2, 1), "tanh", torch.float32),
    ((2, 2, 1), "sigmoid", torch.float32),
    ((1, 10, 10, 1), "relu", torch.float64),
    ((1, 2, 1), "sigmoid", torch.float64),
])
def test_linear_stack_matches_autograd(sizes, activation, dtype):
    model = _stack(sizes, activation, dtype, seed=3)
    x = torch.randn(37, sizes[0], dtype=dtype)
    target = torch.randn(37, sizes[-1], dtype=dtype)
    stack = LinearStack(model, activation)
    outputs = stack.forward(x)
    out = model(x)
    torch.testing.assert_close(outputs[-1], out, rtol=0, atol=0)
    loss = ((out - target) ** 2).mean()
    loss.backward()
    # the loss's own gradient, then the layers by hand
    grads = stack.backward(outputs, 2.0 * (outputs[-1] - target) / target.numel())
    tolerance = {"rtol": 1e-5, "atol": 1e-7} if dtype == torch.float32 else \
        {"rtol": 1e-12, "atol": 1e-14}
    for (name, p), grad in zip(model.named_parameters(), grads):
        torch.testing.assert_close(grad, p.grad, **tolerance, msg=name)
    torch.testing.assert_close(stack.flat(grads), torch.cat([p.grad.reshape(-1)
                                                             for p in model.parameters()]),
                               **tolerance)
    # theta is a copy: the model keeps its parameters, params are views of theta
    stack.theta.add_(1.0)
    assert not torch.equal(stack.params[0], next(model.parameters()))
    assert set(stack.named_params()) == {name for name, _ in model.named_parameters()}


def test_linear_stack_refuses_what_it_cannot_run():
    with pytest.raises(ValueError, match="unknown activation"):
        LinearStack(_stack((2, 2, 1), "tanh", torch.float32, 0), "gelu")
    with pytest.raises(ValueError, match="weight and bias of each Linear layer"):
        LinearStack(torch.nn.Linear(2, 2, bias=False), "tanh")
