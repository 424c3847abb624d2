"""Benchmark: the same animation in every format, side by side (bytes and seconds).

Usage: python benchmarks/formats.py [--only NAME ...] [--formats gif mp4 webp apng] [--out DIR]
       python benchmarks/formats.py --memory 100 1000 [--formats ...]

For each algorithm (kmeans and vanishing-gradients by default) and each format, one whole
``mlviz render NAME -o NAME.FORMAT`` process is run and timed (training, drawing and
encoding: what a user waits for), once; then the file's size is read. The table gives the
bytes and the seconds of every format side by side, and the peak resident memory of each
render process.

``--memory N ...`` instead writes N synthetic 960x540 frames (moving shapes on white) into
each format in a fresh process and prints the writer's peak memory growth, to show whether
memory grows with the number of frames.

The machine's load average is printed before and after: numbers from a busy machine are not
a benchmark.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORMATS = ("gif", "mp4", "webp", "apng")
ALGORITHMS = ("kmeans", "vanishing-gradients")


def mlviz_command() -> list[str]:
    """``mlviz`` from this interpreter's environment."""
    script = Path(sys.executable).with_name("mlviz")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlviz.cli"]


def run(command: list[str], cwd: Path) -> tuple[float, int]:
    """Run ``command``; its wall time in seconds and the peak resident memory (KB) of its
    largest process (itself or a child it waited for)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "MPLBACKEND": "Agg"})
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def size(n: int) -> str:
    return f"{n / 2**20:.2f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def compare(algorithms: list[str], formats: list[str], out: Path) -> None:
    rows = []
    for name in algorithms:
        row = {}
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            seconds, peak = run([*mlviz_command(), "render", name, "-o", str(path), "-q"], out)
            row[fmt] = (path.stat().st_size, seconds, peak)
            print(f"  {name} .{fmt}: {size(row[fmt][0])}, {seconds:.1f} s, "
                  f"peak {peak / 1024:.0f} MB", file=sys.stderr, flush=True)
        rows.append((name, row))
    width = max(len(n) for n in algorithms)
    print(f"\n| {'algorithm':<{width}} | " + " | ".join(f"{'.' + f:<22}" for f in formats) + " |")
    print(f"|{'-' * (width + 2)}|" + "|".join("-" * 24 for _ in formats) + "|")
    for name, row in rows:
        cells = [f"{size(b)}, {s:.1f} s".ljust(22) for b, s, _ in (row[f] for f in formats)]
        print(f"| {name:<{width}} | " + " | ".join(cells) + " |")
    print("\nbytes relative to the GIF, and peak memory of the render process:" if "gif" in
          formats else "\npeak memory of the render process:")
    for name, row in rows:
        parts = []
        for fmt in formats:
            ratio = f"{row[fmt][0] / row['gif'][0]:.2f}x, " if "gif" in row else ""
            parts.append(f".{fmt} {ratio}{row[fmt][2] / 1024:.0f} MB")
        print(f"  {name}: " + "; ".join(parts))


MEMORY_SCRIPT = """
import resource, sys
import numpy as np
from mlviz.writers import open_writer

path, frames = sys.argv[1], int(sys.argv[2])
from PIL import Image  # noqa: F401  (imported before measuring: not the writer's memory)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rng = np.random.default_rng(0)
with open_writer(path, fps=10, hold=0) as writer:
    for i in range(frames):
        frame = np.full((540, 960, 3), 255, np.uint8)
        x, y = (37 * i) % 900, (23 * i) % 480
        frame[y: y + 60, x: x + 60] = rng.integers(0, 256, 3)
        frame[:, (i * 7) % 960] = (40, 40, 200)
        writer.write(frame)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def memory(counts: list[int], formats: list[str], out: Path) -> None:
    print("\npeak memory growth while writing N synthetic 960x540 frames:")
    print("| format | " + " | ".join(f"{n} frames" for n in counts) + " |")
    print("|---|" + "---|" * len(counts))
    for fmt in formats:
        cells = []
        for n in counts:
            result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(out / f"m.{fmt}"),
                                     str(n)], capture_output=True, text=True, check=True)
            cells.append(f"{int(result.stdout) / 1024:.0f} MB")
        print(f"| .{fmt} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=list(ALGORITHMS), metavar="NAME")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), metavar="FORMAT")
    parser.add_argument("--memory", nargs="+", type=int, metavar="N",
                        help="measure the writers' memory at N frames instead")
    parser.add_argument("--out", type=Path, help="keep the files here (default: a "
                                                  "temporary folder, removed)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="mlviz-formats-"))
    out.mkdir(parents=True, exist_ok=True)
    print(load(), "(before)")
    try:
        if args.memory:
            memory(args.memory, args.formats, out)
        else:
            compare(args.only, args.formats, out)
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    print(f"\n{load()} (after)")


if __name__ == "__main__":
    main()
