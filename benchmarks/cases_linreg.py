"""Benchmark case: linear regression, and its notebook-style celluloid renderer.

As in the gradient-descent notebook: every frame re-plots the data, the current line, the
whole error surface with the path and the loss curve, ``Camera.snap()`` records the
artists, and matplotlib's Pillow writer saves the result. Not part of the package.
"""

from __future__ import annotations

import numpy as np


def linreg_celluloid(run, path: str, fps: float = 8.0, dpi: float = 100) -> None:
    """Draw a linear-regression run the notebook way (same content as mlviz's scene)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz_linreg.trainer import Problem

    x, y = run.dataset.X[:, 0], run.dataset.y
    problem = Problem.from_dataset(run.dataset, run.config.standardize)
    path_wb = np.array([(s.w, s.b, s.loss) for s in run.snapshots])
    w_ls, b_ls = problem.least_squares()
    lo = np.minimum(path_wb[:, :2].min(axis=0), (w_ls, b_ls))
    hi = np.maximum(path_wb[:, :2].max(axis=0), (w_ls, b_ls))
    span = hi - lo
    W, B = np.meshgrid(np.linspace(lo[0] - 0.2 * span[0], hi[0] + 0.2 * span[0], 60),
                       np.linspace(lo[1] - 0.2 * span[1], hi[1] + 0.2 * span[1], 60))
    L = problem.surface(W, B)
    xs = np.array([x.min(), x.max()])
    fig = plt.figure(figsize=(9.6, 5.4), dpi=dpi, layout="constrained")
    fig.suptitle("Linear regression by gradient descent")
    ax0 = fig.add_subplot(1, 3, 1)
    ax1 = fig.add_subplot(1, 3, 2, projection="3d")
    ax2 = fig.add_subplot(1, 3, 3)
    ax0.set_title("Linear regression")
    ax1.set_title("MSE surface over (w, b)")
    ax1.view_init(22, -50)
    ax2.set_title("Loss: MSE")
    camera = Camera(fig)
    for i, snap in enumerate(run.snapshots):
        ax0.scatter(x, y, color="#1f77b4", alpha=0.4)
        ax0.plot(xs, snap.slope * xs + snap.intercept, color="black")
        ax1.plot_surface(W, B, L, cmap="Blues_r", alpha=0.55)
        ax1.plot(path_wb[: i + 1, 0], path_wb[: i + 1, 1], path_wb[: i + 1, 2], color="red")
        ax1.scatter([snap.w], [snap.b], [snap.loss], color="red", s=60)
        epochs, losses = run.losses_until(snap.epoch)
        ax2.plot(epochs, losses, color="red")
        camera.snap()
    camera.animate(interval=1000 / fps).save(path, writer="pillow")
    plt.close(fig)


# name -> (algorithm, hyperparameters, notebook-style renderer); 201 epochs, 66 frames
CASES = {
    "linear-regression": ("linear-regression", {}, linreg_celluloid),
}
