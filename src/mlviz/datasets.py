"""Stock 2D datasets for classifiers and clusterers, as in TensorFlow Playground.

Every generator is seeded (the same ``seed`` gives the same points), vectorised, and
returns a :class:`~mlviz.Dataset` whose points lie in (or, with noise, around) the square
[−1, 1]², with integer class labels 0, 1, … (``uniform`` has none). ``noise`` is the
standard deviation of the Gaussian noise added to every point, in the square's units; the
classes are decided before the noise, so a large noise mixes them near their border.

A plugin offers the ones that fit it, e.g. ``--set dataset=moons --set noise=0.2``::

    from mlviz.datasets import make
    dataset = make(config.dataset, config.n_points, noise=config.noise, seed=config.seed)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .dataset import Dataset
from .errors import DataError

FEATURES = ("x₁", "x₂")


def _labelled(points: np.ndarray, labels: np.ndarray, name: str, description: str,
              n_classes: int) -> Dataset:
    return Dataset(points, labels.astype(int), feature_names=FEATURES, target_name="class",
                   name=name, description=description,
                   extra={"classes": tuple(f"class {c}" for c in range(n_classes))})


def _balanced(n_points: int, n_classes: int) -> np.ndarray:
    """Labels 0, 1, …, n_classes − 1, 0, 1, …: as many points of each class as can be."""
    return np.arange(n_points) % n_classes


def _spread_centres(count: int, box: tuple[float, float], separation: float,
                    rng: np.random.Generator, tries: int = 500) -> np.ndarray:
    """``count`` points uniform in the box [−w, w] × [−h, h], pairwise at least
    ``separation`` apart: the first of ``tries`` draws that is, else the best spread one."""
    half = np.asarray(box, dtype=float)
    draws = rng.uniform(-half, half, size=(tries, count, 2))
    if count == 1:
        return draws[0]
    gaps = np.linalg.norm(draws[:, :, None, :] - draws[:, None, :, :], axis=-1)
    gaps[:, np.arange(count), np.arange(count)] = np.inf
    closest = gaps.min(axis=(1, 2))
    good = np.flatnonzero(closest >= separation)
    return draws[good[0] if len(good) else int(np.argmax(closest))]


def blobs(n_points: int, centers: int | np.ndarray = 3, *, noise: float = 0.1, seed: int = 0,
          box: tuple[float, float] = (0.8, 0.8), separation: float | None = None) -> Dataset:
    """Round Gaussian blobs of standard deviation ``noise``, one class each.

    ``centers`` is how many blobs, placed at random in the box [−w, w] × [−h, h] at least
    ``separation`` apart (default: 6 × noise, at least 0.3, so that blobs do not touch),
    or an array of fixed centres. The points go round the blobs in turn.
    """
    rng = np.random.default_rng(seed)
    if np.ndim(centers) == 0:
        count = int(centers)
        if count < 1:
            raise DataError(f"blobs needs at least one centre, got {count}")
        gap = max(6.0 * noise, 0.3) if separation is None else separation
        where = _spread_centres(count, box, gap, rng)
    else:
        where = np.asarray(centers, dtype=float).reshape(-1, 2)
        count = len(where)
    labels = _balanced(n_points, count)
    points = where[labels] + rng.normal(0.0, noise, size=(n_points, 2))
    return _labelled(points, labels, "blobs",
                     f"{n_points} points in {count} Gaussian blobs (spread {noise:g})", count)


def moons(n_points: int, *, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaved half-moons (class 0 the upper one, class 1 the lower one)."""
    rng = np.random.default_rng(seed)
    labels = _balanced(n_points, 2)
    angle = rng.uniform(0.0, np.pi, n_points)
    upper = np.column_stack([np.cos(angle), np.sin(angle)])
    lower = np.column_stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
    points = np.where(labels[:, None] == 0, upper, lower)
    points = (points - (0.5, 0.25)) / 1.5  # x in [−1, 1], y in [−0.5, 0.5]
    points = points + rng.normal(0.0, noise, size=points.shape)
    return _labelled(points, labels, "moons",
                     f"{n_points} points on two interleaved half-moons, noise {noise:g}", 2)


def circles(n_points: int, *, noise: float = 0.1, seed: int = 0) -> Dataset:
    """A disc (class 1, radius < 0.45) inside a ring (class 0, radius 0.65 to 0.95)."""
    rng = np.random.default_rng(seed)
    labels = _balanced(n_points, 2)
    angle = rng.uniform(0.0, 2.0 * np.pi, n_points)
    inner = 0.45 * np.sqrt(rng.uniform(0.0, 1.0, n_points))  # uniform over the disc
    outer = rng.uniform(0.65, 0.95, n_points)
    radius = np.where(labels == 1, inner, outer)
    points = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    points = points + rng.normal(0.0, noise, size=points.shape)
    return _labelled(points, labels, "circles",
                     f"{n_points} points, a disc inside a ring, noise {noise:g}", 2)


def xor(n_points: int, *, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Uniform in [−1, 1]²; class 1 where exactly one coordinate is positive (x₁·x₂ < 0)."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.0, 1.0, (n_points, 2))
    labels = (points[:, 0] > 0) != (points[:, 1] > 0)
    if noise > 0:
        points = points + rng.normal(0.0, noise, size=points.shape)
    text = f"{n_points} points, XOR of the signs of x₁ and x₂"
    return _labelled(points, labels, "XOR", text + (f", noise {noise:g}" if noise else ""), 2)


def spiral(n_points: int, *, noise: float = 0.05, seed: int = 0, turns: float = 1.5) -> Dataset:
    """Two interleaved spiral arms of ``turns`` turns each, from the centre outward."""
    rng = np.random.default_rng(seed)
    labels = _balanced(n_points, 2)
    along = rng.uniform(0.0, 1.0, n_points)
    radius = 0.05 + 0.9 * along
    angle = 2.0 * np.pi * turns * along + np.pi * labels
    points = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    points = points + rng.normal(0.0, noise, size=points.shape)
    return _labelled(points, labels, "spiral",
                     f"{n_points} points on two spiral arms, noise {noise:g}", 2)


def uniform(n_points: int, *, noise: float = 0.0, seed: int = 0,
            box: tuple[float, float] = (1.0, 1.0)) -> Dataset:
    """Points uniform in the box [−w, w] × [−h, h]: no structure, no labels (``noise``
    is accepted for a common signature and ignored)."""
    rng = np.random.default_rng(seed)
    half = np.asarray(box, dtype=float)
    points = rng.uniform(-half, half, size=(n_points, 2))
    return Dataset(points, feature_names=FEATURES, name="uniform",
                   description=f"{n_points} points uniform in a box, no clusters")


#: Every stock dataset by name; each takes ``(n_points, *, noise, seed)``.
STOCK: dict[str, Callable[..., Dataset]] = {
    "blobs": blobs, "moons": moons, "circles": circles, "xor": xor, "spiral": spiral,
    "uniform": uniform,
}


def make(name: str, n_points: int, *, noise: float, seed: int, **options) -> Dataset:
    """The stock dataset ``name`` (see :data:`STOCK`); ``options`` go to its generator."""
    try:
        generator = STOCK[name]
    except KeyError:
        raise DataError(f"no stock dataset '{name}'; choose one of: {', '.join(STOCK)}") \
            from None
    return generator(n_points, noise=noise, seed=seed, **options)


def scaled(X: np.ndarray, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """Every column min-max scaled to [low, high] (a constant column to the middle)."""
    X = np.asarray(X, dtype=float)
    lo, hi = X.min(axis=0), X.max(axis=0)
    unit = np.where(hi > lo, (X - lo) / np.where(hi > lo, hi - lo, 1.0), 0.5)
    return low + (high - low) * unit
