"""The k-nearest-neighbour classifier, vectorized: neighbours are sorted once for every k."""

from __future__ import annotations

import numpy as np


def distances(queries: np.ndarray, points: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """(n_queries, n_points) matrix of distances, Euclidean or Manhattan."""
    if metric == "manhattan":
        return np.abs(queries[:, None, :] - points[None, :, :]).sum(axis=-1)
    # |q - p|² = |q|² - 2 q·p + |p|²; clipped at 0 against rounding.
    d2 = (queries**2).sum(1)[:, None] - 2.0 * queries @ points.T + (points**2).sum(1)[None, :]
    return np.sqrt(np.maximum(d2, 0.0))


def neighbour_labels(
    queries: np.ndarray, points: np.ndarray, labels: np.ndarray, k_max: int,
    metric: str = "euclidean", chunk: int = 4096,
) -> np.ndarray:
    """Labels of each query's ``k_max`` nearest points, nearest first: (n_queries, k_max).

    Equal distances keep the points' order (a stable sort). Queries are processed in chunks
    so a fine grid of queries needs little memory.
    """
    out = np.empty((len(queries), k_max), dtype=np.intp)
    for start in range(0, len(queries), chunk):
        d = distances(queries[start:start + chunk], points, metric)
        order = np.argsort(d, axis=1, kind="stable")[:, :k_max]
        out[start:start + chunk] = labels[order]
    return out


def predict(neighbours: np.ndarray, k: int, n_classes: int) -> np.ndarray:
    """Majority vote among the first ``k`` neighbours; a tie goes to the lowest class."""
    votes = np.stack([(neighbours[:, :k] == c).sum(axis=1) for c in range(n_classes)], axis=1)
    return np.argmax(votes, axis=1)


def error_rate(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Share of misclassified points, a float in [0, 1]."""
    return float(np.mean(predicted != truth)) if len(truth) else 0.0
