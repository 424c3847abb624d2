"""Animated GIF: one palette for the run, each frame the rectangle that changed."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Writer
from .palette import (
    TRANSPARENT,
    FrameSpool,
    Quantizer,
    SharedPalette,
    mask_box,
    palette_image,
    same_pixels,
    shared_palette,
    transparent_where,
)


class GifWriter(SharedPalette, Writer):
    """Animated GIF through Pillow: one palette for the whole run, looping forever.

    One 256-colour palette is built from :attr:`palette_samples` frames spread evenly
    through the run; each frame is mapped onto it and only the rectangle that changed since
    the previous frame is encoded, with the pixels that did not change inside it set to a
    transparent index (long runs that compress well), and streamed to the file.

    A renderer that can draw frames out of order hands the palette frames over first
    (:meth:`frames_wanted_first`, then :meth:`prime`): every frame is then encoded as it
    arrives, overlapping the drawing, and nothing is spooled. Otherwise frames are spooled
    as raw RGB (in memory up to ``spool_bytes``, on disk beyond, so memory stays bounded)
    and encoded on close. Both give the same bytes.
    """

    suffix = ".gif"
    description = "animated GIF: 256 colours, plays everywhere"
    # A GIF frame lasts a whole number of hundredths of a second, stored in 16 bits.
    min_fps = 0.002
    max_fps = 50.0
    fps_limit = ("GIF frames last whole hundredths of a second, so use 0.002 to 50 fps "
                 "(or .mp4 for faster)")

    def _open(self, size: tuple[int, int]) -> None:
        primed = getattr(self, "_primed", None)
        if primed is None:
            self._spool = FrameSpool(self.spool_bytes)
        else:
            self._encoder = GifEncoder(open(self._tmp, "r+b"), primed, self._ms(1 / self.fps))

    def _write(self, frame: np.ndarray) -> None:
        if getattr(self, "_encoder", None) is not None:
            self._encoder.add(frame)
        else:
            self._spool.append(frame)

    def _finish(self) -> None:
        encoder = getattr(self, "_encoder", None)
        if encoder is None:
            spool = self._spool
            palette = shared_palette(spool, self.palette_samples)
            encoder = GifEncoder(open(self._tmp, "r+b"), palette, self._ms(1 / self.fps))
            self._encoder = encoder
            for i in range(len(spool)):
                encoder.add(spool[i])
            spool.close()
        encoder.finish(self._ms(self.last_seconds))

    @staticmethod
    def _ms(seconds: float) -> int:
        """A frame's duration in milliseconds, in whole hundredths of a second."""
        return 10 * round(100 * seconds)

    def _cleanup(self) -> None:
        spool = getattr(self, "_spool", None)
        if spool is not None:
            spool.close()
        encoder = getattr(self, "_encoder", None)
        if encoder is not None:
            encoder.close()



class GifEncoder:
    """Writes a GIF frame by frame onto a fixed palette, each as the difference from the
    one before. A frame goes to ``out`` when the next arrives (or on :meth:`finish`), so
    that the last one can be given its own duration."""

    def __init__(self, out, palette, duration_ms: int) -> None:
        self.out = out
        self.quantize = Quantizer(palette)
        self.duration = duration_ms
        self.previous: tuple[np.ndarray, Any] | None = None  # (indices, palette)
        self.header_palette: Any = None  # the global colour table's palette
        self.pending: tuple[Any, tuple[int, int, int, int], dict] | None = None

    def add(self, frame: np.ndarray) -> None:
        from PIL import GifImagePlugin

        indices, palette = self.quantize(frame)
        if self.previous is None:
            image = palette_image(indices, palette)
            header, _ = GifImagePlugin.getheader(
                image, info={"loop": 0, "optimize": False, "duration": self.duration})
            self.out.write(b"".join(header))
            self.header_palette = palette
            pending: tuple[Any, tuple[int, int, int, int], dict] = (
                image, (0, 0, indices.shape[1], indices.shape[0]), {})
        else:
            self._flush(self.duration)
            same = same_pixels(*self.previous, indices, palette)
            box = mask_box(~same)
            extra: dict[str, Any] = {"transparency": TRANSPARENT}
            if palette is not self.header_palette:
                extra["include_color_table"] = True  # a local palette for this frame
            pending = (transparent_where(indices, same, box, palette), box, extra)
        self.pending = pending
        self.previous = (indices, palette)

    def _flush(self, duration: int) -> None:
        from PIL import GifImagePlugin

        assert self.pending is not None
        part, box, extra = self.pending
        self.out.write(b"".join(GifImagePlugin.getdata(
            part, offset=box[:2], duration=duration, disposal=1, **extra)))
        self.pending = None

    def finish(self, last_ms: int) -> None:
        """Write the last frame, lasting ``last_ms``, and the trailer; close the file."""
        self._flush(last_ms)
        self.out.write(b";")  # GIF trailer
        self.out.close()

    def close(self) -> None:
        """Close the file on an abort: what is still buffered is discarded with it."""
        try:
            self.out.close()
        except OSError:  # flushing the buffer failed (a full disk): the file goes anyway
            pass


