"""Registers the ``pca`` algorithm and its panels with mlviz."""

from __future__ import annotations

import numpy as np

from mlviz import Algorithm, Dataset, Run, Scene, UserData, hookimpl
from mlviz.story import Chapter, Story

from .panels import AxesPanel, ReconstructionPanel, VariancePanel
from .trainer import PCAConfig, PCATrainer, default_dataset, kept_components, stages

#: What PCA minimises: the mean squared distance from each point to its projection onto
#: the span of the first k components (V_k: their unit vectors, μ: the mean).
OBJECTIVE = (r"$\min_{V_k}\ \frac{1}{n}\sum_i \Vert x_i - \mu - V_k V_k^{T}(x_i - \mu)"
             r"\Vert^2$")


def load_points(data: UserData, config: PCAConfig) -> Dataset:
    """A user's 3D points: three numeric columns (``--columns`` picks them from more)."""
    chosen = data.select(3, min_rows=3)
    return Dataset(chosen.X, feature_names=chosen.feature_names, name=data.name,
                   description=f"{len(chosen.X)} points from {data.describe()}")


def pca_scene(config: PCAConfig) -> Scene:
    # narrow empty columns keep each 3D panel's z label off its right-hand neighbour
    return Scene([AxesPanel(), ReconstructionPanel(), VariancePanel()],
                 title="Principal component analysis", mosaic="A.B.C",
                 width_ratios=(1.2, 0.05, 1.2, 0.1, 0.8), figsize=(12.8, 7.2))


def pca_story(config: PCAConfig, run: Run) -> Story:
    """One chapter per number of kept components, starting where its slide starts, and
    the walk back to two components; the shares of variance are the run's."""
    ratio = np.asarray(run.trace("explained_variance_ratio")[-1])
    d = len(ratio)
    kept = np.cumsum(ratio)
    keep = kept_components(ratio)
    frames = stages(d, config.slide_frames, config.hold_frames, keep)
    starts: dict[tuple[int, int], int] = {}
    for epoch, (k_from, k, _) in enumerate(frames):
        starts.setdefault((k_from, k) if k_from != k else (k - 1, k), epoch)
    chapters = [Chapter("k = 0: the mean", 0,
                        "Keeping no component replaces every point by the mean of the data.")]
    lessons = {
        1: ("a line", f"Keeping PC1, the direction of largest variance, puts every point on a "
                      f"line: {100 * kept[0]:.0f} % of the variance is kept."),
        2: ("a plane", f"Adding PC2 spreads the points over a plane: the cloud is flattened "
                       f"and keeps {100 * kept[min(1, d - 1)]:.0f} % of the variance."),
    }
    for k in range(1, d + 1):
        shape, sentence = lessons.get(k, ("", ""))
        if k == d:
            shape, sentence = "all of space", (f"With all {d} components the points are the "
                                               "data itself: nothing is lost.")
        chapters.append(Chapter(f"k = {k}: {shape}", starts[(k - 1, k)], sentence))
    if (d, keep) in starts:
        dropped = f"PC{d}" if keep == d - 1 else f"PC{keep + 1} to PC{d}"
        shape = {1: "onto the PC1 line", 2: "onto the plane"}.get(keep, f"onto {keep} axes")
        chapters.append(Chapter(
            f"keep {keep}: the flattened cloud", starts[(d, keep)],
            f"Dropping {dropped} again flattens the cloud {shape}: only "
            f"{100 * (1 - kept[keep - 1]):.0f} % of the variance, mostly noise, is lost."))
    return Story(tuple(chapters), objective=OBJECTIVE)


PCA = Algorithm(
    name="pca",
    summary="principal component analysis: keep 0, 1, 2, 3 components and watch the points "
            "fall onto their span",
    config=PCAConfig,
    trainer=PCATrainer,
    dataset=default_dataset,
    scene=pca_scene,
    story=pca_story,
    dataset_help="a tilted, flattened cloud of n_points points, spread 0.5 along the cube's "
                 "diagonal and 0.22 across it, plus Gaussian noise (noise, seed); or "
                 "--set dataset=line, the notebook's noisy line",
    load_data=load_points,
    data_help="three numeric columns (a header row is optional; choose three of more with "
              "--columns A,B,C); standardize=true for columns in different units",
    dataset_params=("dataset", "n_points", "noise"),
    fps=5.0,
)


@hookimpl
def mlviz_algorithms():
    return [PCA]


@hookimpl
def mlviz_panels():
    return [AxesPanel, ReconstructionPanel, VariancePanel]
