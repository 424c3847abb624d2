"""Benchmark case: the perceptron, and its notebook-style celluloid renderer.

The reference notebook (§0.5) re-plots every frame: the error curve, the 1D strip of
distances, and in 3D both planes as ``plot_surface``, their normals as ``quiver`` and the
grid points, then ``Camera.snap()``. This renderer draws the same content that way (with
the fixes mlviz makes: the learned plane with its bias, the mean criterion, the
misclassified count). It exists only to be measured; it is not part of the package.
"""

from __future__ import annotations

import numpy as np


def _plane_z(w: np.ndarray, b: float, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """z on the plane w·x + b = 0 (the notebook's parametrisation; NaN where it leaves the box)."""
    z = -(w[0] * xx + w[1] * yy + b) / (w[2] if abs(w[2]) > 1e-9 else 1e-9)
    return np.where(np.abs(z) <= 1, z, np.nan)


def perceptron_celluloid(run, path: str, fps: float = 5.0, dpi: float = 100) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from celluloid import Camera

    from mlviz.style import LOSS, NEGATIVE, POSITIVE
    from mlviz_perceptron.trainer import misclassified, signed_distances

    X, y = run.dataset.X, run.dataset.y
    colors = np.where(y > 0, POSITIVE, NEGATIVE)
    normal, offset = run.dataset.extra["normal"], run.dataset.extra["offset"]
    fig, ax = plt.subplots(2, 3, figsize=(9.6, 5.4), dpi=dpi, layout="constrained")
    fig.suptitle("Perceptron")
    ax0, ax1 = ax[0, 0], ax[1, 0]
    ax0.set_title("Perceptron criterion")
    ax0.set_xlabel("epoch")
    twin = ax0.twinx()
    ax1.set_title("Signed distance to the learned plane")
    for a in (ax[0, 1], ax[0, 2], ax[1, 1], ax[1, 2]):
        a.axis("off")
    ax2 = fig.add_subplot(1, 2, 2, projection="3d")
    ax2.set_title("Target and learned planes")
    ax2.view_init(20, -35)
    ax2.set_xlim(-1, 1)
    ax2.set_ylim(-1, 1)
    ax2.set_zlim(-1, 1)
    g = np.linspace(-1, 1, 10)
    xx, yy = np.meshgrid(g, g)
    camera = Camera(fig)
    counts = {s.epoch: s.misclassified for s in run.snapshots}
    for snap in run.snapshots:
        w, b = snap.params["w"], float(snap.params["b"])
        epochs, losses = run.losses_until(snap.epoch)
        ax0.plot(epochs, losses, color=LOSS)
        shown = [e for e in counts if e <= snap.epoch]
        twin.plot(shown, [counts[e] for e in shown], color="#555555", ls="--")
        d = signed_distances(X, w, b)
        ax1.scatter(d, np.zeros(len(d)), c=colors, alpha=0.3)
        ax2.plot_surface(xx, yy, _plane_z(normal, offset, xx, yy), color="#2ca02c", alpha=0.2)
        ax2.quiver(0, 0, 0, *normal, color="#2ca02c", length=0.75, arrow_length_ratio=0.2)
        ax2.scatter(X[:, 0], X[:, 1], X[:, 2], c=colors, s=12, depthshade=False)
        wrong = misclassified(X, y, w, b)
        ax2.scatter(*X[wrong].T, s=40, facecolors="none", edgecolors="black", depthshade=False)
        ax2.plot_surface(xx, yy, _plane_z(w, b, xx, yy), color="#7b3fa0", alpha=0.25)
        unit = w / np.linalg.norm(w)
        ax2.quiver(*(-b * unit / np.linalg.norm(w)), *unit, color="#7b3fa0", length=0.75,
                   arrow_length_ratio=0.2)
        camera.snap()
    camera.animate(interval=1000 / fps).save(path, writer="pillow")
    plt.close(fig)


# name -> (algorithm, hyperparameters, notebook-style renderer). The default run converges
# in 28 epochs; stop_early=false keeps it going to 96 epochs, a length like the others'.
CASES = {
    "perceptron": ("perceptron", {}, perceptron_celluloid),
    "perceptron-96": ("perceptron", {"epochs": 95, "stop_early": False}, perceptron_celluloid),
}
