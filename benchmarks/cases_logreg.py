"""Benchmark case: logistic regression, and its notebook-style celluloid renderer.

The reference notebook (§0.4) re-plots everything for every frame: the loss curve, both
scatters and ``plot_surface`` in 3D, then ``Camera.snap()``. This renderer draws the same
three panels as mlviz's default scene (loss, probability surface, decision boundary) that
way. It exists only to be measured against mlviz; it is not part of the package.
"""

from __future__ import annotations

import numpy as np


def logreg_celluloid(run, path: str, fps: float = 5.0, dpi: float = 100) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz.style import LOSS, NEGATIVE, POSITIVE
    from mlviz_logreg.trainer import sigmoid

    X, y = run.dataset.X, run.dataset.y
    colors = np.where(y == 1, POSITIVE, NEGATIVE)
    fig = plt.figure(figsize=(9.6, 5.4), dpi=dpi, layout="constrained")
    ax0 = fig.add_subplot(1, 3, 1)
    ax1 = fig.add_subplot(1, 3, 2, projection="3d")
    ax2 = fig.add_subplot(1, 3, 3)
    fig.suptitle("Logistic regression")
    ax0.set_title("Binary cross-entropy")
    ax0.set_xlabel("epoch")
    ax0.set_ylabel("mean BCE")
    ax1.set_title("Predicted probability")
    ax1.view_init(20, -35)
    ax2.set_title("Decision boundary (p = 0.5)")
    camera = Camera(fig)
    n = run.config.grid
    g = np.linspace(0, 1, n)
    gx, gy = np.meshgrid(g, g)
    fine = np.linspace(0, 1, 160)
    fx, fy = np.meshgrid(fine, fine)
    for snap in run.snapshots:
        w, b = snap.params["w"], float(snap.params["b"])
        epochs, losses = run.losses_until(snap.epoch)
        ax0.plot(epochs, losses, color=LOSS)
        ax1.scatter(X[:, 0], X[:, 1], y, c=colors, s=9, alpha=0.6, depthshade=False)
        ax1.scatter(X[:, 0], X[:, 1], sigmoid(X @ w + b), c="#222222", s=4, depthshade=False)
        ax1.plot_surface(gx, gy, sigmoid(w[0] * gx + w[1] * gy + b), cmap="coolwarm",
                         alpha=0.55, edgecolor="#555555", linewidth=0.25)
        ax2.imshow(sigmoid(w[0] * fx + w[1] * fy + b), extent=(0, 1, 0, 1), origin="lower",
                   cmap="coolwarm", alpha=0.35, vmin=0, vmax=1)
        ax2.scatter(X[:, 0], X[:, 1], c=colors, s=10, alpha=0.75)
        ax2.contour(fx, fy, w[0] * fx + w[1] * fy + b, levels=[0.0], colors="black")
        ax2.text(0.03, 0.03, f"accuracy {snap.accuracy:.1%}", transform=ax2.transAxes)
        camera.snap()
    camera.animate(interval=1000 / fps).save(path, writer="pillow")
    plt.close(fig)


# name -> (algorithm, hyperparameters, notebook-style renderer): the default run, 82 frames
CASES = {
    "logistic-regression": ("logistic-regression", {}, logreg_celluloid),
}
