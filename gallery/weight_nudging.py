"""Learning a negative slope, f(x) = -2x, by nudging a weight and then by SGD.

The nudges now walk the weight down from its random start instead of up.

Run: python gallery/weight_nudging.py [OUTDIR]  (writes OUTDIR/nudging-negative.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("weight-nudging", out / "nudging-negative.gif", target=-2.0)
print("wrote", path)
