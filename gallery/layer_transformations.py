"""How each 2-unit layer bends XOR, with ReLU instead of tanh.

ReLU folds the plane along lines instead of bending it smoothly, and a unit that dies maps
everything to zero.

Run: python gallery/layer_transformations.py [OUTDIR]  (writes OUTDIR/layers-relu.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("layer-transformations", out / "layers-relu.gif", activation="relu")
print("wrote", path)
