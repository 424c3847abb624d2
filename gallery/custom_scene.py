"""A scene of your own from existing panels: k-means clusters beside a log-scale loss curve.

``mlviz.prepare`` trains once and gives the run; the panels any plugin registered are looked
up by name in the registry (``mlviz info kmeans`` lists them), and mlviz's own reusable
panels live in ``mlviz.panels``. The Renderer draws the new scene; ``open_writer`` picks the
format from the suffix and writes atomically.

Run: python gallery/custom_scene.py [OUTDIR]  (writes OUTDIR/kmeans-custom.gif)
"""

import sys
from pathlib import Path

import mlviz
from mlviz.panels import LossCurvePanel

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
prepared = mlviz.prepare("kmeans", k_max=5)
panels = mlviz.load_registry().panels
scene = mlviz.Scene(
    [
        panels["kmeans-clusters"](),
        LossCurvePanel(ylabel="inertia", title="Inertia, iteration by iteration", log=True,
                       xlabel="Lloyd iteration (all K, one after another)"),
    ],
    title="k-means: the clusters and the inertia of every iteration",
    width_ratios=(1.6, 1.0),
)
renderer = mlviz.Renderer(scene, prepared.run)
with mlviz.open_writer(out / "kmeans-custom.gif", fps=prepared.fps) as writer:
    frames = renderer.render(writer)
print(f"wrote {out / 'kmeans-custom.gif'} ({frames} frames)")
