"""SGD's learning rate on Rosenbrock: too small, enough, too large, beside the others.

Each run races all four optimizers; only plain SGD's rate changes. At 0.0005 SGD crawls
down the wall of the valley, at 0.002 it reaches the minimum, at 0.003 it overshoots and
drops out of the race, while momentum, RMSprop and Adam stay the yardstick.

Run: python gallery/sweep_optimizers.py [OUTDIR]  (writes OUTDIR/optimizers-lr-sweep.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("optimizers", out / "optimizers-lr-sweep.gif",
                    sweep={"lr_sgd": [0.0005, 0.002, 0.003]})
print("wrote", path)
