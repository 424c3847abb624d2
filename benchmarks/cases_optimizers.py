"""Benchmark case: optimizers, and its notebook-style celluloid renderer.

The notebook way: every frame re-draws the contours, the 3D surface, every path and the
loss curves, ``Camera.snap()`` records them, and matplotlib's Pillow writer saves the
result. It exists only to be measured against mlviz.
"""

from __future__ import annotations

import numpy as np


def optimizers_celluloid(run, path: str, fps: float = 10.0, dpi: float = 100) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz_optimizers.panels import COLORS

    spec = run.config.spec
    race, values = run.trace("positions"), run.trace("values")  # every epoch's
    gap = values - spec.f_min
    X, Y = np.meshgrid(np.linspace(*spec.xlim, 240), np.linspace(*spec.ylim, 240))
    G = spec.f(X, Y) - spec.f_min
    Xs, Ys = np.meshgrid(np.linspace(*spec.xlim, 70), np.linspace(*spec.ylim, 70))
    Zs = np.log10(1.0 + spec.f(Xs, Ys) - spec.f_min)
    levels = np.concatenate([[0.0], np.geomspace(max(G.max() * 1e-4, 1e-3), G.max(), 16)])
    fig = plt.figure(figsize=(9.6, 5.4), dpi=dpi, layout="constrained")
    fig.suptitle("SGD, momentum, RMSprop and Adam race on the "
                 f"{spec.name.capitalize()} function")
    ax0 = fig.add_subplot(1, 3, 1)
    ax1 = fig.add_subplot(1, 3, 2, projection="3d")
    ax2 = fig.add_subplot(1, 3, 3)
    ax1.view_init(elev=40, azim=-120)
    ax2.set_yscale("log")
    camera = Camera(fig)
    for snap in run.snapshots:
        stop = snap.epoch + 1
        ax0.contourf(X, Y, G, levels=levels, cmap="Greys")
        ax0.contour(X, Y, G, levels=levels, colors="#888888", linewidths=0.4)
        ax1.plot_surface(Xs, Ys, Zs, cmap="Greys", linewidth=0)
        height = np.log10(1.0 + np.maximum(gap[:stop], 0.0))
        for k, color in enumerate(COLORS):
            ax0.plot(race[:stop, k, 0], race[:stop, k, 1], color=color)
            ax0.plot(race[stop - 1, k, 0], race[stop - 1, k, 1], "o", color=color)
            ax1.plot(race[:stop, k, 0], race[:stop, k, 1], height[:, k], color=color)
            ax2.plot(np.arange(stop), gap[:stop, k], color=color)
        camera.snap()
    camera.animate(interval=1000 / fps).save(path, writer="pillow")
    plt.close(fig)


# name -> (algorithm, hyperparameters, notebook-style renderer); default Rosenbrock race
CASES = {
    "optimizers": ("optimizers", {}, optimizers_celluloid),
}
