"""PCA of standardized data: the principal components of the correlation matrix.

With ``standardize=True`` every feature is z-scored first, so the panels show the scaled
cloud and its components.

Run: python gallery/pca.py [OUTDIR]  (writes OUTDIR/pca-standardized.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("pca", out / "pca-standardized.gif", standardize=True, noise=0.5)
print("wrote", path)
