"""Benchmark: mlviz against the notebooks' celluloid pipeline, on the same runs.

Usage: python benchmarks/bench.py [--only NAME ...] [--out DIR]

Cases come from ``benchmarks/cases_*.py``: each module defines ``CASES``, a dict of
name -> (algorithm, hyperparameters, notebook-style renderer(run, path, fps)). For each case
both pipelines draw the same trained snapshots into a GIF, each in a fresh subprocess; the
script reports wall time, peak resident memory of the drawing and the GIF's size.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def load_cases() -> dict:
    cases = {}
    for module_path in sorted(HERE.glob("cases_*.py")):
        cases.update(importlib.import_module(module_path.stem).CASES)
    return cases


def warm_up() -> None:
    """Import matplotlib and Pillow once, so neither side pays for it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import mpl_toolkits.mplot3d  # noqa: F401
    from PIL import Image  # noqa: F401


def measure(name: str, pipeline: str, path: Path) -> dict:
    """In this (fresh) process: train, then time one pipeline drawing the run into ``path``."""
    from mlviz.api import prepare, write_animation

    algorithm, overrides, notebook = load_cases()[name]
    warm_up()
    prepared = prepare(algorithm, **overrides)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if pipeline == "mlviz":
        write_animation(prepared, path)
    else:
        notebook(prepared.run, str(path), fps=prepared.fps)
    elapsed = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": elapsed, "frames": prepared.run.n_frames,
            "peak_mb": rss_after / 1024, "growth_mb": (rss_after - rss_before) / 1024,
            "bytes": path.stat().st_size}


def run_in_subprocess(name: str, pipeline: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", name, pipeline, str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_case(name: str, out: Path) -> dict:
    mine = run_in_subprocess(name, "mlviz", out / f"{name}-mlviz.gif")
    theirs = run_in_subprocess(name, "notebook", out / f"{name}-notebook.gif")
    return {"name": name, "mlviz": mine, "notebook": theirs,
            "speedup": theirs["seconds"] / mine["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="cases to run (default: all)")
    parser.add_argument("--out", type=Path, help="keep the GIFs in this folder")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        name, pipeline, path = args.measure
        print(json.dumps(measure(name, pipeline, Path(path))))
        return
    cases = load_cases()
    unknown = set(args.only or ()) - set(cases)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}; known: {', '.join(cases)}")
    out = args.out or Path(tempfile.mkdtemp(prefix="mlviz-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"{'case':<24}{'frames':>7}{'mlviz s':>9}{'notebook s':>12}{'speedup':>9}"
          f"{'mlviz MB':>10}{'nb MB':>8}{'mlviz KB':>10}{'nb KB':>9}")
    for name in args.only or cases:
        r = bench_case(name, out)
        m, n = r["mlviz"], r["notebook"]
        print(f"{name:<24}{m['frames']:>7}{m['seconds']:>9.2f}{n['seconds']:>12.2f}"
              f"{r['speedup']:>8.1f}x{m['growth_mb']:>10.0f}{n['growth_mb']:>8.0f}"
              f"{m['bytes'] / 1024:>10.0f}{n['bytes'] / 1024:>9.0f}", flush=True)
    print(f"peak memory = growth of the process's resident set while drawing. GIFs in {out}")


if __name__ == "__main__":
    main()
