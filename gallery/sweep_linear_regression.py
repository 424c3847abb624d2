"""Three learning rates compared in one animation: too small, good, too large.

``lr=0.003`` crawls down the MSE bowl and is still far from the least-squares line after
200 steps; ``lr=0.1`` is there in about 30; ``lr=1.05`` overshoots further at every step
and diverges: a single render refuses that rate, a sweep shows it, marked "diverged" and
clipped to the axes the other runs share. The loss curves share one axis.

Run: python gallery/sweep_linear_regression.py [OUTDIR]  (writes OUTDIR/linreg-lr-sweep.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("linear-regression", out / "linreg-lr-sweep.gif",
                    sweep={"lr": [0.003, 0.1, 1.05]})
print("wrote", path)
