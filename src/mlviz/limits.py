"""The bounds mlviz checks before it trains or draws, each refused with a one-line error.

Frames are at most :data:`MAX_SIDE` pixels a side and :data:`MAX_PIXELS` pixels in all
(matplotlib itself stops at 65536 a side, long after memory runs out); dpi is between
:data:`MIN_DPI` and :data:`MAX_DPI`; seeds are 0 … :data:`MAX_SEED`, which numpy and torch
both accept; data values lie within :data:`MAX_ABS_VALUE` of zero and, unless zero, are
at least :data:`MIN_ABS_VALUE` in size, so that products of up to four of them (squares,
gradients on raw data) neither overflow nor vanish.

Training holds bounded memory however long it runs (a trainer that never ends included;
:mod:`mlviz.thinning`): at most :data:`DEFAULT_FRAMES` frames are drawn when no frame
budget is given; the snapshots kept to be drawn are at most four times the frame budget and
about :data:`MAX_SNAPSHOT_BYTES`; the traces (every epoch's loss and recorded values) are
kept at every epoch up to :data:`MAX_TRACE_ROWS` rows and about :data:`MAX_TRACE_BYTES`,
then evenly thinned (every 2nd epoch, every 4th, ...). A trace's range
(:meth:`mlviz.Run.trace_range`) still covers every epoch.
The frame rates of each format are on its writer (:mod:`mlviz.writers`).
"""

from __future__ import annotations

import math

import numpy as np

from .errors import DataError, LimitError

MIN_DPI = 10.0
MAX_DPI = 800.0  # the default 9.6 × 5.4 inch scene: 7680 × 4320 pixels
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000  # about 120 MB of RGB per frame
MAX_SEED = 2**32 - 1
MAX_ABS_VALUE = 1e50
MIN_ABS_VALUE = 1e-50
#: Data files: at most this many rows and bytes are read.
MAX_CSV_ROWS = 1_000_000
MAX_CSV_BYTES = 256 * 2**20
#: Frames drawn at most without a frame budget (``--frames``): every built-in
#: algorithm's default run draws far fewer (at most 137), so none is thinned by it.
DEFAULT_FRAMES = 1000
#: Bytes of snapshots held while training, about: past it, every other one is dropped.
MAX_SNAPSHOT_BYTES = 256 * 2**20
#: Rows (epochs) and bytes of traces held while training, about: past either, every
#: other row is dropped and from then on fewer epochs are recorded.
MAX_TRACE_ROWS = 2**20
MAX_TRACE_BYTES = 128 * 2**20
#: Data points drawn at most (``Algorithm.max_points``): a larger file is evenly sampled.
MAX_POINTS = 5_000


def check_frames(frames: int | None) -> int | None:
    """The frame budget (``--frames N``, ``frames=N``): ``None`` (every scheduled frame, up
    to :data:`DEFAULT_FRAMES`) or at least 1; the one check every entry point makes
    (render, sweeps, gallery)."""
    if frames is not None and frames < 1:
        raise LimitError(f"--frames must be at least 1, got {frames}")
    return frames


def check_dpi(dpi: float) -> float:
    """``dpi`` as a float; :class:`LimitError` unless it is between the two bounds."""
    try:
        value = float(dpi)
    except (TypeError, ValueError):
        raise LimitError(f"dpi must be a number, got {dpi!r}") from None
    if not MIN_DPI <= value <= MAX_DPI:  # NaN fails too
        raise LimitError(
            f"dpi {dpi:g} is out of range: use {MIN_DPI:g} to {MAX_DPI:g} "
            f"(100 gives 960x540 frames)"
        )
    return value


def check_frame_size(figsize: tuple[float, float], dpi: float) -> tuple[int, int]:
    """The (width, height) in pixels of a ``figsize`` scene at ``dpi``, if within bounds."""
    dpi = check_dpi(dpi)
    width, height = (int(round(side * dpi)) for side in figsize)
    if max(width, height) <= MAX_SIDE and width * height <= MAX_PIXELS and min(width, height) > 0:
        return width, height
    w, h = figsize
    best = min(MAX_SIDE / max(w, h), math.sqrt(MAX_PIXELS / (w * h))) if w > 0 < h else MIN_DPI
    raise LimitError(
        f"dpi {dpi:g} gives {width}x{height} frames for this {w:g}x{h:g} inch scene; "
        f"mlviz draws at most {MAX_SIDE} pixels a side and {MAX_PIXELS / 1e6:g} Mpx a frame: "
        f"use dpi {math.floor(best)} or less"
    )


def check_magnitude(values: np.ndarray, where: str, lines: np.ndarray | None = None) -> None:
    """:class:`DataError` if a value is too large or (non-zero and) too small to compute with.

    ``values`` is a finite float array; ``where`` starts the message (a file name), followed
    by ``line N`` when ``lines`` gives the file line of each row.
    """
    values = np.asarray(values, dtype=float)
    size = np.abs(values)
    big = size > MAX_ABS_VALUE
    tiny = (size > 0) & (size < MIN_ABS_VALUE)
    for bad, what, bound in ((big, "too large", f"at most {MAX_ABS_VALUE:g}"),
                             (tiny, "too small", f"0 or at least {MIN_ABS_VALUE:g}")):
        if bad.any():
            index = np.unravel_index(int(np.argmax(bad)), bad.shape)
            place = where if lines is None else f"{where}, line {lines[index[0]]}"
            raise DataError(
                f"{place}: {values[index]:g} is {what} to compute with (|values| must be "
                f"{bound}); rescale the data"
            )
