"""The 1-3-1 network fitting y = x^(1/3), viewed out to x = 6.

The data cover [0, 1]; the wider view shows how far the tanh network's extrapolation drifts
from the cube root.

Run: python gallery/nn_regression.py [OUTDIR]  (writes OUTDIR/nn-regression-far.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("nn-regression", out / "nn-regression-far.gif", view_max=6.0)
print("wrote", path)
