"""The saddle-fitting network with ReLU hidden units instead of tanh.

ReLU networks fit the saddle with visible creases: piecewise-linear surfaces.

Run: python gallery/neural_network.py [OUTDIR]  (writes OUTDIR/nn-relu.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("neural-network", out / "nn-relu.gif", activation="relu")
print("wrote", path)
