"""Principal component analysis by eigendecomposition of the covariance matrix.

PCA has no training loop; its "trainer" walks through the number of kept components,
k = 0, 1, …, d, then back to the fewest that keep 95 % of the variance (the lesson: the
default cloud flattened onto the PC1–PC2 plane),
and yields one snapshot per animation frame (epoch = frame index). Between two values of k
the points slide from their reconstruction on one span to the other. The loss is the
reconstruction error: the mean over points of the squared distance between a point and
its reconstruction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from mlviz import Config, Dataset, Snapshot, param

LINE_START = np.array([-1.0, -1.0, -1.0])  # the notebook's line through the cube's diagonal
LINE_END = np.array([1.0, 1.0, 1.0])
#: The default cloud's axes: along the cube's diagonal, then level across it, then out of
#: that plane (so the plane of the first two is a tilted sheet that the panels' camera, a
#: little above it, sees almost edge-on); and its standard deviation along the first two
#: (along the third there is only the noise).
CLOUD_AXES = np.array([[1.0, 1.0, 1.0], [1.0, -1.0, 0.0], [1.0, 1.0, -2.0]])
CLOUD_AXES /= np.linalg.norm(CLOUD_AXES, axis=1, keepdims=True)
CLOUD_SPREAD = (0.5, 0.22)


@dataclass(frozen=True)
class PCAConfig(Config):
    dataset: Literal["cloud", "line"] = param(
        "cloud", "default data: a tilted, flattened cloud whose components explain about "
        "81 %, 17 % and 2 % of the variance (each one matters less), or the notebook's noisy "
        "line along the cube's diagonal")
    n_points: int = param(200, "number of points in the default dataset", min=3, max=100_000)
    noise: float = param(0.08, "std of the Gaussian noise added to every coordinate (default "
                               "dataset)", min=0.0, max=5.0)
    standardize: bool = param(
        False, "z-score every feature first (PCA of the correlation matrix); the panels "
        "then show the z-scored data"
    )
    slide_frames: int = param(8, "frames while the points slide onto the next span", min=1,
                              max=60)
    hold_frames: int = param(4, "frames held at each number of kept components", min=1,
                             max=60)


@dataclass(frozen=True)
class PCAFit:
    """Mean, principal components (rows, by decreasing variance) and their variances."""

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        return self.explained_variance / self.explained_variance.sum()

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.explained_variance)


def fit_pca(X: np.ndarray) -> PCAFit:
    """Eigendecomposition (``eigh``: the covariance is symmetric) of the sample covariance.

    Each component's sign is chosen so that its largest entry (in absolute value) is positive.
    """
    mean = X.mean(axis=0)
    cov = np.cov(X - mean, rowvar=False, ddof=1)
    values, vectors = np.linalg.eigh(np.atleast_2d(cov))
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order].T
    signs = np.sign(vectors[np.arange(len(vectors)), np.argmax(np.abs(vectors), axis=1)])
    return PCAFit(mean=mean, components=vectors * signs[:, None], explained_variance=values)


def drawn_data(dataset: Dataset, standardize: bool) -> np.ndarray:
    """The points PCA is fitted on, and drawn: the data, z-scored if ``standardize``."""
    X = np.asarray(dataset.X, dtype=float)
    if not standardize:
        return X
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def smoothstep(t: float) -> float:
    """Ease in and out: 0 → 0, 1 → 1, zero speed at both ends."""
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class PCASnapshot(Snapshot):
    """One frame: ``k`` components kept, reached from ``k_from`` with ``progress`` 0 → 1
    (``progress`` 1: held at ``k``; ``k_from`` ``None`` means ``k`` − 1, the component
    entering, as in runs recorded before the walk back to k = 2).

    ``weights`` scales each component's scores (1 kept, ``progress`` entering, 0 dropped);
    ``scores`` are the weighted coordinates in the components' basis and ``reconstruction``
    the points they give back in the data's space; ``loss`` is their mean squared error.
    ``explained_variance_ratio`` (the same every epoch) is traced, for the variance bars.
    ``turn`` (degrees) turns the 3D panels' camera about the vertical while a pose is held
    (:func:`camera_turns`), so a held pose shows its depth instead of standing still.
    """

    traces: ClassVar[tuple[str, ...]] = ("explained_variance_ratio",)

    k: int = 0
    progress: float = 1.0
    k_from: int | None = None
    weights: np.ndarray | None = None
    scores: np.ndarray | None = None
    reconstruction: np.ndarray | None = None
    explained_variance_ratio: np.ndarray | None = None
    turn: float = 0.0


#: The walk ends back at the fewest components that keep this share of the variance.
KEEP_SHARE = 0.95


def kept_components(explained_variance_ratio: np.ndarray) -> int:
    """The fewest components that keep ``KEEP_SHARE`` of the variance, between 1 and d − 1
    (the default cloud: 2, its plane; the noisy line: 1)."""
    ratio = np.asarray(explained_variance_ratio, dtype=float)
    d = len(ratio)
    enough = int(np.searchsorted(np.cumsum(ratio), KEEP_SHARE - 1e-12)) + 1
    return int(min(max(enough, 1), max(d - 1, 1)))


def stages(n_components: int, slide: int, hold: int,
           keep: int | None = None) -> list[tuple[int, int, float]]:
    """(k_from, k, progress) per frame: hold at k = 0, then for each k slide in and hold;
    then, if ``keep`` < ``n_components``, drop back to ``keep`` components and hold there
    twice as long (the lesson: the cloud flattened onto the span that matters)."""
    frames = [(0, 0, 1.0)] * hold
    for k in range(1, n_components + 1):
        frames += [(k - 1, k, smoothstep(i / slide)) for i in range(1, slide + 1)]
        frames += [(k, k, 1.0)] * (hold - 1)
    if keep is not None and 0 < keep < n_components:
        frames += [(n_components, keep, smoothstep(i / slide)) for i in range(1, slide + 1)]
        frames += [(keep, keep, 1.0)] * (2 * hold - 1)
    return frames


#: How far (degrees) the camera swings while a pose is held; the swing peaks early
#: (x**SWING_SKEW with x from 0 to 1: at x = 0.37).
TURN = 15.0
SWING_SKEW = 0.7


def camera_turns(frames: list[tuple[int, int, float]], turn: float = TURN) -> np.ndarray:
    """The camera's turn at each of the :func:`stages` frames: while a pose is held (the
    slide's end and the 2 or more frames held after it) the camera swings out to ``turn``
    degrees, quickly, and comes back more slowly (no two frames in a row alike); it stands
    still while the points slide, and at the last frame (the poster)."""
    turns = np.zeros(len(frames))
    i = 0
    while i < len(frames):
        j = i
        if frames[i][2] == 1.0:
            while j + 1 < len(frames) and frames[j + 1][2] == 1.0 \
                    and frames[j + 1][1] == frames[i][1]:
                j += 1
        held = j - i + 1
        if held >= 3:
            x = np.arange(held) / (held - 1)
            turns[i:j + 1] = turn * np.sin(np.pi * x**SWING_SKEW)
            turns[j] = 0.0  # exactly home (sin π is not quite 0)
        i = j + 1
    return turns


def stage_weights(k_from: int, k: int, progress: float, d: int) -> np.ndarray:
    """Each component's weight at one frame: 1 kept, 0 dropped, and the components
    between ``k_from`` and ``k`` (entering or leaving) at the slide's ``progress``."""
    before = (np.arange(d) < k_from).astype(float)
    after = (np.arange(d) < k).astype(float)
    return before + progress * (after - before)


def reconstruction_mse(X: np.ndarray, reconstruction: np.ndarray) -> float:
    """Mean over points of the squared distance to their reconstruction."""
    return float(np.mean(np.sum((X - reconstruction) ** 2, axis=1)))


class PCATrainer:
    """Fits PCA once, then yields the frames that add one component after another."""

    def __init__(self, config: PCAConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[PCASnapshot]:
        config = self.config
        X = drawn_data(dataset, config.standardize)
        fit = fit_pca(X)
        full_scores = (X - fit.mean) @ fit.components.T
        d = X.shape[1]
        keep = kept_components(fit.explained_variance_ratio)
        frames = stages(d, config.slide_frames, config.hold_frames, keep)
        turns = camera_turns(frames)
        for epoch, (k_from, k, progress) in enumerate(frames):
            weights = stage_weights(k_from, k, progress, d)
            scores = full_scores * weights
            reconstruction = fit.mean + scores @ fit.components
            yield PCASnapshot(
                epoch=epoch, loss=reconstruction_mse(X, reconstruction),
                params={"mean": fit.mean, "components": fit.components,
                        "explained_variance": fit.explained_variance},
                k=k, progress=progress, k_from=k_from, weights=weights, scores=scores,
                reconstruction=reconstruction,
                explained_variance_ratio=fit.explained_variance_ratio,
                turn=float(turns[epoch]),
            )


def noisy_line(n_points: int, noise: float, seed: int) -> np.ndarray:
    """Points evenly spread along the middle half of the cube's diagonal, plus noise
    (the notebook's ``generate_noisy_hyperplane``)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.25, 0.75, n_points)[:, None]
    points = LINE_START + t * (LINE_END - LINE_START)
    return points + rng.normal(0.0, noise, size=points.shape)


def flat_cloud(n_points: int, noise: float, seed: int) -> np.ndarray:
    """A Gaussian cloud spread 0.5 along the cube's diagonal and 0.22 across it, plus
    isotropic noise: its principal components stand out one after another."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(0.0, 1.0, size=(n_points, 2)) * CLOUD_SPREAD
    return scores @ CLOUD_AXES[:2] + rng.normal(0.0, noise, size=(n_points, 3))


def default_dataset(config: PCAConfig) -> Dataset:
    if config.dataset == "line":
        points = noisy_line(config.n_points, config.noise, config.seed)
        return Dataset(points, feature_names=("x", "y", "z"), name="noisy line",
                       description=f"{config.n_points} points along a 3D line, noise "
                                   f"{config.noise:g}")
    points = flat_cloud(config.n_points, config.noise, config.seed)
    return Dataset(points, feature_names=("x", "y", "z"), name="flat cloud",
                   description=f"{config.n_points} points in a tilted, flattened cloud, noise "
                               f"{config.noise:g}")
