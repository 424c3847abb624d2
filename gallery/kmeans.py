"""k-means with random initial centroids instead of k-means++, for K = 1 … 6.

Uniform random starts converge more slowly and sometimes to a worse clustering: compare the
elbow with the default k-means++ seeding (``mlviz render kmeans``).

Run: python gallery/kmeans.py [OUTDIR]  (writes OUTDIR/kmeans-random-init.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("kmeans", out / "kmeans-random-init.gif", k_max=6, init="random")
print("wrote", path)
