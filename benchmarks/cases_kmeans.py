"""Benchmark case: k-means, and its notebook-style celluloid renderer.

This is how the reference notebooks animate: every frame adds fresh artists for the
whole picture, ``Camera.snap()`` records them, and matplotlib's Pillow writer saves the
result. It exists only to be measured against mlviz; it is not part of the package.
"""

from __future__ import annotations

import numpy as np


def kmeans_celluloid(run, path: str, fps: float = 5.0, dpi: float = 100) -> None:
    """Draw a k-means run the notebook way: scatter-grid regions, one line per point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz.style import CATEGORICAL
    from mlviz_kmeans.trainer import elbow

    # Cycled: a run may have more clusters than the palette has colours.
    colors = np.array([matplotlib.colors.to_rgb(CATEGORICAL[i % len(CATEGORICAL)])
                       for i in range(32)])
    points = run.dataset.X
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.6, 5.4), dpi=dpi, layout="constrained")
    fig.suptitle("k-means clustering")
    ax0.set_title("Elbow method")
    ax0.set_xlabel("K (number of clusters)")
    ax0.set_ylabel("inertia: sum of squared distances")
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    camera = Camera(fig)
    lo, hi = points.min(axis=0), points.max(axis=0)
    gx, gy = np.meshgrid(np.arange(lo[0], hi[0] + 1, 25.0), np.arange(lo[1], hi[1] + 1, 25.0))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    for snap in run.snapshots:
        centroids, labels = snap.centroids, snap.labels
        d2 = ((grid[:, None, :] - centroids[None]) ** 2).sum(-1)
        ax1.scatter(grid[:, 0], grid[:, 1], c=colors[d2.argmin(1)], s=20, alpha=0.45)
        for point, label in zip(points, labels):
            c = centroids[label]
            ax1.plot([point[0], c[0]], [point[1], c[1]], color=colors[label], linewidth=2,
                     alpha=0.55)
        ax1.scatter(points[:, 0], points[:, 1], c="black", s=15, alpha=0.3)
        for g, c in enumerate(centroids):
            ax1.scatter([c[0]], [c[1]], color=colors[g], s=80, marker="X")
        ax0.plot(*elbow(run.trace("k", snap.epoch), run.trace("loss", snap.epoch)), color="red")
        camera.snap()
    animation = camera.animate(interval=1000 / fps)
    animation.save(path, writer="pillow")
    plt.close(fig)


# name -> (algorithm, hyperparameters, notebook-style renderer); 12 K x 8 iterations = 96 frames
CASES = {
    "kmeans": ("kmeans", {"max_iter": 8, "stop_early": False}, kmeans_celluloid),
}
