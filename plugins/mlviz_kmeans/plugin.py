"""Registers the ``kmeans`` algorithm and its panels with mlviz."""

from __future__ import annotations

from mlviz import Algorithm, Dataset, DataError, Scene, UserData, hookimpl
from mlviz.panels import MetricCurvePanel
from mlviz.sweep import declare_sweep

from .panels import ClusterPanel, ElbowPanel
from .trainer import KMeansConfig, KMeansTrainer, default_dataset


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
                 width_ratios=(1.0, 1.8))


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
)


def kmeans_sweep_scene(config: KMeansConfig) -> Scene:
    """For a sweep: every run's inertia on one axis, and each run's clusters."""
    return Scene([MetricCurvePanel("loss", label="inertia", title="Inertia, step by step",
                                   log=True),
                  ClusterPanel()], title="k-means clustering", width_ratios=(1.0, 1.2))


# A sweep over seeds shows how k-means depends on its start: K = 1 … 3 on the three blobs,
# each from one random start (not the best of ten), on the same data (a seed sweep keeps
# the data of the base seed). Some of these seeds get stuck in a poor clustering.
declare_sweep(KMEANS, values={"seed": (0, 1, 2, 3)},
              settings={"n_init": 1, "init": "random", "k_max": 3}, scene=kmeans_sweep_scene)


@hookimpl
def mlviz_algorithms():
    return [KMEANS]


@hookimpl
def mlviz_panels():
    return [ElbowPanel, ClusterPanel]
