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
            self._start(primed, size)

    def _start(self, palette, size: tuple[int, int]) -> None:
        self._out = GifStream(open(self._tmp, "r+b"), palette, size)
        self._encoder = GifFrameEncoder(palette, self._ms(1 / self.fps))

    def frame_encoder(self) -> GifFrameEncoder | None:
        """What encodes this run's frames (once primed: its palette is known)."""
        primed = getattr(self, "_primed", None)
        return None if primed is None else GifFrameEncoder(primed, self._ms(1 / self.fps))

    def _write(self, frame: np.ndarray) -> None:
        if getattr(self, "_encoder", None) is not None:
            self._out.put(self._encoder.encode(frame))
        else:
            self._spool.append(frame)

    def _write_encoded(self, encoded: bytes) -> None:
        self._out.put(encoded)

    def _finish(self) -> None:
        if getattr(self, "_encoder", None) is None:
            spool = self._spool
            assert self.size is not None
            self._start(shared_palette(spool, self.palette_samples), self.size)
            for i in range(len(spool)):
                self._out.put(self._encoder.encode(spool[i]))
            spool.close()
        self._out.finish(self._ms(self.last_seconds))

    @staticmethod
    def _ms(seconds: float) -> int:
        """A frame's duration in milliseconds, in whole hundredths of a second."""
        return 10 * round(100 * seconds)

    def _cleanup(self) -> None:
        spool = getattr(self, "_spool", None)
        if spool is not None:
            spool.close()
        out = getattr(self, "_out", None)
        if out is not None:
            out.close()


class GifFrameEncoder:
    """Encodes frames, one after the other, into GIF frame blocks on a run's palette: each
    the rectangle that changed since the frame before, unchanged pixels transparent (a
    local colour table where the frame needed its own palette). Its only state is the
    frame before, so a worker process that encodes frame ``i - 1`` first (and drops the
    block) gives frame ``i`` the same bytes as one process encoding them all."""

    def __init__(self, palette, duration_ms: int) -> None:
        self.quantize = Quantizer(palette)
        self.duration = duration_ms
        self.previous: tuple[np.ndarray, Any] | None = None  # (indices, palette)

    def encode(self, frame: np.ndarray) -> bytes:
        from PIL import GifImagePlugin

        indices, palette = self.quantize(frame)
        extra: dict[str, Any] = {}
        if self.previous is None:
            part = palette_image(indices, palette)
            box = (0, 0, indices.shape[1], indices.shape[0])
        else:
            same = same_pixels(*self.previous, indices, palette)
            box = mask_box(~same)
            part = transparent_where(indices, same, box, palette)
            extra["transparency"] = TRANSPARENT
        if palette is not self.quantize.palette:
            extra["include_color_table"] = True  # a local palette for this frame
        self.previous = (indices, palette)
        block = b"".join(GifImagePlugin.getdata(
            part, offset=box[:2], duration=self.duration, disposal=1, **extra))
        if not block.startswith(b"!\xf9\x04"):  # pragma: no cover - a Pillow change
            raise RuntimeError("Pillow wrote a GIF frame without its control extension")
        return block


class GifStream:
    """The GIF file: its header (the run's palette as the global colour table), then frame
    blocks, each written when the next arrives so that the last gets its own duration."""

    def __init__(self, out, palette, size: tuple[int, int]) -> None:
        from PIL import GifImagePlugin

        self.out = out
        image = palette_image(np.zeros(size[::-1], dtype=np.uint8), palette)
        header, _ = GifImagePlugin.getheader(image, info={"loop": 0, "optimize": False})
        self.out.write(b"".join(header))
        self.pending: bytes | None = None

    def put(self, block: bytes) -> None:
        if self.pending is not None:
            self.out.write(self.pending)
        self.pending = block

    def finish(self, last_ms: int) -> None:
        """Write the last frame, lasting ``last_ms``, and the trailer; close the file."""
        assert self.pending is not None
        delay = (last_ms // 10).to_bytes(2, "little")  # in the control extension's bytes 4-5
        self.out.write(self.pending[:4] + delay + self.pending[6:])
        self.out.write(b";")  # GIF trailer
        self.out.close()

    def close(self) -> None:
        """Close the file on an abort: what is still buffered is discarded with it."""
        try:
            self.out.close()
        except OSError:  # flushing the buffer failed (a full disk): the file goes anyway
            pass
