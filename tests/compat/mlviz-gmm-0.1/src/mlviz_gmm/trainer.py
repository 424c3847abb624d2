"""Config, snapshots, default data and the EM trainer of ``gaussian-mixture``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlviz import Config, Dataset, Snapshot, param


@dataclass(frozen=True)
class GmmConfig(Config):
    n_components: int = param(4, "Gaussian components of the mixture", min=1, max=16)
    epochs: int = param(20, "EM iterations, one frame each", min=1, max=500)
    n_points: int = param(300, "points in the default dataset", min=20, max=5000)
    spread: float = param(0.6, "spread of each blob of the default dataset", min=0.05, max=5.0)


@dataclass(frozen=True)
class GmmSnapshot(Snapshot):
    means: np.ndarray = None
    covariances: np.ndarray = None
    weights: np.ndarray = None
    labels: np.ndarray = None


def default_dataset(config: GmmConfig) -> Dataset:
    rng = np.random.default_rng(config.seed)
    angles = np.linspace(0, 2 * np.pi, config.n_components, endpoint=False)
    centres = np.column_stack([np.cos(angles), np.sin(angles)]) * (2.0 + config.n_components / 3)
    which = rng.integers(0, config.n_components, config.n_points)
    X = centres[which] + rng.normal(scale=config.spread, size=(config.n_points, 2))
    return Dataset(X, which, feature_names=("x", "y"), name="blobs")


def _log_densities(X, means, covariances, weights):
    diff = X[:, None, :] - means[None]
    inverse = np.linalg.inv(covariances)
    mahalanobis = np.einsum("nki,kij,nkj->nk", diff, inverse, diff)
    log_det = np.linalg.slogdet(covariances)[1]
    return np.log(weights)[None] - 0.5 * (mahalanobis + log_det[None] + 2 * np.log(2 * np.pi))


class GmmTrainer:
    def __init__(self, config: GmmConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset):
        config, X = self.config, dataset.X
        rng = np.random.default_rng(config.seed)
        k = config.n_components
        means = X[rng.choice(len(X), k, replace=False)]
        covariances = np.repeat(np.cov(X.T)[None] / k, k, axis=0)
        weights = np.full(k, 1.0 / k)
        for epoch in range(config.epochs):
            log_p = _log_densities(X, means, covariances, weights)
            top = log_p.max(axis=1, keepdims=True)
            log_total = top[:, 0] + np.log(np.exp(log_p - top).sum(axis=1))
            yield GmmSnapshot(epoch, float(-log_total.mean()), means=means,
                              covariances=covariances, weights=weights,
                              labels=log_p.argmax(axis=1))
            resp = np.exp(log_p - log_total[:, None])
            counts = resp.sum(axis=0) + 1e-9
            weights = counts / counts.sum()
            means = (resp.T @ X) / counts[:, None]
            diff = X[:, None, :] - means[None]
            covariances = np.einsum("nk,nki,nkj->kij", resp, diff, diff) / counts[:, None, None]
            covariances = covariances + 1e-4 * np.eye(2)[None]
