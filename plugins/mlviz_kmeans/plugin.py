"""Registers the ``kmeans`` algorithm and its panels with mlviz."""

from __future__ import annotations

import numpy as np

from mlviz import Algorithm, DataError, Dataset, FrameSchedule, Scene, UserData, hookimpl
from mlviz.panels import MetricCurvePanel
from mlviz.story import Chapter, Story
from mlviz.sweep import declare_sweep

from .panels import ClusterPanel, ElbowPanel, recap_mask
from .trainer import (
    KMeansConfig,
    KMeansTrainer,
    clear_elbow,
    default_dataset,
    elbow,
    too_few_ks,
)


def load_points(data: UserData, config: KMeansConfig) -> Dataset:
    """A user's 2D points: two numeric columns (``--columns`` picks them from more)."""
    chosen = data.select(2)
    if len(chosen.X) < config.k_max:
        raise DataError(
            f"{data} has {len(chosen.X)} points, fewer than k_max={config.k_max} clusters; "
            f"add points or pass --set k_max={max(1, len(chosen.X))}"
        )
    return Dataset(chosen.X, feature_names=chosen.feature_names, name=data.name,
                   description=f"{len(chosen.X)} points from {data.describe()}")


def kmeans_scene(config: KMeansConfig) -> Scene:
    return Scene([ElbowPanel(), ClusterPanel()], title="k-means clustering",
                 width_ratios=(1.0, 1.8), figsize=(12.8, 7.2))


#: The frames are the snapshots the trainer marks as keyframes (each K's start, its steps
#: where the inertia fell notably, its converged step; the recap), and the first.
KEYFRAMES_ONLY = FrameSchedule(late_step=2**62)


def kmeans_schedule(config: KMeansConfig) -> FrameSchedule:
    """Keyframes only (:func:`~.trainer.notable_steps`) when several Ks are fitted; every
    Lloyd step for one K (a sweep's: its few steps are the whole lesson)."""
    return KEYFRAMES_ONLY if config.k_min < config.k_max else FrameSchedule.every()


OBJECTIVE = r"$J(\mu_1,\ldots,\mu_K) = \sum_{i=1}^{n}\ \min_k\ \Vert x_i - \mu_k\Vert^2$"


def _k_sentence(k: int, config: KMeansConfig) -> str:
    if config.n_init == 1:
        return (f"K = {k}: one random start, not the best of ten: Lloyd's steps can settle "
                f"in a poor clustering.")
    if k == 1:
        return "K = 1: one centroid, the mean of all points; its inertia is the total spread."
    if k == 2 and config.dataset in ("moons", "circles"):
        return ("K = 2: straight borders between centroids cut across the true classes: "
                "k-means cannot follow curved shapes.")
    if k == max(2, config.k_min):
        return (f"K = {k}: assign each point to its nearest centroid, move each centroid to "
                f"its points' mean, repeat.")
    return f"K = {k}: more centroids always lower the inertia, but by less and less."


def kmeans_story(config: KMeansConfig, run) -> Story:
    """A chapter per K (from the epoch it starts), then the elbow recap."""
    ks = run.trace("k")
    recap = recap_mask(run)
    epochs = run.trace("epoch")
    chapters = []
    for k in np.unique(ks[~recap]):
        start = int(epochs[np.flatnonzero((ks == k) & ~recap)[0]])
        chapters.append(Chapter(f"K = {k}", start, _k_sentence(int(k), config)))
    finals = elbow(ks[~recap], run.trace("loss")[~recap])
    if recap.any():
        k = int(ks[recap][0])
        if clear_elbow(*finals, k):
            sentence = (f"The elbow: beyond K = {k} extra clusters barely lower the inertia, "
                        f"so K = {k} is the natural choice.")
        else:
            sentence = (f"No clear elbow: the inertia falls smoothly, so no K stands out; "
                        f"K = {k} is only the kneedle rule's guess.")
        chapters.append(Chapter("the elbow", int(epochs[recap][0]), sentence))
    elif len(finals[0]) >= 2 and too_few_ks(*finals) and int(epochs[-1]) > chapters[-1].start:
        chapters.append(Chapter("too few Ks", int(epochs[-1]), too_few_sentence(*finals)))
    return Story(tuple(chapters), objective=OBJECTIVE)


def too_few_sentence(ks: np.ndarray, inertia: np.ndarray) -> str:
    """Why no elbow is marked when too few Ks were fitted (:func:`too_few_ks`)."""
    why = ("the bend needs a K before it and one after" if len(ks) < 3 else
           f"the inertia still falls steeply at K = {int(ks[-1])}")
    return f"Too few Ks to find an elbow: {why}. Fit more Ks (a larger k_max)."


KMEANS = Algorithm(
    name="kmeans",
    summary="k-means clustering for K = 1 … 12, with the elbow method",
    config=KMeansConfig,
    trainer=KMeansTrainer,
    dataset=default_dataset,
    scene=kmeans_scene,
    dataset_help="blobs: n_points points in `clusters` round Gaussian blobs of spread "
                 "`noise` (seed), so the elbow is at K = clusters; or --set dataset=moons, "
                 "circles or uniform",
    load_data=load_points,
    data_help="two numeric columns, the point's coordinates (a header row is optional; "
              "choose two of more with --columns A,B)",
    dataset_params=("dataset", "clusters", "noise", "n_points"),
    fps=5.0,
    story=kmeans_story,
    schedule=kmeans_schedule,
)


class LloydCurvePanel(MetricCurvePanel):
    """The inertia per Lloyd iteration: whole iterations on the x axis (no 0.5 ticks)."""

    def setup(self, ax, run) -> None:
        super().setup(ax, run)
        _whole_ticks(ax)

    def setup_overlay(self, ax, runs, labels, colors) -> None:
        super().setup_overlay(ax, runs, labels, colors)
        _whole_ticks(ax)


def _whole_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def kmeans_sweep_scene(config: KMeansConfig) -> Scene:
    """For a sweep: every run's inertia on one axis, and each run's clusters."""
    one_k = config.k_min == config.k_max
    xlabel = (f"Lloyd iteration (K = {config.k_max})" if one_k
              else f"Lloyd iteration (K = {config.k_min} … {config.k_max} in turn)")
    return Scene([LloydCurvePanel("loss", label="inertia", xlabel=xlabel, log=True,
                                  title="Inertia, step by step"),
                  ClusterPanel()], title="k-means clustering", width_ratios=(1.0, 1.2),
                 figsize=(12.8, 7.2))


# A sweep over seeds shows how k-means depends on its start: K = 3 only, on the three
# blobs, each run from ONE random start (not the best of ten k-means++ starts), on the same
# data (a seed sweep keeps the data of the base seed). Some seeds settle in a poor
# clustering: a higher inertia on the left, two blobs sharing a centroid on the right.
declare_sweep(KMEANS, values={"seed": (0, 1, 2, 3)},
              settings={"n_init": 1, "init": "random", "k_min": 3, "k_max": 3},
              scene=kmeans_sweep_scene)


@hookimpl
def mlviz_algorithms():
    return [KMEANS]


@hookimpl
def mlviz_panels():
    return [ElbowPanel, ClusterPanel]
