"""Lloyd's algorithm, vectorized, restarted with fresh centroids for every K."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from mlviz import Config, Dataset, Snapshot, param

BOX = (1200.0, 675.0)  # width and height of the default point cloud


@dataclass(frozen=True)
class KMeansConfig(Config):
    k_max: int = param(12, "clusters are fitted for K = 1 … k_max", min=1, max=12)
    max_iter: int = param(10, "most Lloyd iterations (frames) per K", min=1, max=100)
    stop_early: bool = param(
        True, "move on to the next K once assignments stop changing (false: always max_iter)"
    )
    init: Literal["k-means++", "random"] = param(
        "k-means++", "initial centroids: k-means++ seeding, or uniform in the data's box"
    )
    n_points: int = param(100, "number of points in the default dataset", min=2, max=5_000)


@dataclass(frozen=True)
class KMeansSnapshot(Snapshot):
    """One Lloyd iteration: ``loss`` is the inertia of ``centroids`` with ``labels``.

    ``k`` is traced at every epoch: with the loss it gives the elbow (:func:`elbow`).
    ``params["centroids"]`` holds the centroids padded with NaN rows to ``k_max``, so that
    it keeps one shape and can be recorded at every epoch (``mlviz train --record-params``).
    """

    traces: ClassVar[tuple[str, ...]] = ("k",)

    k: int = 1
    iteration: int = 0
    centroids: np.ndarray = None
    labels: np.ndarray = None
    converged: bool = False


def elbow(k: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, inertia) at the last epoch of each K, from per-epoch traces of ``k`` and the loss.

    K restarts only upward, so on the traces up to some epoch the last pair is the current
    K and its current inertia, the ones before it the finished Ks' final inertias.
    """
    k, loss = np.asarray(k), np.asarray(loss, dtype=float)
    last = np.flatnonzero(np.r_[k[1:] != k[:-1], True]) if len(k) else np.array([], dtype=int)
    return k[last], loss[last]


def squared_distances(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """(n, k) matrix of squared Euclidean distances."""
    diff = points[:, None, :] - centroids[None, :, :]
    return np.einsum("nkd,nkd->nk", diff, diff)


def assign(points: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, float]:
    """Nearest-centroid labels and the inertia (sum of squared distances), a float."""
    d2 = squared_distances(points, centroids)
    labels = np.argmin(d2, axis=1)
    return labels, float(d2[np.arange(len(points)), labels].sum())


def update_centroids(points: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Mean of each cluster's points (float); an empty cluster keeps its centroid."""
    k, dim = centroids.shape
    sums = np.zeros((k, dim))
    np.add.at(sums, labels, points)
    counts = np.bincount(labels, minlength=k).astype(float)
    new = centroids.astype(float).copy()
    filled = counts > 0
    new[filled] = sums[filled] / counts[filled, None]
    return new


def initial_centroids(points: np.ndarray, k: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """k starting centroids: k-means++ (D² sampling) or uniform in the bounding box."""
    if method == "random":
        lo, hi = points.min(axis=0), points.max(axis=0)
        return rng.uniform(lo, hi, size=(k, points.shape[1]))
    centroids = [points[rng.integers(len(points))]]
    closest = squared_distances(points, np.array(centroids))[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        index = rng.choice(len(points), p=closest / total) if total > 0 else rng.integers(len(points))
        centroids.append(points[index])
        closest = np.minimum(closest, squared_distances(points, points[index][None])[:, 0])
    return np.array(centroids, dtype=float)


def lloyd(points: np.ndarray, centroids: np.ndarray, max_iter: int, stop_early: bool = True):
    """Yield (iteration, centroids, labels, inertia, converged) for up to ``max_iter`` steps.

    Each step shows centroids with the assignment to them; the next centroids are the means.
    It stops after the first step whose assignment equals the previous one (converged).
    """
    previous = None
    for iteration in range(max_iter):
        labels, inertia = assign(points, centroids)
        converged = previous is not None and np.array_equal(labels, previous)
        yield iteration, centroids, labels, inertia, converged
        if converged and stop_early:
            return
        previous = labels
        centroids = update_centroids(points, labels, centroids)


class KMeansTrainer:
    """k-means for K = 1 … k_max; every K starts from fresh, seeded centroids."""

    def __init__(self, config: KMeansConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[KMeansSnapshot]:
        config = self.config
        points = dataset.X
        rng = np.random.default_rng(config.seed)
        epoch = 0
        for k in range(1, config.k_max + 1):
            start = initial_centroids(points, k, config.init, rng)
            for iteration, centroids, labels, inertia, converged in lloyd(
                points, start, config.max_iter, config.stop_early
            ):
                padded = np.full((config.k_max, points.shape[1]), np.nan)
                padded[:k] = centroids
                yield KMeansSnapshot(
                    epoch=epoch, loss=inertia, params={"centroids": padded},
                    k=k, iteration=iteration, centroids=centroids, labels=labels,
                    converged=converged,
                )
                epoch += 1


def default_dataset(config: KMeansConfig) -> Dataset:
    """``n_points`` points uniform in a 1200 × 675 box (seeded)."""
    rng = np.random.default_rng(config.seed)
    points = rng.uniform((0.0, 0.0), BOX, size=(config.n_points, 2))
    return Dataset(points, feature_names=("x", "y"), name="uniform box",
                   description=f"{config.n_points} random points in a 1200 × 675 box")
