"""Both networks fitting the parabola with SGD (momentum 0.9) instead of Adam.

Compare how quickly each network fits, and how it extrapolates beyond the data, with
the default Adam (``mlviz render parabola``).

Run: python gallery/parabola.py [OUTDIR]  (writes OUTDIR/parabola-sgd.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("parabola", out / "parabola-sgd.gif", optimizer="sgd")
print("wrote", path)
