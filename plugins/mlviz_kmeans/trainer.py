"""Lloyd's algorithm, vectorized, restarted with fresh centroids for every K."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

import numpy as np

from mlviz import Config, ConfigError, Dataset, Snapshot, datasets, param
from mlviz.thinning import MUST_KEEP, WANTED

#: The default data are made in the stock datasets' units, then scaled by SCALE and moved
#: to CENTRE: into a 1200 × 675 box (like pixels). The blobs' centres lie in ±BOX, far
#: enough inside that the blobs stay in the box; uniform points fill it (±FRAME).
SCALE, CENTRE = 400.0, np.array([600.0, 337.5])
BOX = (1.2, 0.55)
FRAME = (1.5, 0.84375)


@dataclass(frozen=True)
class KMeansConfig(Config):
    k_max: int = param(12, "clusters are fitted for K = k_min … k_max", min=1, max=12)
    k_min: int = param(1, "the first K fitted (k_min = k_max fits one K only)", min=1, max=12)
    recap: bool = param(
        True, "end on the elbow K's clustering again, the elbow marked (needs Ks on both "
        "sides of the bend: with too few the frame says so)")
    n_init: int = param(
        10, "k-means++ starts per K: each runs to convergence and the one with the lowest "
        "inertia is shown (scikit-learn's n_init); 1 shows how a single start can get stuck",
        min=1, max=100)
    max_iter: int = param(50, "most Lloyd iterations (frames) per K; the default data converge "
                              "well within it", min=1, max=300)
    stop_early: bool = param(
        True, "move on to the next K once assignments stop changing (false: always max_iter)"
    )
    init: Literal["k-means++", "random"] = param(
        "k-means++", "initial centroids: k-means++ seeding, or uniform in the data's box"
    )
    dataset: Literal["blobs", "moons", "circles", "uniform"] = param(
        "blobs", "default data: round Gaussian blobs (an elbow at K = clusters), two "
        "half-moons, a disc in a ring, or uniform noise (no elbow to find)")
    clusters: int = param(3, "how many blobs the 'blobs' data has", min=1, max=12)
    noise: float = param(0.12, "spread (standard deviation) of each blob, or the noise of "
                               "moons and circles, in units of the [−1, 1] square (the data are "
                               "then drawn in a 1200 × 675 box)", min=0.0,
                         max=1.0)
    n_points: int = param(150, "number of points in the default dataset", min=2, max=5_000)

    def validate(self) -> None:
        if self.k_min > self.k_max:
            raise ConfigError(f"k_min={self.k_min} is above k_max={self.k_max}")


@dataclass(frozen=True)
class KMeansSnapshot(Snapshot):
    """One Lloyd iteration: ``loss`` is the inertia of ``centroids`` with ``labels``.

    ``k`` is traced at every epoch: with the loss it gives the elbow (:func:`elbow`);
    ``converged`` too, so the elbow can tell a K that stopped at ``max_iter`` unconverged.
    ``params["centroids"]`` holds the centroids padded with NaN rows to ``k_max``, so that
    it keeps one shape and can be recorded at every epoch; it is traced too, for the
    centroids' trails. Cluster ``i`` of K is the one nearest cluster ``i`` of K − 1 (the new
    cluster is the last), so a cluster keeps its colour from one K to the next.

    ``recap`` marks the closing snapshot that returns to the elbow K (``elbow_k``) after
    the last K: it repeats that K's converged state and is no new Lloyd step. ``keyframe``
    says which steps are drawn (:func:`notable_steps`) and what a frame budget keeps:
    ``MUST_KEEP`` (2) each K's last step and the recap, ``WANTED`` (1) the steps where the
    inertia fell notably, 0 the others (see :func:`mlviz.thinning.keyframe_level`).
    """

    traces: ClassVar[tuple[str, ...]] = ("k", "converged", "recap", "params.centroids")

    k: int = 1
    iteration: int = 0
    centroids: np.ndarray = None  # type: ignore[assignment]  # always given
    labels: np.ndarray = None  # type: ignore[assignment]  # always given
    converged: bool = False
    recap: bool = False
    elbow_k: int = 0
    keyframe: int = 0

    def validate(self, dataset: Dataset) -> None:
        """A loaded record's snapshot: ``k`` finite centroids, one label in 0 … k − 1 a
        point (the panels index the centroids and colours with the labels)."""
        n, d = dataset.X.shape
        centroids, labels = self.centroids, self.labels
        if self.k < 1:
            raise ValueError(f"k is {self.k}; it must be at least 1")
        if not isinstance(centroids, np.ndarray) or centroids.shape != (self.k, d):
            raise ValueError(f"centroids must have shape ({self.k}, {d}) for k = {self.k}, "
                             f"not {np.shape(centroids)}")
        if not np.isfinite(centroids).all():
            raise ValueError("centroids hold NaN or infinite values")
        if labels is None:
            raise ValueError("its labels are missing")
        if not isinstance(labels, np.ndarray) or labels.shape != (n,) \
                or labels.dtype.kind not in "iu":
            raise ValueError(f"labels must be {n} whole numbers, one a point, not "
                             f"{getattr(labels, 'dtype', type(labels).__name__)} of shape "
                             f"{np.shape(labels)}")
        if n and (labels.min() < 0 or labels.max() >= self.k):
            raise ValueError(f"labels must lie in 0 … {self.k - 1} (k = {self.k}), not "
                             f"{labels.min()} … {labels.max()}")


def elbow(k: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, inertia) at the last epoch of each K, from per-epoch traces of ``k`` and the loss.

    K restarts only upward, so on the traces up to some epoch the last pair is the current
    K and its current inertia, the ones before it the finished Ks' final inertias.
    """
    k, loss = np.asarray(k), np.asarray(loss, dtype=float)
    last = np.flatnonzero(np.r_[k[1:] != k[:-1], True]) if len(k) else np.array([], dtype=int)
    return k[last], loss[last]


def knee(ks: np.ndarray, inertia: np.ndarray) -> int:
    """The elbow of an inertia curve: among the clear elbows (:func:`clear_elbow`), the K
    into which the inertia drops most sharply compared with the drop out of it
    (:func:`elbow_sharpness`), so the answer does not move with how many Ks were fitted;
    without a clear elbow, the kneedle rule (Satopää et al., 2011: both axes scaled to
    [0, 1], the K farthest below the chord from the first point to the last). Fewer than
    three Ks, or a flat curve, give the first K.
    """
    ks_array, values = np.asarray(ks), np.asarray(inertia, dtype=float)
    if len(ks_array) >= 3 and values[0] != values[-1]:
        clear = [int(k) for k in ks_array[1:-1] if clear_elbow(ks_array, values, int(k))]
        if clear:
            return max(clear, key=lambda k: elbow_sharpness(ks_array, values, k))
    return _kneedle(ks, inertia)


def clear_elbow(ks: np.ndarray, inertia: np.ndarray, k: int) -> bool:
    """Whether K = ``k`` is a clear elbow: a K is fitted after it (the bend must be seen),
    the inertia drops at least ``CLEAR_ELBOW`` times more into it than out of it, and the
    next K lowers it by less than ``BARELY`` of its value (extra clusters barely help).
    Three blobs fitted for K = 1 … 3 have no clear elbow: K = 2 is sharp, but K = 3 still
    lowers its inertia by three quarters."""
    ks, y = np.asarray(ks), np.asarray(inertia, dtype=float)
    i = int(np.flatnonzero(ks == k)[0])
    if i == 0 or i == len(ks) - 1:
        return False
    return elbow_sharpness(ks, y, k) >= CLEAR_ELBOW and y[i] - y[i + 1] < BARELY * y[i]


def too_few_ks(ks: np.ndarray, inertia: np.ndarray) -> bool:
    """Whether the Ks fitted are too few to find an elbow: fewer than three, or no clear
    elbow (:func:`clear_elbow`) while the last K still lowers the inertia by ``BARELY`` of
    its value or more (the bend may lie beyond the last K)."""
    ks, y = np.asarray(ks), np.asarray(inertia, dtype=float)
    if len(ks) < 3:
        return True
    if any(clear_elbow(ks, y, int(k)) for k in ks[1:-1]):
        return False
    return bool(y[-2] - y[-1] >= BARELY * y[-2])


def _kneedle(ks: np.ndarray, inertia: np.ndarray) -> int:
    """The kneedle rule's K (see :func:`knee`)."""
    ks, y = np.asarray(ks, dtype=float), np.asarray(inertia, dtype=float)
    if len(ks) < 3 or y[0] == y[-1]:
        return int(ks[0]) if len(ks) else 0
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    height = (y - y[-1]) / (y[0] - y[-1])
    return int(ks[np.argmax((1.0 - x) - height)])


#: An elbow is "clear" when the inertia drops at least this many times more into the
#: elbow K than out of it (blobs: about 30; uniform noise, moons, circles: 1 to 4).
CLEAR_ELBOW = 5.0
#: Beyond an elbow the next K lowers the inertia by less than this share of it (blobs
#: after their elbow: 10 to 20 %; into the elbow: 75 % and more).
BARELY = 1 / 3


def elbow_sharpness(ks: np.ndarray, inertia: np.ndarray, k: int) -> float:
    """How much more the inertia drops into K = ``k`` than out of it (∞ at the last K)."""
    ks, y = np.asarray(ks), np.asarray(inertia, dtype=float)
    i = int(np.flatnonzero(ks == k)[0])
    if i == 0 or i == len(ks) - 1:
        return float("inf") if i else 0.0
    after = y[i] - y[i + 1]
    return float("inf") if after <= 0 else float((y[i - 1] - y[i]) / after)


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
    sums = np.column_stack([np.bincount(labels, weights=points[:, j], minlength=k)
                            for j in range(dim)])
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
        if total > 0:  # D² sampling, as rng.choice(p=closest / total) draws it
            cdf = np.cumsum(closest)
            index = min(int(np.searchsorted(cdf / cdf[-1], rng.random(), side="right")),
                        len(points) - 1)
        else:
            index = int(rng.integers(len(points)))
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


#: Within a K, a Lloyd step is drawn once the inertia has fallen by another NOTABLE of
#: that K's whole fall since the last step drawn: so no drawn step idles on a flat loss
#: (tests/pacing_look.py: one that moved by less than 1 % of it).
NOTABLE = 0.015


def notable_steps(inertia: np.ndarray, step: float = NOTABLE) -> np.ndarray:
    """The Lloyd steps of one K worth drawing, from their inertias: the first (the new
    start); then, one after another, the first step whose inertia lies ``step`` of the
    K's whole fall below the last drawn one's and still ``step`` above the lowest (so
    that the last step, always drawn, moves by that much too); and the last."""
    inertia = np.asarray(inertia, dtype=float)
    last = len(inertia) - 1
    lowest = float(inertia.min())
    gap = step * (float(inertia.max()) - lowest)
    drawn, current = [0], 0
    while gap > 0:
        lower = np.flatnonzero(inertia[current + 1:] <= inertia[current] - gap)
        if not lower.size or inertia[current + 1 + lower[0]] < lowest + gap:
            break
        current += 1 + int(lower[0])
        drawn.append(current)
    return np.unique(np.array([*drawn, last], dtype=int))


def best_start(points: np.ndarray, k: int, config: KMeansConfig,
               rng: np.random.Generator) -> list[tuple]:
    """The Lloyd steps (as :func:`lloyd` yields them) of the best of ``n_init`` starts.

    Every start runs to convergence (or ``max_iter``); the one with the lowest final
    inertia wins, the first of equals.
    """
    best: list[tuple] | None = None
    for _ in range(config.n_init):
        start = initial_centroids(points, k, config.init, rng)
        steps = list(lloyd(points, start, config.max_iter, config.stop_early))
        if best is None or steps[-1][3] < best[-1][3]:
            best = steps
    assert best is not None  # n_init >= 1
    return best


def match_order(previous: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """An order of ``centroids`` whose first ``len(previous)`` rows are, greedily by
    distance, the ones nearest ``previous`` row by row; the unmatched ones follow."""
    d2 = squared_distances(previous, centroids)
    order = np.full(len(previous), -1)
    used: set[int] = set()
    for flat in np.argsort(d2, axis=None, kind="stable"):
        i, j = divmod(int(flat), len(centroids))
        if order[i] < 0 and j not in used:
            order[i] = j
            used.add(j)
    rest = [j for j in range(len(centroids)) if j not in used]
    return np.array([*order[order >= 0], *rest], dtype=int)


def relabel(steps: list[tuple], order: np.ndarray) -> list[tuple]:
    """Lloyd steps with the clusters renumbered: new cluster ``i`` is old ``order[i]``."""
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return [(it, c[order], inverse[labels], inertia, conv)
            for it, c, labels, inertia, conv in steps]


class KMeansTrainer:
    """k-means for K = k_min … k_max; every K is the best of ``n_init`` fresh, seeded
    starts; then (``recap``) the elbow K's clustering once more."""

    def __init__(self, config: KMeansConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[KMeansSnapshot]:
        config = self.config
        points = dataset.X
        rng = np.random.default_rng(config.seed)
        for k in range(1, config.k_min):  # the same draws as a run from K = 1
            best_start(points, k, config, rng)
        epoch = 0
        previous: np.ndarray | None = None
        finals: dict[int, KMeansSnapshot] = {}
        for k in range(config.k_min, config.k_max + 1):
            steps = best_start(points, k, config, rng)
            if previous is not None:
                steps = relabel(steps, match_order(previous, steps[-1][1]))
            notable = set(notable_steps(np.array([step[3] for step in steps])).tolist())
            for iteration, centroids, labels, inertia, converged in steps:
                level = (MUST_KEEP if iteration == len(steps) - 1
                         else WANTED if iteration in notable else 0)
                snapshot = KMeansSnapshot(
                    epoch=epoch, loss=inertia, params={"centroids": self._pad(centroids)},
                    k=k, iteration=iteration, centroids=centroids, labels=labels,
                    converged=converged, keyframe=level,
                )
                yield snapshot
                epoch += 1
            finals[k] = snapshot
            previous = steps[-1][1]
        ks = np.array(sorted(finals))
        inertia = np.array([finals[k].loss for k in ks])
        if config.recap and len(finals) >= 3 and not too_few_ks(ks, inertia):
            chosen = finals[knee(ks, inertia)]
            yield replace(chosen, epoch=epoch, recap=True, elbow_k=chosen.k,
                          keyframe=MUST_KEEP)

    def _pad(self, centroids: np.ndarray) -> np.ndarray:
        padded = np.full((self.config.k_max, centroids.shape[1]), np.nan)
        padded[: len(centroids)] = centroids
        return padded


def default_dataset(config: KMeansConfig) -> Dataset:
    """The stock dataset ``config.dataset`` (blobs: ``clusters`` of them, centred in ±BOX),
    scaled from the stock units (``noise``) into a 1200 × 675 box."""
    if config.dataset == "blobs":
        base = datasets.blobs(config.n_points, config.clusters, noise=config.noise,
                              seed=config.seed, box=BOX)
    elif config.dataset == "uniform":
        base = datasets.uniform(config.n_points, seed=config.seed, box=FRAME)
    else:
        base = datasets.make(config.dataset, config.n_points, noise=config.noise,
                             seed=config.seed)
    return replace(base, X=base.X * SCALE + CENTRE, feature_names=("x", "y"))
