"""Benchmark case: weight-nudging, and its notebook-style celluloid renderer.

Every frame re-plots the data, the line, one segment per residual, the error curve and both
traces with pyplot, then ``Camera.snap()``; Pillow writes the GIF. It exists only to be
measured against mlviz; it is not part of the package.
"""

from __future__ import annotations

import numpy as np


def nudging_celluloid(run, path: str, fps: float = 6.0, dpi: float = 100) -> None:
    """The four panels of weight-nudging, drawn the notebook way."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz_nudging.panels import act_paths
    from mlviz_nudging.trainer import GRADIENT, NUDGING, mse

    config = run.config
    x, y = run.dataset.X[:, 0], run.dataset.y
    xs = np.array([0.0, x.max() + 0.8])
    ws = np.linspace(0.4, 3.3, 300)
    fig, axes = plt.subplots(2, 2, figsize=(9.6, 5.4), dpi=dpi, layout="constrained")
    (ax0, ax1), (ax2, ax3) = axes
    fig.suptitle("Learning w in f(x) = w·x: fixed nudges, then gradient descent")
    camera = Camera(fig)
    for snap in run.snapshots:
        color = "tab:orange" if snap.act == 1 else "tab:blue"
        paths = act_paths(run, snap.epoch)  # each act's weights so far
        nudge_trace, gd_trace = paths[NUDGING], paths[GRADIENT]
        ax0.plot(xs, config.target * xs, "k--")
        ax0.scatter(x, y, color="black")
        ax0.plot(xs, snap.weight * xs, color=color)
        for xi, yi in zip(x, y):
            ax0.plot([xi, xi], [yi, snap.weight * xi], color="red", alpha=0.7)
        ax0.text(0.3, 18, f"act {snap.act} step {snap.step} w = {snap.weight:.3f}")
        ax1.plot(ws, mse(ws, x, y), color="gray")
        trace = nudge_trace if snap.act == 1 else gd_trace
        ax1.scatter(trace, mse(trace, x, y), color=color, s=10)
        ax1.scatter([snap.weight], [snap.loss], color=color, s=60)
        ax2.axhline(config.target, color="k", ls="--")
        ax2.plot(np.arange(len(nudge_trace)), nudge_trace, "-o", color="tab:orange")
        ax2.plot(np.arange(len(gd_trace)), gd_trace, "-o", color="tab:blue")
        for trace, c in ((nudge_trace, "tab:orange"), (gd_trace, "tab:blue")):
            if len(trace):
                ax3.semilogy(np.arange(len(trace)), np.abs(trace * x.mean() - y.mean()), "-o",
                             color=c)
        ax3.axhline(config.tolerance, color="green", ls="--")
        camera.snap()
    animation = camera.animate(interval=1000 / fps)
    animation.save(path, writer="pillow")
    plt.close(fig)


# name -> (algorithm, hyperparameters, notebook-style renderer); the default run (57 frames)
CASES = {
    "weight-nudging": ("weight-nudging", {}, nudging_celluloid),
}
