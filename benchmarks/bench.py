"""Benchmark: mlviz against the notebooks' celluloid pipeline, on the same runs.

Usage: python benchmarks/bench.py [--only NAME ...] [--out DIR]

For each case both pipelines draw the same trained snapshots into a GIF; the script
reports wall time, peak memory (tracemalloc, Python allocations incl. numpy) and bytes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import notebook_style  # noqa: E402

from mlviz.api import prepare, write_animation  # noqa: E402


def _measure(fn):
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak


# name -> (algorithm, hyperparameters, notebook-style renderer)
CASES = {
    "kmeans": ("kmeans", {"max_iter": 8, "stop_early": False}, notebook_style.kmeans_celluloid),
}


def warm_up() -> None:
    """Import matplotlib and Pillow once, so neither side pays for it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import mpl_toolkits.mplot3d  # noqa: F401
    from PIL import Image  # noqa: F401


def bench_case(name: str, out: Path) -> dict:
    algorithm, overrides, notebook = CASES[name]
    prepared = prepare(algorithm, **overrides)
    mlviz_gif, notebook_gif = out / f"{name}-mlviz.gif", out / f"{name}-notebook.gif"
    t_mlviz, m_mlviz = _measure(lambda: write_animation(prepared, mlviz_gif))
    t_nb, m_nb = _measure(lambda: notebook(prepared.run, str(notebook_gif), fps=prepared.fps))
    return {
        "name": name, "frames": prepared.run.n_frames,
        "mlviz_s": t_mlviz, "notebook_s": t_nb, "speedup": t_nb / t_mlviz,
        "mlviz_mb": m_mlviz / 2**20, "notebook_mb": m_nb / 2**20,
        "mlviz_bytes": mlviz_gif.stat().st_size, "notebook_bytes": notebook_gif.stat().st_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="cases to run")
    parser.add_argument("--out", type=Path, help="keep the GIFs in this folder")
    args = parser.parse_args()
    warm_up()
    out = args.out or Path(tempfile.mkdtemp(prefix="mlviz-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    header = (f"{'case':<22}{'frames':>7}{'mlviz s':>9}{'notebook s':>12}{'speedup':>9}"
              f"{'mlviz MB':>10}{'nb MB':>8}{'mlviz KB':>10}{'nb KB':>9}")
    print(header)
    for name in args.only or CASES:
        r = bench_case(name, out)
        print(f"{r['name']:<22}{r['frames']:>7}{r['mlviz_s']:>9.2f}{r['notebook_s']:>12.2f}"
              f"{r['speedup']:>8.1f}x{r['mlviz_mb']:>10.1f}{r['notebook_mb']:>8.1f}"
              f"{r['mlviz_bytes'] / 1024:>10.0f}{r['notebook_bytes'] / 1024:>9.0f}", flush=True)
    print(f"GIFs in {out}")


if __name__ == "__main__":
    main()
