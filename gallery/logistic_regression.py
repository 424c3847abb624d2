"""Logistic regression trained by stochastic gradient descent on two overlapping blobs.

One update per sample makes the decision boundary jitter on its way down, unlike the smooth
full-batch descent of the default.

Run: python gallery/logistic_regression.py [OUTDIR]  (writes OUTDIR/logreg-sgd.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("logistic-regression", out / "logreg-sgd.gif", dataset="blobs", optimizer="sgd")
print("wrote", path)
