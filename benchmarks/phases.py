"""Where one process's time goes: ``mlviz render ALGORITHM -o X.gif --jobs 1``, phase by
phase, in this (fresh) process: imports, plugins, training (and the story), the figure,
the first frame, the palette's sample frames, the palette, then every other frame's
drawing and encoding (mean per frame). What is serial with any number of workers is
the start-up, training, figure, first frame, palette samples and palette; the rest
divides among workers when they encode their frames (see mlviz.parallel).

CPU seconds (not wall), so that a busy machine changes them less.

Usage: python benchmarks/phases.py [ALGORITHM] [--frames N] [--repeat 3]
(the machine's load average is printed with the numbers: compare only side by side.)
"""

from __future__ import annotations

import time

START = time.perf_counter()
CPU_START = time.process_time()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402


def phases(algorithm: str, frames: int | None) -> dict[str, float]:
    """CPU seconds of each phase, and the mean per frame of ``draw`` and ``encode``; the
    wall seconds of the whole (``total``)."""
    marks: dict[str, float] = {}
    last = [CPU_START]

    def mark(name: str) -> None:
        now = time.process_time()
        marks[name] = now - last[0]
        last[0] = now

    import mlviz.cli  # noqa: F401

    mark("import-cli")
    from mlviz.api import prepare
    from mlviz.plugins import load_registry

    registry = load_registry()
    mark("plugins")
    prepared = prepare(algorithm, frames=frames, registry=registry)
    mark("train+story")
    from mlviz.renderer import FrameDrawer
    from mlviz.writers import writer_class

    renderer = prepared.renderer(caption=True)
    path = Path(tempfile.mkdtemp(prefix="mlviz-phases-")) / "x.gif"
    writer = writer_class(path, registry)(path, fps=prepared.fps, hold=0.0,
                                          captions=prepared.captions())
    mark("renderer+writer")
    with FrameDrawer(renderer) as drawer:
        mark("figure")
        count = renderer.n_frames
        first = list(dict.fromkeys(writer.frames_wanted_first(count)))
        ahead = {first[0]: drawer.draw(first[0])}
        mark("first-frame")
        ahead.update((p, drawer.draw(p)) for p in first[1:])
        mark("palette-samples")
        writer.prime([ahead[p] for p in first])
        mark("palette")
        draw = encode = 0.0
        for position in range(count):
            t = time.process_time()
            frame = ahead.pop(position) if position in ahead else drawer.draw(position)
            t2 = time.process_time()
            writer.write(frame)
            draw, encode = draw + t2 - t, encode + time.process_time() - t2
        writer.close()
    marks["draw/frame"] = draw / (count - len(first))  # the samples were drawn above
    marks["encode/frame"] = encode / count
    marks["frames"] = count
    marks["cpu"] = time.process_time() - CPU_START
    marks["total"] = time.perf_counter() - START
    return marks


def split(algorithm: str, frames: int | None, jobs: int) -> dict[str, float]:
    """CPU seconds of ``mlviz render ALGORITHM --jobs JOBS`` in this process: before the
    workers are forked (serial), this process's after it, and the workers' (all of
    them); and the wall seconds of the whole."""
    import resource

    from mlviz import parallel
    from mlviz.cli import main as cli

    forked: list[float] = []
    real = parallel._write_from_workers

    def timed(*args, **kwargs):
        forked.append(time.process_time())
        return real(*args, **kwargs)

    parallel._write_from_workers = timed
    path = Path(tempfile.mkdtemp(prefix="mlviz-phases-")) / "x.gif"
    command = ["render", algorithm, "-o", str(path), "-q", "--jobs", str(jobs)]
    cli(command + (["--frames", str(frames)] if frames else []))
    cpu = time.process_time() - CPU_START
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = children.ru_utime + children.ru_stime
    before = (forked[0] - CPU_START) if forked else cpu
    return {"serial": before, "main-after": cpu - before, "workers": workers,
            "faults": children.ru_minflt, "total": time.perf_counter() - START}


def estimate(run: dict[str, float], cores: int) -> float:
    """Wall seconds on ``cores`` idle cores: the serial part, then the workers' CPU
    shared by the cores (this process's own work after the fork runs beside them)."""
    if not run["workers"]:
        return run["serial"] + run["main-after"]
    return run["serial"] + max((run["workers"] + run["main-after"]) / cores,
                               run["main-after"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("algorithm", nargs="?", default="kmeans")
    parser.add_argument("--frames", type=int)
    parser.add_argument("--repeat", type=int, default=1,
                        help="fresh processes, one after the other (the fastest is kept)")
    parser.add_argument("--jobs", type=int, nargs="*",
                        help="instead: the CPU split of whole renders with these --jobs, and "
                             "the wall time it gives on 2, 4, 8 and 16 idle cores")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        marks = split(args.algorithm, args.frames, args.jobs[0]) if args.jobs else \
            phases(args.algorithm, args.frames)
        print(" ".join(f"{k}={v:.4f}" for k, v in marks.items()))
        return
    if args.jobs:
        return main_jobs(args)
    import subprocess

    runs = []
    for _ in range(args.repeat):
        command = [sys.executable, __file__, args.algorithm, "--child"]
        if args.frames:
            command += ["--frames", str(args.frames)]
        out = subprocess.run(command, check=True, capture_output=True, text=True,
                             env={**os.environ, "MPLBACKEND": "Agg"}).stdout
        runs.append(dict((k, float(v)) for k, v in
                         (kv.split("=") for kv in out.strip().splitlines()[-1].split())))
    best = min(runs, key=lambda r: r["cpu"])
    totals = " ".join(f"{r['total']:.2f}" for r in runs)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}; CPU seconds, the least busy of {len(runs)} "
          f"(wall totals: {totals})")
    for key, value in best.items():
        unit = "" if key == "frames" else (" ms" if "/" in key else " s")
        shown = f"{value:.0f}" if key == "frames" else \
            (f"{1000 * value:.1f}" if "/" in key else f"{value:.3f}")
        print(f"  {key:<16}{shown}{unit}")


def child(args, jobs: int | None = None) -> dict[str, float]:
    """One fresh process's numbers (see --child)."""
    import subprocess

    command = [sys.executable, __file__, args.algorithm, "--child"]
    if args.frames:
        command += ["--frames", str(args.frames)]
    if jobs:
        command += ["--jobs", str(jobs)]
    out = subprocess.run(command, check=True, capture_output=True, text=True,
                         env={**os.environ, "MPLBACKEND": "Agg"}).stdout
    return dict((k, float(v)) for k, v in
                (kv.split("=") for kv in out.strip().splitlines()[-1].split()))


def main_jobs(args) -> None:
    """--jobs: each job count ``--repeat`` times, alternating; the least CPU kept."""
    runs: dict[int, list[dict[str, float]]] = {j: [] for j in args.jobs}
    for _ in range(args.repeat):
        for jobs in args.jobs:
            runs[jobs].append(child(args, jobs))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}; CPU seconds (least of {args.repeat}); est: wall seconds on "
          "N idle cores")
    print(f"{'jobs':>4}{'serial':>8}{'main after':>11}{'workers':>9}{'wall':>7}"
          + "".join(f"{'est ' + str(c) + 'c':>9}" for c in (2, 4, 8, 16)))
    for jobs, results in runs.items():
        best = min(results, key=lambda r: r["serial"] + r["main-after"] + r["workers"])
        print(f"{jobs:>4}{best['serial']:>8.2f}{best['main-after']:>11.2f}"
              f"{best['workers']:>9.2f}{best['total']:>7.2f}"
              + "".join(f"{estimate(best, min(c, jobs)):>9.2f}" for c in (2, 4, 8, 16)))


if __name__ == "__main__":
    main()
