"""Animated PNG: exact colours, each frame's changed rectangle in fcTL/fdAT chunks."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from fractions import Fraction

from .delta import DeltaAnimation


class ApngWriter(DeltaAnimation):
    """Animated PNG (APNG), lossless, through Pillow's PNG encoder: exact colours, plays in
    every current browser (other viewers show the first frame).

    Each frame is the changed rectangle, encoded by Pillow as an RGBA PNG (unchanged pixels
    transparent, blended over the previous frame); this writer copies its compressed data
    into the animation's ``fcTL``/``fdAT`` chunks itself, streaming (Pillow's own APNG
    save keeps every frame in memory), and writes the frame count at the end.
    """

    suffix = ".apng"
    description = "animated PNG: exact colours (lossless), the largest file"
    # Delays are fractions of 16-bit numbers; browsers slow frames of 10 ms or less.
    min_fps = 0.001
    max_fps = 90.0
    fps_limit = ("browsers slow APNG frames of 10 ms or less to 100 ms, so use 0.001 to 90 "
                 "fps (or .mp4 for faster)")
    #: zlib level, 1 (fast) to 9 (small).
    compress_level = 6

    def _header(self, size: tuple[int, int]) -> None:
        width, height = size
        ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
        self._out.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr))
        self._actl_at = self._out.tell()
        self._out.write(png_chunk(b"acTL", bytes(8)))  # frame count filled in at the end
        self._sequence = 0

    def _encode(self, image) -> bytes:
        from io import BytesIO

        buffer = BytesIO()
        image.save(buffer, format="PNG", compress_level=self.compress_level)
        return b"".join(payload for kind, payload in png_chunks(buffer.getvalue())
                        if kind == b"IDAT")

    def _emit(self, box, data, blend, *, index, seconds):
        left, top, right, bottom = box
        delay = Fraction(seconds).limit_denominator(2**16 - 1)
        numerator = min(delay.numerator, 2**16 - 1)
        fctl = (self._sequence.to_bytes(4, "big") + (right - left).to_bytes(4, "big") +
                (bottom - top).to_bytes(4, "big") + left.to_bytes(4, "big") +
                top.to_bytes(4, "big") + numerator.to_bytes(2, "big") +
                delay.denominator.to_bytes(2, "big") +
                bytes([0, 1 if blend else 0]))  # dispose: none; blend: over / source
        self._out.write(png_chunk(b"fcTL", fctl))
        self._sequence += 1
        if index == 0:  # the default image is the first frame
            self._out.write(png_chunk(b"IDAT", data))
        else:
            self._out.write(png_chunk(b"fdAT", self._sequence.to_bytes(4, "big") + data))
            self._sequence += 1

    def _trailer(self) -> None:
        self._out.write(png_chunk(b"IEND", b""))
        end = self._out.tell()
        self._out.seek(self._actl_at)
        self._out.write(png_chunk(b"acTL", self.frames_written.to_bytes(4, "big") +
                                   (0).to_bytes(4, "big")))  # loop forever
        self._out.seek(end)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (len(data).to_bytes(4, "big") + kind + data +
            zlib.crc32(kind + data).to_bytes(4, "big"))


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (type, data) chunks of a PNG file, after its 8-byte signature."""
    at = 8
    while at + 8 <= len(data):
        size = int.from_bytes(data[at: at + 4], "big")
        yield data[at + 4: at + 8], data[at + 8: at + 8 + size]
        at += 12 + size
