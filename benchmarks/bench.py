"""Benchmark: mlviz against the notebooks' celluloid pipeline, on the same runs, and mlviz
with one drawing process against several.

Usage: python benchmarks/bench.py [--only NAME ...] [--jobs 1 2] [--frames N] [--out DIR]
       python benchmarks/bench.py --whole [--only kmeans] [--jobs 1 2] [--repeat 3]

``--whole`` times whole processes, as a user waits for them (start-up, imports, training
and drawing): ``mlviz render ALGORITHM -o X.gif --jobs N`` with the algorithm's defaults,
against a fresh Python process that trains the same run and draws it the notebooks' way;
each ``--repeat`` times, side by side (alternating), keeping the fastest of each.

Cases come from ``benchmarks/cases_*.py``: each module defines ``CASES``, a dict of
name -> (algorithm, hyperparameters, notebook-style renderer(run, path, fps)). For each case
both pipelines draw the same trained snapshots into a GIF, each in a fresh subprocess, after
training and after importing matplotlib and Pillow (neither side pays for those). For mlviz
it runs once per ``--jobs`` value. It reports wall time (and per frame), the CPU time of the
main process and of the worker processes, the peak memory while drawing (the main process's
growth, and the largest worker's resident set) and the GIF's size; then, per case, the
speed-up per frame over the notebook pipeline and of N jobs over one, and what more cores
would give: drawing (and, for GIF and WebP, encoding) splits over the workers, while the
main process's own work stays (see benchmarks/phases.py --jobs for the split of a whole
render).

The machine's load average is printed first: numbers from a busy machine are not a
benchmark.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
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


def _cpu() -> tuple[float, float]:
    me, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def measure(name: str, pipeline: str, path: Path, frames: int | None) -> dict:
    """In this (fresh) process: train, then time one pipeline drawing the run into ``path``.

    ``pipeline`` is ``notebook`` or ``mlviz-N`` (N drawing processes)."""
    from mlviz.api import prepare, write_animation
    from mlviz.plugins import load_registry

    algorithm, overrides, notebook = load_cases()[name]
    warm_up()
    registry = load_registry()
    prepared = prepare(algorithm, frames=frames, registry=registry, **overrides)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = _cpu()
    start = time.perf_counter()
    if pipeline.startswith("mlviz"):
        write_animation(prepared, path, registry=registry, hold=0.0,
                        jobs=int(pipeline.partition("-")[2]))
    else:
        notebook(prepared.run, str(path), fps=prepared.fps)
    elapsed = time.perf_counter() - start
    cpu_after = _cpu()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": elapsed, "frames": prepared.run.n_frames,
            "cpu_main": cpu_after[0] - cpu_before[0],
            "cpu_workers": cpu_after[1] - cpu_before[1],
            "growth_mb": (rss_after - rss_before) / 1024, "worker_mb": workers / 1024,
            "bytes": path.stat().st_size}


def run_in_subprocess(name: str, pipeline: str, path: Path, frames: int | None) -> dict:
    command = [sys.executable, __file__, "--measure", name, pipeline, str(path)]
    if frames:
        command += ["--frames", str(frames)]
    out = subprocess.run(command, check=True, capture_output=True, text=True,
                         env={**os.environ, "MPLBACKEND": "Agg"}).stdout
    return json.loads(out.strip().splitlines()[-1])


def notebook_whole(name: str, path: Path, frames: int | None = None) -> None:
    """In this (fresh) process: train the algorithm's default run and draw it the
    notebooks' way (what --whole times for the notebook side)."""
    from mlviz.api import prepare

    algorithm, _, notebook = load_cases()[name]
    prepared = prepare(algorithm, frames=frames)
    notebook(prepared.run, str(path), fps=prepared.fps)


def whole(name: str, pipeline: str, path: Path, frames: int | None = None) -> float:
    """Wall seconds of one whole process (see --whole)."""
    algorithm = load_cases()[name][0]
    if pipeline == "notebook":
        command = [sys.executable, __file__, "--notebook-whole", name, str(path)]
        if frames:
            command += ["--frames", str(frames)]
    else:
        command = [sys.executable, "-c", "import sys; from mlviz.cli import main; "
                   "sys.exit(main())", "render", algorithm, "-o", str(path), "-q",
                   "--jobs", pipeline.partition("-")[2]]
        if frames:
            command += ["--frames", str(frames)]
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "MPLBACKEND": "Agg"})
    return time.perf_counter() - start


def main_whole(args, cases: dict, out: Path) -> None:
    from PIL import Image

    pipelines = [f"mlviz-{j}" for j in args.jobs] + ([] if args.no_notebook else
                                                     ["notebook"])
    print(f"{'case':<12}{'pipeline':<10}{'frames':>7}{'best s':>8}{'ms/frame':>9}"
          f"{'runs (s)':>30}")
    for name in args.only or ["kmeans"]:
        times: dict[str, list[float]] = {p: [] for p in pipelines}
        for _ in range(args.repeat):
            for pipeline in pipelines:  # alternating: a load spike hits every pipeline
                times[pipeline].append(whole(name, pipeline, out / f"{name}-{pipeline}.gif",
                                             args.frames))
        best = {p: min(t) for p, t in times.items()}
        frames = {}
        for pipeline in pipelines:
            with Image.open(out / f"{name}-{pipeline}.gif") as image:
                frames[pipeline] = image.n_frames
            runs = " ".join(f"{t:.2f}" for t in times[pipeline])
            print(f"{name:<12}{pipeline:<10}{frames[pipeline]:>7}{best[pipeline]:>8.2f}"
                  f"{1000 * best[pipeline] / frames[pipeline]:>9.1f}{runs:>30}")
        per_frame = {p: best[p] / frames[p] for p in pipelines}
        ours = pipelines[:len(args.jobs)]
        parts = [f"{p[6:]} job(s) {per_frame['notebook'] / per_frame[p]:.1f}x the "
                 "notebooks' technique per frame" for p in ours if "notebook" in per_frame]
        parts += [f"{p[6:]} jobs {best[ours[0]] / best[p]:.2f}x {args.jobs[0]} job(s)"
                  for p in ours[1:]]
        line = "; ".join(parts)
        print(f"{name}: {line}")


def scaling(one: dict, many: dict, jobs: int, cores: int) -> float:
    """Seconds ``cores`` drawing processes would take, from a run with ``jobs`` of them:
    the main process's work (first frames, palette, and encoding where the workers do not
    encode) stays, the workers' work divides (an estimate: it ignores that the main
    process shares a core with them)."""
    serial = many["cpu_main"]
    drawing = many["cpu_workers"]
    return max(serial, drawing / cores) if jobs > 1 else one["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="cases to run (default: all)")
    parser.add_argument("--jobs", nargs="*", type=int, default=[1, 2],
                        help="mlviz drawing processes to compare (default: 1 2)")
    parser.add_argument("--frames", type=int, help="frame budget for every case (quick runs)")
    parser.add_argument("--no-notebook", action="store_true",
                        help="skip the celluloid pipeline (jobs comparison only)")
    parser.add_argument("--out", type=Path, help="keep the GIFs in this folder")
    parser.add_argument("--whole", action="store_true",
                        help="time whole processes (start-up and training included)")
    parser.add_argument("--repeat", type=int, default=3, help="--whole: runs of each")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--notebook-whole", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.notebook_whole:
        notebook_whole(args.notebook_whole[0], Path(args.notebook_whole[1]), args.frames)
        return
    if args.measure:
        name, pipeline, path = args.measure
        print(json.dumps(measure(name, pipeline, Path(path), args.frames)))
        return
    cases = load_cases()
    unknown = set(args.only or ()) - set(cases)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}; known: {', '.join(cases)}")
    out = args.out or Path(tempfile.mkdtemp(prefix="mlviz-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    from mlviz.parallel import available_cores

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}; {available_cores()} cores; Python {sys.version.split()[0]}")
    if args.whole:
        main_whole(args, cases, out)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return
    print(f"{'case':<22}{'pipeline':<10}{'frames':>6}{'s':>7}{'ms/fr':>7}{'cpu main':>9}"
          f"{'cpu wkrs':>9}{'MB':>6}{'wkr MB':>7}{'KB':>7}{'B/fr':>7}")
    summary = []
    for name in args.only or cases:
        pipelines = [f"mlviz-{j}" for j in args.jobs] + ([] if args.no_notebook else
                                                         ["notebook"])
        results = {}
        for pipeline in pipelines:
            r = run_in_subprocess(name, pipeline, out / f"{name}-{pipeline}.gif", args.frames)
            results[pipeline] = r
            print(f"{name:<22}{pipeline:<10}{r['frames']:>6}{r['seconds']:>7.2f}"
                  f"{1000 * r['seconds'] / r['frames']:>7.1f}{r['cpu_main']:>9.2f}"
                  f"{r['cpu_workers']:>9.2f}{r['growth_mb']:>6.0f}{r['worker_mb']:>7.0f}"
                  f"{r['bytes'] / 1024:>7.0f}{r['bytes'] / r['frames']:>7.0f}", flush=True)
        summary.append((name, results))
    print()
    one_key = f"mlviz-{args.jobs[0]}"
    header = f"{'case':<22}" + "".join(f"{'vs nb ' + p[6:] + 'j':>10}" for p in
                                       (f"mlviz-{j}" for j in args.jobs))
    header += "".join(f"{'x ' + str(j) + 'j':>8}" for j in args.jobs[1:])
    header += f"{'est 4c':>8}{'est 8c':>8}"
    print(header + "   (speed-ups; est: seconds on 4 and 8 cores)")
    for name, results in summary:
        line = f"{name:<22}"
        for j in args.jobs:
            r = results[f"mlviz-{j}"]
            nb = results.get("notebook")
            line += f"{(nb['seconds'] / r['seconds']) if nb else float('nan'):>9.1f}x"
        for j in args.jobs[1:]:
            line += f"{results[one_key]['seconds'] / results[f'mlviz-{j}']['seconds']:>7.2f}x"
        many = max(args.jobs)
        for cores in (4, 8):
            line += f"{scaling(results[one_key], results[f'mlviz-{many}'], many, cores):>8.2f}"
        print(line)
    print(f"MB: growth of the main process while drawing; wkr MB: largest worker's peak "
          f"resident set (shared with the main process where unchanged since the fork). "
          f"GIFs in {out}")


if __name__ == "__main__":
    main()
