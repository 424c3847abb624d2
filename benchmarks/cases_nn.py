"""Benchmark case: neural-network, and its notebook-style celluloid renderer.

The reference notebook re-plots everything every frame (loss curve, both 3D surfaces, and a
loss landscape computed with one network evaluation per grid point), snaps the figure with
celluloid and saves it with matplotlib's Pillow writer. Only measured against mlviz.
"""

from __future__ import annotations

import numpy as np


def nn_celluloid(run, path: str, fps: float = 5.0, dpi: float = 100) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz_nn import network as nn

    config = run.config
    dims, count = config.dims, len(config.layers) - 1
    X, z = run.dataset.X, run.dataset.y
    gx, gy, gz = (a.reshape(dims, dims) for a in (X[:, 0], X[:, 1], z))
    fig = plt.figure(figsize=(9.6, 5.4), dpi=dpi, layout="constrained")
    ax0 = fig.add_subplot(1, 3, 1)
    ax1 = fig.add_subplot(1, 3, 2, projection="3d")
    ax2 = fig.add_subplot(1, 3, 3, projection="3d")
    fig.suptitle("Neural network")
    ax0.set_title("Mean squared error")
    ax1.set_title("Function approximation")
    ax2.set_title("Loss landscape")
    for ax in (ax1, ax2):
        ax.view_init(20, -35)
    camera = Camera(fig)
    deltas = np.linspace(-1.5, 1.5, 21)
    for snap in run.snapshots:
        epochs, losses = run.losses_until(snap.epoch)
        ax0.plot(epochs, losses, color="red", alpha=0.5)
        ax1.plot_surface(gx, gy, gz, color="red", alpha=0.5)
        ax1.plot_surface(gx, gy, snap.predictions, color="blue", alpha=0.3)
        weights = [(snap.params[f"layer{k}.weight"].copy(), snap.params[f"layer{k}.bias"].copy())
                   for k in range(1, count + 1)]
        w1, w2 = weights[-1][0][0, 0], weights[-1][0][0, 1]
        errors = np.empty((len(deltas), len(deltas)))
        for i, d1 in enumerate(deltas):  # one forward pass per grid point
            for j, d2 in enumerate(deltas):
                trial = [(w.copy(), b) for w, b in weights]
                trial[-1][0][0, 0] = w1 + d1
                trial[-1][0][0, 1] = w2 + d2
                layers = nn.build(trial, config.activation, config.output)
                errors[j, i] = nn.mse(z[:, None], nn.forward(layers, X))
        m1, m2 = np.meshgrid(w1 + deltas, w2 + deltas)
        ax2.plot_surface(m1, m2, errors, color="blue", alpha=0.6)
        ax2.scatter([w1], [w2], [snap.loss], color="red")
        camera.snap()
    camera.animate(interval=1000 / fps).save(path, writer="pillow")
    plt.close(fig)


CASES = {
    "neural-network": ("neural-network", {}, nn_celluloid),
}
