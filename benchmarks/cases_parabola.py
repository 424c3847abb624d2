"""Benchmark case: parabola, and its notebook-style celluloid renderer.

The notebook way: every frame re-plots the data, the parabola, both fits, the shaded
training range and both loss curves, ``Camera.snap()`` records them, and matplotlib's
Pillow writer saves the result. It exists only to be measured against mlviz.
"""

from __future__ import annotations

import numpy as np


def parabola_celluloid(run, path: str, fps: float = 8.0, dpi: float = 100) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz_parabola.panels import COLORS, net_labels
    from mlviz_parabola.trainer import NETS, prediction_grid

    config = run.config
    grid = prediction_grid(config)
    inside = np.abs(grid) <= config.train_range
    x, y = run.dataset.X[:, 0], run.dataset.y
    history = run.trace("mse")  # every epoch's, one column per network
    labels = net_labels(config)
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 5.4), dpi=dpi, layout="constrained",
                             width_ratios=(1.0, 1.25, 1.0))
    fig.suptitle("Two networks learn y = x²: fit inside the data, guess outside")
    for ax, title in zip(axes, ("Fit on the training range", "Extrapolation beyond the data",
                                "Training loss")):
        ax.set_title(title)
    axes[2].set_yscale("log")
    camera = Camera(fig)
    for snap in run.snapshots:
        ax0, ax1, ax2 = axes
        ax0.plot(grid[inside], grid[inside] ** 2, "--", color="#555555")
        ax0.scatter(x, y, color="black", s=22)
        ax1.axvspan(-config.train_range, config.train_range, color="#e8e8e8")
        ax1.plot(grid, grid**2, "--", color="#555555")
        ax1.scatter(x, y, color="black", s=22)
        for k, name in enumerate(NETS):
            ax0.plot(grid[inside], snap.curves[k][inside], color=COLORS[name])
            ax1.plot(grid, snap.curves[k], color=COLORS[name])
            ax2.plot(np.arange(snap.epoch + 1), history[: snap.epoch + 1, k],
                     color=COLORS[name], label=labels[name])
        camera.snap()
    camera.animate(interval=1000 / fps).save(path, writer="pillow")
    plt.close(fig)


# name -> (algorithm, hyperparameters, notebook-style renderer); the default run, 78 frames
CASES = {
    "parabola": ("parabola", {}, parabola_celluloid),
}
