"""Linear regression on the raw, unscaled advertising data.

Without standardizing x the MSE surface is a long narrow valley, and gradient descent crawls
along it: the reason the reference notebook never converged.

Run: python gallery/linear_regression.py [OUTDIR]  (writes OUTDIR/linreg-raw.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("linear-regression", out / "linreg-raw.gif", standardize=False, epochs=400)
print("wrote", path)
