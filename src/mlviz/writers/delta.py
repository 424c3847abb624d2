"""Frame differences for the WebP and APNG containers: each frame the changed rectangle,
unchanged pixels transparent, written one frame behind (so the last can hold)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Writer


class DeltaAnimation(Writer):
    """Base of the WebP and APNG writers: frame differences, written one frame behind.

    Each frame (``_add``) is encoded as the rectangle that changed since the previous
    frame, with the unchanged pixels inside it transparent (drawn over the previous
    frame), and is written to the file when the next frame arrives, so that the last one
    can be given the hold. Memory: the previous frame and one encoded frame, however long
    the run. By default frames are added as they are written (streaming); subclasses write
    the container (``_header``, ``_emit``, ``_trailer``) and encode one RGBA region with
    Pillow (``_encode``).
    """

    def _open(self, size: tuple[int, int]) -> None:
        self._start(size)

    def _write(self, frame: np.ndarray) -> None:
        self._add(frame)

    def _finish(self) -> None:
        self._end()

    def _start(self, size: tuple[int, int]) -> None:
        self._out = open(self._tmp, "r+b", buffering=0)  # a few large writes a frame
        self._previous: np.ndarray | None = None
        self._pending: tuple[tuple[int, int, int, int], bytes, bool] | None = None
        self._emitted = 0
        self._header(size)

    def _add(self, frame: np.ndarray) -> None:
        box, image, blend = self._difference(frame)
        self._previous = frame
        self._put((box, self._encode(image), blend))

    def _put(self, encoded: tuple[tuple[int, int, int, int], bytes, bool]) -> None:
        """Take one encoded frame (box, data, blend?); write the one before it."""
        if self._pending is not None:
            self._emit(*self._pending, index=self._emitted, seconds=1.0 / self.fps)
            self._emitted += 1
        self._pending = encoded

    def _difference(self, frame: np.ndarray):
        """(box, RGBA image of the box, blend?) for an RGB ``frame`` after
        ``self._previous``: the whole frame, opaque, for the first one."""
        from PIL import Image

        if self._previous is None:
            height, width = frame.shape[:2]
            return (0, 0, width, height), Image.fromarray(with_alpha(frame), "RGBA"), False
        box = even_box(changed_mask(self._previous, frame), self.align)
        left, top, right, bottom = box
        rgba = with_alpha(frame[top:bottom, left:right], self._previous[top:bottom, left:right])
        return box, Image.fromarray(rgba, "RGBA"), True

    def _end(self) -> None:
        assert self._pending is not None
        self._emit(*self._pending, index=self._emitted, seconds=self.last_seconds)
        self._emitted += 1
        self._pending = None
        self._trailer()
        self._out.close()

    def _cleanup(self) -> None:
        out = getattr(self, "_out", None)
        if out is not None:
            out.close()

    #: Frame offsets must be multiples of this (WebP stores them halved).
    align: ClassVar[int] = 1

    # Subclass hooks.
    def _header(self, size: tuple[int, int]) -> None:
        raise NotImplementedError

    def _encode(self, image) -> bytes:
        """The compressed data of one RGBA ``image`` (a frame's changed rectangle)."""
        raise NotImplementedError

    def _emit(self, box: tuple[int, int, int, int], data: bytes, blend: bool, *,
              index: int, seconds: float) -> None:
        raise NotImplementedError

    def _trailer(self) -> None:
        raise NotImplementedError


def changed_mask(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(height, width) booleans: the pixels of two RGB frames that differ."""
    differ = before != after
    # Channel by channel: several times faster than .any(axis=2) over three values.
    return differ[..., 0] | differ[..., 1] | differ[..., 2]


def even_box(mask: np.ndarray, align: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) around the true pixels of ``mask``, its left and top
    rounded down to multiples of ``align``; a single pixel when none is true."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return (0, 0, 1, 1)
    cols = np.flatnonzero(mask[rows[0]: rows[-1] + 1].any(axis=0))
    left, top = int(cols[0]) // align * align, int(rows[0]) // align * align
    return (left, top, int(cols[-1]) + 1, int(rows[-1]) + 1)


def with_alpha(region: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """``region`` as RGBA: opaque, except pixels equal to ``before``'s, which are fully
    transparent (black: their colour does not matter, so they compress to almost nothing)."""
    height, width = region.shape[:2]
    rgba = np.empty((height, width, 4), dtype=np.uint8)
    if before is None:
        rgba[..., :3] = region
        rgba[..., 3] = 255
        return rgba
    changed = changed_mask(before, region)
    rgba[..., :3] = region * changed[..., None]
    rgba[..., 3] = changed.view(np.uint8) * np.uint8(255)
    return rgba
