"""Loss landscapes: the loss over a 2D plane through a model's parameters.

The plane is ``θ(α, β) = θ₀ + α·d₁ + β·d₂`` around the parameters ``θ₀``. The directions are
either two random directions with *filter normalization* (Li et al., 2018, "Visualizing the
Loss Landscape of Neural Nets": each row of a random matrix gets the norm of the same row of
the weights, so the plot's scale matches the network's), two chosen weights (unit steps on
two entries: the plane shows ``w + δ``), or the first two principal directions of a training
path. A training path is shown by projecting each epoch's parameters onto the plane.

A path is a sequence of parameter dicts, or an array with one row per epoch of every
parameter flattened in the order of the origin's names (what :func:`flatten_path` gives).

The whole grid is evaluated in one batched call of a :data:`BatchedLoss`: a function of a
dict of parameter arrays with a leading grid axis G that returns G losses. For PyTorch
models :func:`torch_batched_loss` builds one with ``torch.func.functional_call`` and
``vmap``; a numpy model broadcasts its matrix products over G. torch is imported only there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .torchutil import torch_threads  # imports torch only when used

Params = Mapping[str, np.ndarray]
#: Loss for G parameter sets at once: {name: (G, *shape)} -> (G,) array of floats.
BatchedLoss = Callable[[Params], np.ndarray]
Directions = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Landscape:
    """Loss values on a grid: ``losses[j, i]`` is the loss at ``(alphas[i], betas[j])``.

    ``alphas`` and ``betas`` are offsets along the two directions (for chosen weights: the
    change δ of each weight), so ``origin + alphas[i]·d₁ + betas[j]·d₂`` is evaluated.
    """

    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray

    def at(self, i: int, j: int) -> float:
        return float(self.losses[j, i])


def _as_float(params: Params) -> dict[str, np.ndarray]:
    return {name: np.asarray(value, dtype=float) for name, value in params.items()}


def filter_normalize(direction: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Scale each filter (row, i.e. one output unit's incoming weights) of ``direction`` to
    the norm of the same filter of ``weight``."""
    rows = direction.reshape(direction.shape[0], -1)
    target = np.linalg.norm(weight.reshape(weight.shape[0], -1), axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    scaled = rows * (target / np.where(norms > 0, norms, 1.0))
    return scaled.reshape(direction.shape)


def random_directions(params: Params, seed: int = 0, ignore_biases: bool = True) -> Directions:
    """Two Gaussian directions, filter-normalized against ``params`` (Li et al. 2018).

    One-dimensional parameters (biases) get a zero direction when ``ignore_biases`` (the
    paper's choice), otherwise they are scaled to the norm of the bias vector.
    Deterministic for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    params = _as_float(params)
    pair = []
    for _ in range(2):
        direction: dict[str, np.ndarray] = {}
        for name in sorted(params):
            value = params[name]
            noise = rng.standard_normal(value.shape)
            if value.ndim <= 1:
                if ignore_biases:
                    direction[name] = np.zeros_like(value)
                else:
                    norm = np.linalg.norm(noise)
                    direction[name] = noise * (np.linalg.norm(value) / norm if norm else 0.0)
            else:
                direction[name] = filter_normalize(noise, value)
        pair.append({name: direction[name] for name in params})
    return pair[0], pair[1]


def weight_directions(params: Params, first: tuple[str, tuple[int, ...]],
                      second: tuple[str, tuple[int, ...]]) -> Directions:
    """Unit directions along two single weights, each given as (parameter name, index).

    Moving ``α`` along the first changes exactly that weight by ``α``: the plane is w + δ.
    """
    params = _as_float(params)
    pair = []
    for name, index in (first, second):
        if name not in params:
            raise KeyError(f"no parameter named {name!r}; have {', '.join(params)}")
        direction = {key: np.zeros_like(value) for key, value in params.items()}
        direction[name][tuple(index)] = 1.0
        pair.append(direction)
    if all(np.array_equal(pair[0][k], pair[1][k]) for k in params):
        raise ValueError("the two chosen weights must differ")
    return pair[0], pair[1]


#: A training path: parameter dicts, or an (epochs, n_params) array of flattened rows.
Path = Sequence[Params] | np.ndarray


def _flatten(params: Params, names: Sequence[str]) -> np.ndarray:
    return np.concatenate([np.ravel(params[name]) for name in names])


def flatten_path(path: Path, names: Sequence[str]) -> np.ndarray:
    """``path`` as an (epochs, n_params) float array, each row flattened in ``names`` order.

    An array is taken as already flattened in that order.
    """
    if isinstance(path, np.ndarray):
        return np.asarray(path, dtype=float).reshape(len(path), -1)
    return np.stack([_flatten(_as_float(p), names) for p in path])


def pca_directions(path: Path, origin: Params) -> Directions:
    """The two principal directions of ``path − origin`` (unit vectors; Li et al. §7).

    Random directions in a high-dimensional space are nearly orthogonal to any training
    path, so a projected path would barely move; these directions capture most of it.
    """
    origin = _as_float(origin)
    names = list(origin)
    base = _flatten(origin, names)
    offsets = flatten_path(path, names) - base
    _, _, vt = np.linalg.svd(offsets, full_matrices=False)
    vectors = list(vt[:2])
    while len(vectors) < 2:  # a path of one point: fall back to coordinate axes
        vectors.append(np.eye(len(base))[len(vectors)])
    directions = []
    for vector in vectors:
        direction, start = {}, 0
        for name in names:
            size = origin[name].size
            direction[name] = vector[start:start + size].reshape(origin[name].shape)
            start += size
        directions.append(direction)
    return directions[0], directions[1]


def project(path: Path, origin: Params, directions: Directions) -> np.ndarray:
    """Coordinates (α, β) of each parameter set of ``path`` projected onto the plane.

    Least squares: the point of the plane nearest each parameter vector (the directions need
    not be orthogonal). Returns an array of shape (len(path), 2).
    """
    origin = _as_float(origin)
    names = list(origin)
    basis = np.stack([_flatten(d, names) for d in directions], axis=1)  # (P, 2)
    base = _flatten(origin, names)
    offsets = flatten_path(path, names) - base  # (n, P)
    coords, *_ = np.linalg.lstsq(basis, offsets.T, rcond=None)
    return coords.T


def plane_params(origin: Params, directions: Directions, alphas: np.ndarray,
                 betas: np.ndarray) -> dict[str, np.ndarray]:
    """Every grid point's parameters: ``{name: (G, *shape)}``, G = len(alphas)·len(betas).

    Grid points run over alphas fastest (row j, column i ↦ j·len(alphas) + i). Parameters
    that both directions leave alone are read-only broadcast views (no copies).
    """
    origin = _as_float(origin)
    a, b = np.meshgrid(np.asarray(alphas, float), np.asarray(betas, float))
    a, b = a.ravel(), b.ravel()
    g = a.size
    grid: dict[str, np.ndarray] = {}
    d1, d2 = directions
    for name, value in origin.items():
        step1, step2 = np.asarray(d1[name], float), np.asarray(d2[name], float)
        if not step1.any() and not step2.any():
            grid[name] = np.broadcast_to(value, (g, *value.shape))
            continue
        shape = (g,) + (1,) * value.ndim
        grid[name] = value + a.reshape(shape) * step1 + b.reshape(shape) * step2
    return grid


def evaluate(loss: BatchedLoss, origin: Params, directions: Directions,
             alphas: np.ndarray, betas: np.ndarray) -> Landscape:
    """The loss on the grid ``alphas × betas`` around ``origin``, in one batched call."""
    alphas, betas = np.asarray(alphas, float), np.asarray(betas, float)
    values = np.asarray(loss(plane_params(origin, directions, alphas, betas)), dtype=float)
    return Landscape(alphas, betas, values.reshape(len(betas), len(alphas)))


def evaluate_loop(loss_one: Callable[[Params], float], origin: Params, directions: Directions,
                  alphas: np.ndarray, betas: np.ndarray) -> Landscape:
    """The same grid, one model evaluation per point (the notebooks' way; for comparison)."""
    origin = _as_float(origin)
    d1, d2 = directions
    alphas, betas = np.asarray(alphas, float), np.asarray(betas, float)
    values = np.empty((len(betas), len(alphas)))
    for j, beta in enumerate(betas):
        for i, alpha in enumerate(alphas):
            point = {k: v + alpha * d1[k] + beta * d2[k] for k, v in origin.items()}
            values[j, i] = loss_one(point)
    return Landscape(alphas, betas, values)


def centered_grid(span: float, resolution: int) -> np.ndarray:
    """``resolution`` offsets from −span to +span; an odd resolution includes 0 exactly."""
    grid = np.linspace(-span, span, resolution)
    if resolution % 2:
        grid[resolution // 2] = 0.0
    return grid


def torch_batched_loss(model, loss_fn: Callable, inputs, targets, *, chunk: int = 1024,
                       dtype=None) -> BatchedLoss:
    """A :data:`BatchedLoss` for a PyTorch ``model``: ``loss_fn(model(inputs), targets)``
    for every parameter set, via ``torch.func.functional_call`` and ``vmap``.

    Parameters missing from the dict keep the model's values. ``chunk`` grid points are
    evaluated per vectorized call, bounding memory.
    """
    import torch
    from torch.func import functional_call, vmap

    dtype = dtype or next(model.parameters()).dtype
    x = torch.as_tensor(np.array(inputs), dtype=dtype)
    t = torch.as_tensor(np.array(targets), dtype=dtype)

    def one(params):
        return loss_fn(functional_call(model, params, (x,)), t)

    batched = vmap(one)

    def to_tensor(value: np.ndarray):
        if value.ndim and value.strides[0] == 0:  # a broadcast view: share one copy
            return torch.as_tensor(np.array(value[0]), dtype=dtype).expand(value.shape)
        value = np.ascontiguousarray(value) if value.flags.writeable else np.array(value)
        return torch.as_tensor(value, dtype=dtype)

    def loss(params: Params) -> np.ndarray:
        tensors = {name: to_tensor(np.asarray(value)) for name, value in params.items()}
        size = next(iter(tensors.values())).shape[0]
        parts = []
        with torch.no_grad(), torch_threads(1):
            for start in range(0, size, chunk):
                part = {name: value[start:start + chunk] for name, value in tensors.items()}
                parts.append(batched(part))
        return torch.cat(parts).double().numpy()

    return loss
