"""Benchmark case: PCA, and its notebook-style celluloid renderer.

As in the PCA notebook: every frame re-plots the data, the principal axes, the span of the
kept components, the reconstructed points (one residual line per point) and the variance
bars, ``Camera.snap()`` records them, and matplotlib's Pillow writer saves the result.
Not part of the package.
"""

from __future__ import annotations

import numpy as np


def pca_celluloid(run, path: str, fps: float = 5.0, dpi: float = 100) -> None:
    """Draw a PCA run the notebook way (same content as mlviz's scene)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz_pca.trainer import drawn_data, fit_pca

    X = drawn_data(run.dataset, run.config.standardize)
    fit = fit_pca(X)
    colors = ["red", "green", "blue"]
    fig = plt.figure(figsize=(9.6, 5.4), dpi=dpi, layout="constrained")
    fig.suptitle("Principal component analysis")
    ax0 = fig.add_subplot(1, 3, 1, projection="3d")
    ax1 = fig.add_subplot(1, 3, 2, projection="3d")
    ax2 = fig.add_subplot(1, 3, 3)
    ax0.set_title("Data and principal axes")
    ax1.set_title("Reconstruction from k components")
    ax2.set_title("Explained variance ratio")
    for ax in (ax0, ax1):
        ax.view_init(18, -62)
    camera = Camera(fig)
    s = 2 * fit.std
    for snap in run.snapshots:
        ax0.scatter(*X.T, color="#4a6fa5", alpha=0.45, s=7)
        for j in range(3):
            ax0.quiver(*fit.mean, *(s[j] * fit.components[j]), color=colors[j])
        if snap.k == 2:
            a, b = np.meshgrid(np.linspace(-2 * s[0], 2 * s[0], 10), np.linspace(-s[1], s[1], 10))
            plane = fit.mean + a[..., None] * fit.components[0] + b[..., None] * fit.components[1]
            ax0.plot_surface(plane[..., 0], plane[..., 1], plane[..., 2], color="green", alpha=0.2)
        ax1.scatter(*X.T, color="#4a6fa5", alpha=0.2, s=6)
        for p, q in zip(X, snap.reconstruction):
            ax1.plot(*np.stack([p, q]).T, color="grey", lw=0.5)
        ax1.scatter(*snap.reconstruction.T, color="orange", s=6)
        ax2.bar(np.arange(1, 4), snap.explained_variance_ratio,
                color=[colors[j] if w > 0 else "lightgrey" for j, w in enumerate(snap.weights)])
        camera.snap()
    camera.animate(interval=1000 / fps).save(path, writer="pillow")
    plt.close(fig)


# name -> (algorithm, hyperparameters, notebook-style renderer); 37 frames
CASES = {
    "pca": ("pca", {}, pca_celluloid),
}
