"""The loss of many parameter sets at once: a landscape's grid, a trajectory's points.

Cost model: one forward pass of the evaluation subset per parameter set, so a
``resolution²`` grid costs ``resolution² × n_eval`` sample-forwards, except the model's
*leading affine layer* (a ``Linear`` or ``ConvNd`` that takes the input as it is, called
once): its output is affine in its own weights, so on a plane ``θ₀ + a·d₁ + b·d₂`` it is
``F(x; θ₀) + a·F(x; d₁) + b·F(x; d₂)`` (the bias included, as a weight). Three passes of
that layer are made once per plane; each grid point then costs two multiply-adds of its
output instead of a pass (exact up to float rounding).

The rest runs on a private copy of the model (the user's model is never touched), on its
device, either ``chunk`` points at a time with ``torch.func.vmap`` over
``functional_call`` (dense models: the grid points become one batched matrix product), or
point by point (convolutional models on a CPU, where ``vmap`` turns convolutions into
slow grouped ones). The first chunk is timed both ways and the faster evaluates the rest.
4-D inputs are channels-last (faster convolutions and pooling; the same values).
"""

from __future__ import annotations

import copy
import time
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .compute import MEMORY_BUDGET, Layout, evaluating, hooked_pass, per_point_bytes

#: Most bytes of one vectorized chunk on a CPU: past the caches, bigger chunks are slower.
CPU_CHUNK_BYTES = 24 * 2**20
#: Types whose output is affine in their own parameters (and whose forward is theirs).
AFFINE = ("Linear", "Conv1d", "Conv2d", "Conv3d")


class PlanePoints:
    """The rows ``base + a·d₁ + b·d₂`` of a grid of (a, b), made a chunk at a time."""

    def __init__(self, base, directions, coords: np.ndarray) -> None:
        import torch

        self.base, self.directions = base, directions
        self.coords = torch.as_tensor(coords, dtype=base.dtype, device=base.device)
        self.count = len(coords)

    def __call__(self, start: int, stop: int):
        return self.base + self.coords[start:stop] @ self.directions


def leading_affine(model, x) -> tuple[str, Any] | None:
    """``(name, module)`` of the model's first layer if it is affine in its weights: the
    first leaf module run, called once, on the input tensor itself, a ``Linear`` or
    ``ConvNd`` whose ``forward`` is the stock one; else None. Found with pre-hooks on one
    forward pass of two samples, removed at once."""
    import torch

    probe = x[:2]
    calls: list[tuple[Any, bool]] = []
    hooked_pass(model, probe, pre=True, hook=lambda module, inputs: calls.append(
        (module, bool(inputs) and inputs[0] is probe)))
    if not calls:
        return None
    first, on_input = calls[0]
    stock = getattr(torch.nn, type(first).__name__, None)
    if (not on_input or type(first).__name__ not in AFFINE or stock is None
            or type(first).forward is not stock.forward
            or sum(module is first for module, _ in calls) != 1):
        return None
    return {m: n for n, m in model.named_modules()}[first], first


class BatchedLoss:
    """``loss_fn(model(x; θ), y)`` for many flat parameter vectors θ at once (see the
    module's docstring for how). ``chunk``: grid points per vectorized call, from the
    ``memory`` budget (bytes) and one forward pass's activations; ``vectorized``: whether
    ``vmap`` was chosen (None until the first call)."""

    PROBE = 4  # points timed one by one to choose

    def __init__(self, model, loss_fn: Callable, x, y, memory: int = MEMORY_BUDGET) -> None:
        import torch

        if x.dim() == 4 and x.is_floating_point():
            x = x.contiguous(memory_format=torch.channels_last)
        self.loss_fn, self.x, self.y = loss_fn, x, y
        self.layout = Layout.of(model)
        self.net = self._copy(model, reorder=True)
        if not self._same_as(model, x):  # its forward indexes its Sequentials: as it is
            self.net = self._copy(model, reorder=False)
        per_point = max(per_point_bytes(self.net, x), 1)
        if x.device.type == "cpu":
            memory = min(memory, CPU_CHUNK_BYTES)
        self.chunk = max(1, int(memory // per_point))
        convolutional = any(type(m).__name__.startswith("Conv") for m in self.net.modules())
        # vmap makes a convolution with batched weights a grouped one: slow on a CPU.
        self.vectorized: bool | None = False if convolutional and x.device.type == "cpu" \
            else None
        self.lead = leading_affine(self.net, x)
        self._injected: Any = None
        self._plane: tuple[Any, Any, Any] | None = None
        if self.lead is not None:
            module = self.lead[1]
            stock = type(module).forward
            outer = self

            def forward(self_, input):  # the precomputed output on a plane, else its own
                return stock(self_, input) if outer._injected is None else outer._injected

            module.forward = types.MethodType(forward, module)

    def _copy(self, model, reorder: bool):
        """The private copy: its trained parameters views of one flat vector (a point is
        one copy), no gradients, max-pools on channels-last tensors, and (``reorder``) a
        monotone activation followed by a max-pool swapped in its Sequentials."""
        import torch

        net = copy.deepcopy(model)
        named = dict(net.named_parameters())
        first = named[self.layout.names[0]]
        self.flat = torch.empty(self.layout.size, dtype=first.dtype, device=first.device)
        for name, part in zip(self.layout.names, self.flat.split(list(self.layout.sizes))):
            part.copy_(named[name].detach().reshape(-1))
            named[name].data = part.view(named[name].shape)
        for p in net.parameters():
            p.requires_grad_(False)
        for module in net.modules():
            if type(module) is torch.nn.MaxPool2d:
                module.forward = types.MethodType(_channels_last_pool, module)  # type: ignore[method-assign]
            if reorder and type(module) is torch.nn.Sequential:
                _pool_first(module)
        return net

    def _same_as(self, model, x) -> bool:
        """Whether the copy computes what the model does, on a few samples (a model whose
        forward calls its Sequentials' items one by one would not, once reordered)."""
        import torch

        x, y = x[:8], self.y[:8]
        with evaluating(model), evaluating(self.net):
            ours, theirs = self.loss_fn(self.net(x), y), self.loss_fn(model(x), y)
        return bool(torch.allclose(ours, theirs, rtol=1e-5, atol=1e-7, equal_nan=True))

    # ------------------------------------------------------------------ one way or the other
    def _forward(self, injected):
        self._injected = injected
        try:
            return self.net(self.x)
        finally:
            self._injected = None

    def _loop(self, block, injected=None):
        """Point by point: each row written into the copy's parameters, one forward pass."""
        import torch

        losses = torch.empty(len(block), dtype=self.flat.dtype, device=self.flat.device)
        for i in range(len(block)):
            self.flat.copy_(block[i])
            out = self._forward(None if injected is None else injected(i))
            losses[i] = self.loss_fn(out, self.y).reshape(())
        return losses

    def _one(self, params, injected=None):
        from torch.func import functional_call

        self._injected = injected
        try:
            out = functional_call(self.net, params, (self.x,))
        finally:
            self._injected = None
        return self.loss_fn(out, self.y).reshape(())

    def _vmap(self, block, injected=None):
        from torch.func import vmap

        params = self.layout.split(block)
        if injected is None:
            return vmap(self._one)(params)
        return vmap(self._one)(params, injected.all())

    def _choose(self, block, injected):
        """The first chunk's losses, the faster way: a few points one by one (after a
        warm-up) against the whole chunk vectorized, per point."""
        count = min(len(block), self.PROBE)
        part = None if injected is None else injected.head(count)
        self._loop(block[:1], part)
        start = time.perf_counter()
        looped = self._loop(block[:count], part)
        loop_time = (time.perf_counter() - start) / count
        try:
            start = time.perf_counter()
            values = self._vmap(block, injected)
            self.vectorized = (time.perf_counter() - start) / len(block) < loop_time
        except Exception:  # noqa: BLE001 - not vmappable: point by point, same values
            self.vectorized = False
        if self.vectorized:
            return values
        import torch

        rest = None if injected is None else injected.tail(count)
        return torch.cat([looped, self._loop(block[count:], rest)])

    def __call__(self, points) -> np.ndarray:
        """Losses of the rows of ``points``: an (n, P) tensor on the model's device, or a
        :class:`PlanePoints` (whose rows are made a chunk at a time, and whose leading
        affine layer's output is combined from three passes)."""
        import torch

        rows: Callable[[int, int], Any]
        lead = None
        if isinstance(points, PlanePoints):
            rows, count = points, points.count
            lead = self._lead_outputs(points) if self.lead is not None else None
            self._plane = (points.base, points.directions, lead)  # the next part's too
        else:
            rows, count = (lambda a, b: points[a:b]), len(points)
        out = []
        with evaluating(self.net), torch.no_grad():
            for start in range(0, count, self.chunk):
                stop = min(start + self.chunk, count)
                block = rows(start, stop)
                injected = None if lead is None else _Combined(lead, points.coords[start:stop])
                if self.vectorized is None:
                    out.append(self._choose(block, injected))
                elif self.vectorized:
                    out.append(self._vmap(block, injected))
                else:
                    out.append(self._loop(block, injected))
        return torch.cat(out).double().cpu().numpy() if out else np.zeros(0)

    def _lead_outputs(self, points: PlanePoints) -> _LeadOutputs:
        """The leading affine layer's output at the plane's origin and along each direction
        (its parameters taken from the flat vectors; any it has outside them, as they are)."""
        import torch
        from torch.func import functional_call

        assert self.lead is not None
        if self._plane is not None and self._plane[0] is points.base \
                and self._plane[1] is points.directions:
            return self._plane[2]  # the same plane as the last call (a grid's next rows)
        name, module = self.lead
        prefix = f"{name}." if name else ""
        own = dict(module.named_parameters(recurse=False))
        outputs = []
        with evaluating(self.net):
            for k, flat in enumerate((points.base, *points.directions)):
                split = self.layout.split(flat)
                params = {}
                for key, value in own.items():
                    if prefix + key in split:
                        params[key] = split[prefix + key]
                    else:  # a frozen parameter: in the origin, not along the directions
                        params[key] = value if k == 0 else torch.zeros_like(value)
                out = functional_call(module, params, (self.x,))
                outputs.append(out.contiguous(memory_format=torch.channels_last)
                               if out.dim() == 4 else out)
        return _LeadOutputs(outputs)


#: Element-wise non-decreasing activations: max-pooling before them gives the same values
#: (LeakyReLU only with a slope of at least 0).
MONOTONE = ("ReLU", "LeakyReLU", "ReLU6", "Tanh", "Sigmoid")


def _pool_first(sequence) -> None:
    """In a Sequential of the private copy, a monotone activation directly followed by a
    MaxPool2d swapped: ``pool(act(z)) = act(pool(z))`` exactly, on a quarter of the values."""
    import torch

    for i in range(len(sequence) - 1):
        act, pool = sequence[i], sequence[i + 1]
        if (type(act).__name__ in MONOTONE and type(act) is getattr(torch.nn, type(act).__name__)
                and getattr(act, "negative_slope", 0.0) >= 0
                and type(pool) is torch.nn.MaxPool2d and not pool.return_indices):
            sequence[i], sequence[i + 1] = pool, act


def _channels_last_pool(self, input):
    """MaxPool2d's forward on a channels-last input (on a CPU, many times faster than on a
    contiguous one; the same values)."""
    import torch

    if input.dim() == 4:
        input = input.contiguous(memory_format=torch.channels_last)
    return torch.nn.MaxPool2d.forward(self, input)


class _LeadOutputs:
    """The leading layer's outputs on one plane (origin, each direction), and the buffers
    its combinations are written into, kept from point to point and chunk to chunk (a
    fresh allocation of this size costs more than the arithmetic)."""

    def __init__(self, outputs) -> None:
        self.outputs = outputs
        self.buffer: Any = None
        self.row: Any = None  # out₀ + b·out₂ for the last b (a grid row shares its b)
        self.row_b: float | None = None


class _Combined:
    """``out₀ + a·out₁ + b·out₂`` for the (a, b) rows of a chunk: one point (loop) or all
    stacked (vmap)."""

    def __init__(self, lead: _LeadOutputs, coords) -> None:
        self.lead, self.coords = lead, coords
        self._values = [(float(a), float(b)) for a, b in coords.tolist()]

    def __call__(self, i: int):
        """The output at the chunk's ``i``-th point (valid until the next call)."""
        import torch

        a, b = self._values[i]
        lead = self.lead
        base, first, second = lead.outputs
        if lead.buffer is None:
            lead.buffer, lead.row = torch.empty_like(base), torch.empty_like(base)
        if b != lead.row_b:
            torch.add(base, second, alpha=b, out=lead.row)
            lead.row_b = b
        return torch.add(lead.row, first, alpha=a, out=lead.buffer)

    def all(self):
        base, first, second = self.lead.outputs
        shape = (len(self.coords),) + (1,) * base.dim()
        a = self.coords[:, 0].reshape(shape)
        b = self.coords[:, 1].reshape(shape)
        return base + a * first + b * second

    def head(self, count: int) -> _Combined:
        return _Combined(self.lead, self.coords[:count])

    def tail(self, start: int) -> _Combined:
        return _Combined(self.lead, self.coords[start:])
