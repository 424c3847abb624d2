"""Benchmark: the size of the HTML player against the GIF of the same render, and of a
notebook cell showing a sweep.

Usage: python benchmarks/players.py [--only NAME ...] [--sweep ALGO:KEY] [--out DIR]

For each algorithm (default: kmeans and linear-regression, at their default frame counts)
it trains once, draws the frames once and writes them as a GIF and as the HTML player
through mlviz's writers (each primed as ``mlviz render`` primes it), then prints both
sizes and their ratio (the target: the player at most 1.5 times the GIF). ``--sweep``
prepares a default sweep (``ALGO:KEY``: the algorithm's default values of KEY) and
prints the size of its notebook cell (``_repr_html_``; the target: under 3 MB).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def write(path: Path, frames: list, fps: float, captions: list[str]) -> float:
    """Write ``frames`` to ``path``; the seconds it took."""
    from mlviz.writers import open_writer

    start = time.perf_counter()
    with open_writer(path, fps=fps, hold=2.0, captions=captions) as writer:
        first = writer.frames_wanted_first(len(frames))
        if first:
            writer.prime([frames[i] for i in first])
        for frame in frames:
            writer.write(frame)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=["kmeans", "linear-regression"])
    parser.add_argument("--sweep", default="optimizers:lr_sgd")
    parser.add_argument("--out", type=Path, default=Path("/tmp/mlviz-players"))
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    import mlviz
    from mlviz.api import frame_captions

    args.out.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.2f}")
    failed = []
    for name in args.only:
        prepared = mlviz.prepare(name)
        frames = list(prepared.renderer().frames())
        captions = frame_captions(prepared.run)
        sizes, seconds = {}, {}
        for suffix in (".gif", ".html"):
            path = args.out / f"{name}{suffix}"
            seconds[suffix] = write(path, frames, prepared.fps, captions)
            sizes[suffix] = path.stat().st_size
        ratio = sizes[".html"] / sizes[".gif"]
        failed += [name] if ratio > 1.5 else []
        print(f"{name:20} {len(frames):4d} frames  GIF {sizes['.gif'] / 1e6:6.2f} MB "
              f"({seconds['.gif']:.1f} s)  player {sizes['.html'] / 1e6:6.2f} MB "
              f"({seconds['.html']:.1f} s)  player/GIF {ratio:.2f}", flush=True)
    if args.sweep:
        algorithm, key = args.sweep.split(":")
        start = time.perf_counter()
        sweep = mlviz.prepare(algorithm, sweep=[key])
        cell = sweep._repr_html_()
        size = len(cell.encode())
        failed += [args.sweep] if size >= 3e6 else []
        print(f"notebook cell of the sweep {args.sweep}: {size / 1e6:.2f} MB "
              f"({time.perf_counter() - start:.1f} s with training)")
    print("all within the targets" if not failed else f"over the target: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
