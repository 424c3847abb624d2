"""What a watched run's record is computed from at ``save``: the loss of many parameter
sets at once, the PCA plane of the trajectory and its landscape, decision regions and
the last hidden layer's activations.

The loss of many parameter sets at once (the landscape's grid, the path) is
:mod:`mlviz.watch.gridloss`'s, with its cost model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Default memory budget of one batched landscape call, in bytes.
MEMORY_BUDGET = 512 * 2**20


@dataclass(frozen=True)
class Layout:
    """How the model's trainable parameters lie in one flat vector."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    sizes: tuple[int, ...]

    @classmethod
    def of(cls, model) -> Layout:
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        return cls(tuple(n for n, _ in named), tuple(tuple(p.shape) for _, p in named),
                   tuple(p.numel() for _, p in named))

    @property
    def size(self) -> int:
        return sum(self.sizes)

    def split(self, flat) -> dict[str, Any]:
        """{name: view} of a (..., P) tensor: each parameter with the leading axes kept."""
        lead = tuple(flat.shape[:-1])
        parts = flat.split(list(self.sizes), dim=-1)
        return {n: part.reshape(*lead, *shape)
                for n, part, shape in zip(self.names, parts, self.shapes)}


@contextlib.contextmanager
def evaluating(model) -> Iterator[None]:
    """The model in eval mode and without gradients, its modes restored afterwards."""
    import torch

    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for module, mode in modes:
            module.training = mode


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS on one thread for the block (threadpoolctl, where installed): the
    small SVDs of a save are many times slower when its threads contend with a busy
    machine's other processes (0.6 s instead of 0.05 s for 600 x 128 at load 8)."""
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def hooked_pass(model, x, hook, pre: bool = False) -> None:
    """One evaluation pass of ``x`` with ``hook`` on every leaf module (a forward hook, or
    with ``pre`` a forward pre-hook), the hooks removed at once."""
    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_pre_hook(hook) if pre else m.register_forward_hook(hook)
               for m in leaves]
    try:
        with evaluating(model):
            model(x)
    finally:
        for handle in handles:
            handle.remove()


def per_point_bytes(model, x) -> int:
    """Bytes one forward pass of ``x`` holds: every leaf module's output, twice (inputs of
    the next), plus the parameters. Measured with forward hooks, removed at once."""
    total = [0]

    def hook(module, inputs, output):
        import torch

        if isinstance(output, torch.Tensor):
            total[0] += output.numel() * output.element_size()

    hooked_pass(model, x, hook)
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    return 2 * total[0] + params + x.numel() * x.element_size()


@dataclass(frozen=True)
class Plane:
    """The plane of a trajectory: its mean, two unit directions (rows), each kept point's
    coordinates, the share of the trajectory's variance it holds."""

    origin: np.ndarray
    directions: np.ndarray
    coords: np.ndarray
    variance: float


def pca_plane(rows: np.ndarray) -> Plane:
    """The best-fit plane through ``rows`` (finite parameter vectors): centred PCA."""
    rows = np.asarray(rows, dtype=float)
    origin = rows.mean(axis=0)
    offsets = rows - origin
    _, s, vt = np.linalg.svd(offsets, full_matrices=False)
    directions = np.zeros((2, rows.shape[1]))
    directions[: min(2, len(vt))] = vt[:2]
    for k in range(len(vt[:2]), 2):  # fewer than 2 directions: coordinate axes, orthogonalised
        axis = np.eye(rows.shape[1])[k % rows.shape[1]]
        axis -= directions[:k].T @ (directions[:k] @ axis)
        directions[k] = axis / (np.linalg.norm(axis) or 1.0)
    total = float((s ** 2).sum())
    variance = float((s[:2] ** 2).sum() / total) if total > 0 else 1.0
    return Plane(origin, directions, offsets @ directions.T, variance)


#: How the plane of a landscape is chosen.
DIRECTIONS = ("pca", "filter")


def filter_plane(rows: np.ndarray, layout: Layout, seed: int = 0) -> Plane:
    """The plane through the last of ``rows`` (finite parameter vectors) along two random
    Gaussian directions, filter-normalised (Li et al. 2018, :func:`mlviz.landscape.
    random_directions`): each filter (output-unit slice of a weight) gets the norm of the
    same filter of the final weights; biases and other 1-D parameters (batch norm's) get 0.
    The path is projected on it by least squares (the directions are not orthogonal);
    ``variance`` is the share of the centred path's variance in the plane (small: random
    directions are nearly orthogonal to a training path)."""
    from ..landscape import random_directions

    rows = np.asarray(rows, dtype=float)
    origin = rows[-1]
    final = {name: value for name, value in zip(layout.names, _split_np(origin, layout))}
    pair = random_directions(final, seed=seed)
    directions = np.stack([np.concatenate([d[name].ravel() for name in layout.names])
                           for d in pair])
    coords, *_ = np.linalg.lstsq(directions.T, (rows - origin).T, rcond=None)
    centred = rows - rows.mean(axis=0)
    basis, _ = np.linalg.qr(directions.T)
    total = float((centred ** 2).sum())
    held = float(((centred @ basis) ** 2).sum())
    return Plane(origin, directions, coords.T, held / total if total > 0 else 1.0)


def _split_np(flat: np.ndarray, layout: Layout) -> list[np.ndarray]:
    parts = np.split(flat, np.cumsum(layout.sizes)[:-1])
    return [part.reshape(shape) for part, shape in zip(parts, layout.shapes)]


def grid_axes(coords: np.ndarray, resolution: int, margin: float = 0.25,
              least: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Axes of a grid holding every point of ``coords`` with a ``margin`` of its extent,
    and at least ``[-least, least]`` on each axis (1 for filter-normalised directions:
    a step the size of the weights, the span Li et al. draw)."""
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    extent = np.maximum(hi - lo, 1e-3 * max(float(np.abs(coords).max()), 1.0))
    lo, hi = lo - margin * extent, hi + margin * extent
    if least > 0:
        lo, hi = np.minimum(lo, -least), np.maximum(hi, least)
    return np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)


def last_layer(model):
    """The last module (in registration order) holding trainable parameters directly."""
    found = None
    for module in model.modules():
        if any(p.requires_grad for p in module.parameters(recurse=False)):
            found = module
    return found


def outputs_and_hidden(model, layout: Layout, flat_rows, x, want_hidden: bool
                       ) -> tuple[list[Any], list[Any]]:
    """The model's outputs on ``x`` (and the input of its last layer, flattened) for each
    flat parameter row; a forward pre-hook reads the input, removed afterwards."""
    from torch.func import functional_call

    captured: list[Any] = []
    handle = None
    if want_hidden:
        layer = last_layer(model)
        handle = layer.register_forward_pre_hook(
            lambda module, inputs: captured.append(inputs[0].reshape(len(inputs[0]), -1)))
    outputs, hidden = [], []
    try:
        with evaluating(model):
            for row in flat_rows:
                captured.clear()
                outputs.append(functional_call(model, layout.split(row), (x,)))
                if want_hidden:
                    hidden.append(captured[-1] if captured else None)
    finally:
        if handle is not None:
            handle.remove()
    return outputs, hidden


def predicted_classes(output, classes: int):
    """Class indices from a model's outputs: argmax of several, or one output split at 0
    (logits) or 0.5 (a probability: every value in [0, 1])."""
    out = output.reshape(len(output), -1)
    if out.shape[1] > 1:
        return out.argmax(dim=1)
    values = out[:, 0]
    probability = bool(((values >= 0) & (values <= 1)).all())
    return (values > (0.5 if probability else 0.0)).long()


def project_2d(hidden: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Points of ``hidden`` (n, d) on their first two principal components, each scaled to
    unit standard deviation, signs chosen to follow ``previous`` (the frame before) so axes do not flip."""
    centred = hidden - hidden.mean(axis=0)
    if centred.shape[1] == 1:
        coords = np.column_stack([centred[:, 0], np.zeros(len(centred))])
    else:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        coords = centred @ vt[:2].T
        if coords.shape[1] == 1:
            coords = np.column_stack([coords[:, 0], np.zeros(len(coords))])
    spread = coords.std(axis=0)
    coords = coords / np.where(spread > 0, spread, 1.0)
    if previous is not None:
        for k in range(2):
            if float(coords[:, k] @ previous[:, k]) < 0:
                coords[:, k] = -coords[:, k]
    return coords
