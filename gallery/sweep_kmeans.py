"""Why k-means depends on its start: four seeds, one random start each, the same data.

A sweep over ``seed`` keeps the data of the base seed, so only the starting centroids
change. Some starts find the three blobs; others get stuck with two centroids sharing a
blob, at several times the inertia (the curves share one log axis). A run that converges
early holds its last state, marked "finished at epoch N".

Run: python gallery/sweep_kmeans.py [OUTDIR]  (writes OUTDIR/kmeans-seed-sweep.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("kmeans", out / "kmeans-seed-sweep.gif", sweep={"seed": [0, 1, 2, 3]},
                    n_init=1, init="random", k_max=3)
print("wrote", path)
