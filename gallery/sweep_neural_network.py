"""Hidden width compared: 2, 4 and 16 tanh units fitting the saddle z = y² − x².

Two hidden units cannot bend a surface into a saddle and stall at a high error; four
can; sixteen fit it closely and sooner. The mean squared errors share one log axis.

Run: python gallery/sweep_neural_network.py [OUTDIR]  (writes OUTDIR/nn-width-sweep.gif)
"""

import sys
from pathlib import Path

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
path = mlviz.render("neural-network", out / "nn-width-sweep.gif",
                    sweep={"layers": [(2, 2, 1), (2, 4, 1), (2, 16, 1)]})
print("wrote", path)
