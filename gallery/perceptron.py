"""The perceptron visiting the points in grid order instead of a fresh shuffle each epoch.

Every pass then makes its updates in the same order: compare the path of the plane with
the default shuffled order (``mlviz render perceptron``).

Run: python gallery/perceptron.py [OUTDIR]  (writes OUTDIR/perceptron-grid-order.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("perceptron", out / "perceptron-grid-order.gif", shuffle=False)
print("wrote", path)
