"""Benchmark: train + render against render-from-record, and what a record costs.

Usage: python benchmarks/record.py [NAME ...]   (default: nn-regression vanishing-gradients)

For each algorithm, side by side in one run and each step a whole ``mlviz`` process:
``render NAME`` (train and draw), ``train NAME -o run.npz``, ``render run.npz`` (draw only),
and ``train NAME --record-params``. It prints wall times, the ratio of a re-render to a
full render, the record sizes on disk, and the traces' size in memory with and without
every parameter recorded at every epoch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = ("nn-regression", "vanishing-gradients")


def timed(*args: str, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mlviz.cli", *args, "--quiet"], cwd=cwd, check=True,
                   env={**os.environ, "MPLBACKEND": "Agg"})
    return time.perf_counter() - start


def traces_bytes(path: Path) -> int:
    """Bytes the run's history (epochs, losses, traces) takes in memory once loaded."""
    import mlviz

    run = mlviz.load_run(path).run
    return run.epochs.nbytes + run.losses.nbytes + sum(v.nbytes for v in run.traces.values())


def main(names: list[str]) -> None:
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = (f"{'algorithm':<22}{'render':>9}{'train':>9}{'re-render':>11}{'ratio':>7}"
              f"{'record':>10}{'+params':>10}{'traces':>10}{'+params':>10}")
    print(header)
    for name in names:
        with tempfile.TemporaryDirectory() as folder:
            cwd = Path(folder)
            full = timed("render", name, "-o", "direct.gif", cwd=cwd)
            train = timed("train", name, "-o", "run.npz", cwd=cwd)
            again = timed("render", "run.npz", "-o", "again.gif", cwd=cwd)
            timed("train", name, "--record-params", "-o", "params.npz", cwd=cwd)
            sizes = [(cwd / f).stat().st_size / 1e6 for f in ("run.npz", "params.npz")]
            memory = [traces_bytes(cwd / f) / 1e6 for f in ("run.npz", "params.npz")]
            print(f"{name:<22}{full:>8.1f}s{train:>8.1f}s{again:>10.1f}s{again / full:>7.2f}"
                  f"{sizes[0]:>8.2f}MB{sizes[1]:>8.2f}MB{memory[0]:>8.2f}MB{memory[1]:>8.2f}MB")


if __name__ == "__main__":
    main(sys.argv[1:] or list(DEFAULT))
