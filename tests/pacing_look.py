"""How a scene paces its frames, shared by the plugins' tests (not a test module).

Issue 18: "no scene idles on a flat loss for more than about a fifth of its length". Two
measures of idling, each a share of the drawn frames:

- :func:`flat_share`: frames whose loss moved by less than ``FLAT`` (1 %) of the run's
  whole loss range since the frame before (a training scene creeping to its minimum);
- :func:`still_share`: frames drawn pixel for pixel like the frame before (a held pose).

Run it to print both for some scenes with their default settings::

    python tests/pacing_look.py logistic-regression pca kmeans
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

#: A frame idles when its loss moved by less than this share of the loss's whole range.
FLAT = 0.01
#: Pixels per inch that :func:`still_share` draws at (enough to see any moving point).
STILL_DPI = 40


def flat_frames(epochs: Sequence[int], run_epochs: Sequence[int], losses: Sequence[float],
                flat: float = FLAT) -> np.ndarray:
    """Which drawn frames (at ``epochs``) show a loss that moved by less than ``flat`` of
    the range of ``losses`` (every epoch's, at ``run_epochs``) since the frame before;
    the first frame never idles."""
    run_epochs, losses = np.asarray(run_epochs), np.asarray(losses, dtype=float)
    at = losses[np.searchsorted(run_epochs, np.asarray(epochs))]
    span = float(np.nanmax(losses) - np.nanmin(losses))
    moved = np.abs(np.diff(at))
    return np.r_[False, moved < flat * span] if span > 0 else np.r_[False, moved == moved]


def flat_share(run, flat: float = FLAT, by: str | None = None) -> float:
    """Share of ``run``'s drawn frames that idle on a flat loss (:func:`flat_frames`).
    ``by`` names a trace (k-means: ``"k"``) whose every value is a run of its own: a frame
    is then compared with the one before it of the same value, against that value's loss
    range (the first frame of each value never idles)."""
    drawn = np.array([s.epoch for s in run.snapshots])
    if by is None:
        return float(flat_frames(drawn, run.epochs, run.losses, flat).mean())
    groups = np.asarray(run.trace(by))
    at = groups[np.searchsorted(run.epochs, drawn)]
    idle = 0
    for value in np.unique(at):
        mine = groups == value
        idle += int(flat_frames(drawn[at == value], run.epochs[mine], run.losses[mine],
                                flat).sum())
    return idle / len(drawn)


def still_frames(prepared, dpi: float = STILL_DPI) -> np.ndarray:
    """Which frames of ``prepared`` are drawn exactly like the frame before."""
    previous, still = None, []
    for frame in prepared.renderer(dpi=dpi).frames():
        still.append(previous is not None and np.array_equal(frame, previous))
        previous = frame
    return np.array(still, dtype=bool)


def still_share(prepared, dpi: float = STILL_DPI) -> float:
    """Share of ``prepared``'s frames drawn exactly like the frame before."""
    return float(still_frames(prepared, dpi).mean())


def main(names: Sequence[str]) -> None:
    import warnings

    import mlviz

    warnings.simplefilter("ignore")
    for name in names:
        prepared = mlviz.prepare(name)
        by = PER_RUN.get(name)
        where = f" (within each {by})" if by else ""
        print(f"{name}: {prepared.n_frames} frames, "
              f"{100 * flat_share(prepared.run, by=by):.0f} % on a flat loss{where}, "
              f"{100 * still_share(prepared):.0f} % held (drawn like the frame before)")


#: Scenes that fit one run per value of a trace: k-means restarts for every K (its inertia
#: jumps between Ks, so flatness is measured within each K). pca does not train: its loss
#: is the reconstruction error of the k shown, flat while a pose is held by design; its
#: measure is the held share.
PER_RUN = {"kmeans": "k"}


if __name__ == "__main__":
    main(sys.argv[1:] or ["logistic-regression", "pca", "kmeans"])
