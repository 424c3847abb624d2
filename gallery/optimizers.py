"""The optimizers racing on Himmelblau's function instead of Rosenbrock's valley.

Himmelblau's surface has four minima: from the same start, each optimizer may settle in a
different one. The .png output draws only the last frame, where every race has ended.

Run: python gallery/optimizers.py [OUTDIR]  (writes OUTDIR/optimizers-himmelblau.png)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("optimizers", out / "optimizers-himmelblau.png", surface="himmelblau")
print("wrote", path)
