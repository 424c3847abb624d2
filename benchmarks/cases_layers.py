"""Benchmark cases: layer-transformations and vanishing-gradients, drawn the notebook way.

The reference notebook re-draws every layer's scatter plot and every layer's loss landscape
each frame (the landscape computed with one model evaluation per grid point, weights
overridden in place), snaps the figures with celluloid and saves them with Pillow.
"""

from __future__ import annotations

import numpy as np


def layers_celluloid(run, path: str, fps: float = 5.0, dpi: float = 100) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch
    from celluloid import Camera

    from mlviz_layers.trainer import build_model, n_linear

    torch.set_num_threads(1)
    config = run.config
    count = n_linear(config)
    model = build_model(config)
    x = torch.as_tensor(np.array(run.dataset.X), dtype=torch.float32)
    y = torch.as_tensor(np.array(run.dataset.y), dtype=torch.float32)
    labels = np.asarray(run.dataset.y)
    cmap = matplotlib.colors.ListedColormap(["blue", "red"])
    cols = 6 if count <= 4 else 7
    n_panels = 2 * count + 3
    rows = -(-n_panels // cols)
    fig = plt.figure(figsize=(12.8, 7.2) if rows <= 2 else (16, 9), dpi=dpi, layout="constrained")
    flat = [fig.add_subplot(rows, cols, i + 1) for i in range(count + 3)]
    land = [fig.add_subplot(rows, cols, count + 4 + k, projection="3d") for k in range(count)]
    camera = Camera(fig)
    deltas = np.linspace(-config.span, config.span, config.resolution)
    named = dict(model.named_parameters())
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
    for snap in run.snapshots:
        with torch.no_grad():
            for name, value in snap.params.items():
                named[name].copy_(torch.from_numpy(np.array(value)))
        for k in range(count):
            h = snap.hidden[k]
            flat[k].scatter(h[:, 0], h[:, 1], c=labels, cmap=cmap, alpha=0.5, s=5)
        flat[count].scatter(snap.proba, np.zeros_like(snap.proba), c=labels, cmap=cmap, alpha=0.5)
        flat[count + 1].scatter(x[:, 0], x[:, 1], c=snap.proba > 0.5, cmap=cmap, alpha=0.5, s=5)
        epochs, losses = run.losses_until(snap.epoch)
        flat[count + 2].plot(epochs, losses, color="red", alpha=0.5)
        for k in range(count):
            weight = named[f"layers.{k}.weight"]
            w1, w2 = float(weight[0, 0]), float(weight[0, 1])
            errors = np.empty((len(deltas), len(deltas)))
            with torch.no_grad():
                for i, d1 in enumerate(deltas):  # one model evaluation per grid point
                    for j, d2 in enumerate(deltas):
                        weight[0, 0], weight[0, 1] = w1 + d1, w2 + d2
                        errors[j, i] = float(loss_fn(model(x), y))
                weight[0, 0], weight[0, 1] = w1, w2
            m1, m2 = np.meshgrid(deltas, deltas)
            land[k].plot_surface(m1, m2, errors, color="blue", alpha=0.6)
            land[k].scatter([0], [0], [snap.loss], color="red")
        camera.snap()
    camera.animate(interval=1000 / fps).save(path, writer="pillow")
    plt.close(fig)


CASES = {
    "layer-transformations": ("layer-transformations", {}, layers_celluloid),
    "vanishing-gradients": ("vanishing-gradients", {}, layers_celluloid),
}
