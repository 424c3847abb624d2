"""Benchmark: how faithful the GIF and WebP palettes are, against the exact APNG.

Usage: python benchmarks/palette_fidelity.py [--only NAME ...] [--frames 20] [--out DIR]
                                             [--json FILE]

For each default algorithm (and one 3D panel alone: ``layer-transformations`` with
``--panel loss-landscape:2``) it trains once (``mlviz train NAME -o DIR/NAME.npz --frames N``,
kept in ``DIR`` and reused), draws the record's frames once, writes them as GIF, WebP and
APNG through mlviz's writers (the palette primed as ``mlviz render`` primes it), decodes
the three files with Pillow and compares every GIF and WebP frame with the APNG's frame:
the share of pixels off by more than :data:`THRESHOLD` of 255 in any channel. It prints,
per case, the worst frame's share (the target is at most 0.005 %), how many frames pass
it, and the bytes per frame of each file. Run it on two checkouts (``PYTHONPATH``) to
compare before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

#: A pixel is off when some channel differs by more than this (of 255).
THRESHOLD = 48
#: The most a frame may have off, in percent of its pixels.
TARGET_PERCENT = 0.005
ALGORITHMS = [
    "kmeans", "layer-transformations", "linear-regression", "logistic-regression",
    "neural-network", "nn-regression", "optimizers", "parabola", "pca", "perceptron",
    "vanishing-gradients", "weight-nudging",
]
#: (case name, algorithm, panel): the default scenes, and one 3D panel alone.
CASES = [(name, name, None) for name in ALGORITHMS] + [
    ("layer-transformations --panel loss-landscape:2", "layer-transformations",
     "loss-landscape:2"),
]


def train(algorithm: str, folder: Path, frames: int) -> Path:
    """The run record of ``algorithm`` (trained once, then reused)."""
    record = folder / f"{algorithm}-{frames}.npz"
    if not record.exists():
        subprocess.run([sys.executable, "-c", "import sys; from mlviz.cli import main; sys.exit(main())", "train", algorithm, "-o", str(record),
                        "--frames", str(frames), "-q"], check=True)
    return record


def decode(path: Path) -> list[np.ndarray]:
    """Every frame of an animation as RGB, as a viewer composes them."""
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        return [np.array(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]


def off_percent(frame: np.ndarray, exact: np.ndarray) -> float:
    """Percent of the pixels of ``frame`` off ``exact`` by more than THRESHOLD."""
    difference = np.abs(frame.astype(np.int16) - exact.astype(np.int16)).max(axis=2)
    return 100.0 * float((difference > THRESHOLD).mean())


def measure(name: str, algorithm: str, panel: str | None, folder: Path, frames: int) -> dict:
    from mlviz.record import load_run
    from mlviz.writers import open_writer

    prepared = load_run(train(algorithm, folder, frames))
    if panel is not None:
        prepared = prepared.styled(panel=panel)
    drawn = list(prepared.renderer().frames())
    result: dict = {"case": name, "frames": len(drawn),
                    "size": f"{drawn[0].shape[1]}x{drawn[0].shape[0]}"}
    paths = {}
    for suffix in (".gif", ".webp", ".apng"):
        path = folder / f"{name.replace(' ', '_').replace(':', '-')}{suffix}"
        start = time.perf_counter()
        with open_writer(path, fps=prepared.fps, hold=2.0) as writer:
            wanted = getattr(writer, "frames_wanted_first", None)  # mlviz 0.2: GIF, WebP
            first = wanted(len(drawn)) if wanted else []
            if first:
                writer.prime([drawn[i] for i in first])
            for frame in drawn:
                writer.write(frame)
        result[f"{suffix[1:]}_seconds"] = round(time.perf_counter() - start, 3)
        result[f"{suffix[1:]}_bytes_per_frame"] = round(path.stat().st_size / len(drawn))
        paths[suffix] = path
    exact = decode(paths[".apng"])
    if not all(np.array_equal(a, b) for a, b in zip(exact, drawn)):
        raise AssertionError(f"{name}: the APNG is not exact")
    for suffix in (".gif", ".webp"):
        shares = [off_percent(frame, truth) for frame, truth in zip(decode(paths[suffix]), exact)]
        result[f"{suffix[1:]}_worst_percent"] = round(max(shares), 5)
        result[f"{suffix[1:]}_frames_over"] = sum(s > TARGET_PERCENT for s in shares)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="case names (algorithm names) to run")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("/tmp/mlviz-palette-fidelity"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MPLBACKEND", "Agg")
    print(f"load average {os.getloadavg()[0]:.2f}; threshold {THRESHOLD}/255, target "
          f"<= {TARGET_PERCENT} % of a frame's pixels")
    print(f"{'case':50} {'GIF worst %':>11} {'over':>4} {'WebP worst %':>12} {'over':>4} "
          f"{'GIF B/frame':>11} {'WebP B/frame':>12} {'APNG B/frame':>12}")
    results = []
    for name, algorithm, panel in CASES:
        if args.only and name not in args.only and algorithm not in args.only:
            continue
        r = measure(name, algorithm, panel, args.out, args.frames)
        results.append(r)
        print(f"{name:50} {r['gif_worst_percent']:11.4f} {r['gif_frames_over']:4d} "
              f"{r['webp_worst_percent']:12.4f} {r['webp_frames_over']:4d} "
              f"{r['gif_bytes_per_frame']:11d} {r['webp_bytes_per_frame']:12d} "
              f"{r['apng_bytes_per_frame']:12d}", flush=True)
    failed = [r["case"] for r in results
              if max(r["gif_worst_percent"], r["webp_worst_percent"]) > TARGET_PERCENT]
    print("all within the target" if not failed else f"over the target: {', '.join(failed)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
