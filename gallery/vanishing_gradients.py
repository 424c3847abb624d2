"""The same narrow tanh network on XOR with 4 hidden layers instead of 10.

With fewer layers between the loss and the first weights, less of their gradient is lost
on the way: compare the early layers with the default 10-layer network.

Run: python gallery/vanishing_gradients.py [OUTDIR]  (writes OUTDIR/vanishing-4-layers.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("vanishing-gradients", out / "vanishing-4-layers.gif", hidden_layers=4)
print("wrote", path)
