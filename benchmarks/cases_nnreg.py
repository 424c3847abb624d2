"""Benchmark case: nn-regression, and its notebook-style celluloid renderer.

The reference (Kitchin's notebook) draws with pyplot; animated the notebook way, every frame
re-plots the whole picture, ``Camera.snap()`` records it and Pillow writes the GIF. It exists
only to be measured against mlviz; it is not part of the package.
"""

from __future__ import annotations

import numpy as np


def nnreg_celluloid(run, path: str, fps: float = 8.0, dpi: float = 100) -> None:
    """Fit with shaded region, log loss curve and the ten parameter traces, re-plotted per frame."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz_nnreg.model import predict

    config = run.config
    X2 = np.linspace(0, config.view_max)
    xs = np.linspace(0, config.view_max, 400)
    x, y = run.dataset.X[:, 0], run.dataset.y
    lsq = run.snapshots[-1].lsq_theta
    epochs = np.array([s.epoch for s in run.snapshots])
    thetas = np.array([s.theta for s in run.snapshots])
    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(9.6, 5.4), dpi=dpi, layout="constrained",
                                        width_ratios=(1.45, 1.0, 1.1))
    fig.suptitle("A 1-3-1 tanh network learns y = x^(1/3): Adam vs least squares")
    camera = Camera(fig)
    for i, snap in enumerate(run.snapshots):
        ax0.plot(X2, np.cbrt(X2), "b.", label="analytical")
        ax0.plot(x, y, "k.")
        ax0.plot(xs, predict(lsq, xs), color="tab:orange")
        ax0.plot(xs, predict(snap.theta, xs), color="tab:blue")
        ax0.fill_between(xs, 0, 1.6, where=xs < config.fit_max, facecolor="gray", alpha=0.3)
        ax0.text(0.1, 1.5, f"epoch {snap.epoch}: MSE {snap.loss:.2e}")
        e, losses = run.losses_until(snap.epoch)
        ax1.semilogy(e, losses, color="red")
        ax1.axhline(config.tol, color="gray", ls=":")
        ax1.axhline(snap.lsq_loss, color="tab:orange", ls="--")
        for k in range(thetas.shape[1]):
            ax2.plot(epochs[: i + 1], thetas[: i + 1, k], color=f"C{k}")
        camera.snap()
    animation = camera.animate(interval=1000 / fps)
    animation.save(path, writer="pillow")
    plt.close(fig)


# name -> (algorithm, hyperparameters, notebook-style renderer); the default run (~70 frames)
CASES = {
    "nn-regression": ("nn-regression", {}, nnreg_celluloid),
}
