"""The 256-colour palette of the GIF and WebP writers, and mapping frames onto it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import numpy as np

#: Palette index kept free for "unchanged since the previous frame".
TRANSPARENT = 255



class SharedPalette:
    """One 256-colour palette for a whole run, from :attr:`palette_samples` frames spread
    evenly through it. A renderer that can draw frames out of order hands them over first
    (:meth:`frames_wanted_first`, then :meth:`prime`); otherwise frames are spooled (in
    memory up to ``spool_bytes``, on disk beyond) until the palette can be built."""

    palette_samples = 8
    spool_bytes = 32 * 2**20
    frames_written: int

    def frames_wanted_first(self, count: int) -> list[int]:
        """Positions, among the ``count`` frames to be written, of the frames that
        :meth:`prime` takes before the first ``write`` (the palette's samples)."""
        return palette_picks(count, self.palette_samples)

    def prime(self, frames: Sequence[np.ndarray]) -> None:
        """Build the palette from the frames at :meth:`frames_wanted_first`, in that order,
        so that every frame written from now on is encoded at once (call before ``write``)."""
        if self.frames_written or getattr(self, "_encoder", None) is not None:
            raise RuntimeError("prime() comes before the first frame is written")
        self._primed = palette_of([np.asarray(frame) for frame in frames])


def unchanged_as_transparent(before: np.ndarray, after: np.ndarray, box, palette):
    """The ``box`` of ``after`` as a palette image, pixels equal in ``before`` transparent."""
    left, top, right, bottom = box
    region = after[top:bottom, left:right].copy()
    region[before[top:bottom, left:right] == region] = TRANSPARENT
    return palette_image(region, palette)


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels that differ; one pixel if none do."""
    changed = before != after
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return (0, 0, 1, 1)
    cols = np.flatnonzero(changed[rows[0]: rows[-1] + 1].any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def to_palette(frame: np.ndarray, palette, white: int | None,
                white_goes_to: int | None = None) -> np.ndarray:
    """Palette indices of an RGB frame (no dithering); pure white stays exact.

    Pillow matches colours through a coarse cache that can send white to a near-white
    entry, and the background of every frame must stay white: the pixels sent to the
    entry white goes to (``white_goes_to``, see :func:`quantized_white`) are checked, and
    the white ones set to ``white``. Index :data:`TRANSPARENT` repeats entry 0's colour and
    is moved back to 0, so it stays free.
    """
    from PIL import Image

    indices = np.array(Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE))
    indices[indices == TRANSPARENT] = 0
    if white is None:
        return indices
    if white_goes_to is None:
        white_goes_to = quantized_white(palette)
    if white_goes_to != white:
        pure = (frame[..., 0] & frame[..., 1] & frame[..., 2]) == 255
        # Every pure white pixel holds white_goes_to: adding the difference (modulo 256)
        # to those alone is several times faster than a masked assignment.
        indices += pure.view(np.uint8) * np.uint8((white - white_goes_to) % 256)
    return indices


def quantized_white(palette) -> int:
    """The index :func:`to_palette`'s quantizing gives pure white (before the fix-up)."""
    from PIL import Image

    pixel = Image.new("RGB", (1, 1), (255, 255, 255))
    index = pixel.quantize(palette=palette, dither=Image.Dither.NONE).getpixel((0, 0))
    return 0 if index == TRANSPARENT else int(index)


def palette_image(indices: np.ndarray, palette):
    from PIL import Image

    image = Image.frombytes("P", (indices.shape[1], indices.shape[0]), indices.tobytes())
    image.putpalette(palette.getpalette())
    return image


def palette_index(palette, color: tuple[int, int, int]) -> int | None:
    entries = np.array(palette.getpalette()[:768]).reshape(-1, 3)
    hits = np.flatnonzero((entries == color).all(axis=1))
    return int(hits[0]) if hits.size else None


class FrameSpool:
    """Equal-sized frames held in memory up to ``limit`` bytes, then in a temporary file."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._memory: list[np.ndarray] = []
        self._disk = None
        self._on_disk = 0
        self._shape: tuple[int, ...] | None = None

    def append(self, frame: np.ndarray) -> None:
        self._shape = frame.shape
        if self._disk is None and (len(self._memory) + 1) * frame.nbytes <= self.limit:
            self._memory.append(frame)
            return
        if self._disk is None:
            self._disk = tempfile.TemporaryFile()
        self._disk.write(np.ascontiguousarray(frame).tobytes())
        self._on_disk += 1

    def __len__(self) -> int:
        return len(self._memory) + self._on_disk

    def __getitem__(self, index: int) -> np.ndarray:
        if index < len(self._memory):
            return self._memory[index]
        self._disk.flush()
        size = int(np.prod(self._shape))
        data = os.pread(self._disk.fileno(), size, (index - len(self._memory)) * size)
        return np.frombuffer(data, dtype=np.uint8).reshape(self._shape)

    def close(self) -> None:
        self._memory.clear()
        if self._disk is not None:
            self._disk.close()
            self._disk = None


def palette_picks(count: int, samples: int) -> list[int]:
    """Positions of the ``samples`` frames, spread evenly over ``count``, a palette uses."""
    if count < 1:
        return []
    return [int(i) for i in np.unique(np.linspace(0, count - 1, min(samples, count)).astype(int))]


def shared_palette(frames: FrameSpool, samples: int, exact: int = 16):
    """A 256-colour palette image for frames sampled evenly through the run."""
    return palette_of([frames[i] for i in palette_picks(len(frames), samples)], exact)


def palette_of(picks: Sequence[np.ndarray], exact: int = 16):
    """A 256-colour palette image for the frames ``picks``.

    Median cut finds 255 - ``exact`` colours; the ``exact`` most frequent colours (white
    background, black text, flat fills) are added unchanged, so they stay exact. The last
    entry (:data:`TRANSPARENT`) is left unused for the frame differences.
    """
    from PIL import Image

    # Every other row and column is plenty to find the colours; it quarters the work.
    mosaic = np.concatenate([frame[::2, ::2] for frame in picks], axis=0)
    image = Image.fromarray(mosaic)
    # Pillow counts the colours (a hash table, in C); sorted as np.unique would give them.
    colors = image.getcolors(mosaic.shape[0] * mosaic.shape[1])
    counts = np.array([count for count, _ in colors])
    rgb = np.array([color for _, color in colors], dtype=np.uint32).reshape(-1, 3)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    order = np.argsort(packed)
    values, counts = packed[order], counts[order]
    common = values[np.argsort(counts)[::-1][:exact]]
    common_rgb = np.stack([(common >> 16) & 255, (common >> 8) & 255, common & 255], axis=1)
    quantized = image.quantize(
        colors=TRANSPARENT - len(common), method=Image.Quantize.MEDIANCUT,
        dither=Image.Dither.NONE,
    )
    used = len(quantized.getcolors(256) or ()) or TRANSPARENT - len(common)
    palette = list(common_rgb.astype(np.uint8).ravel()) + quantized.getpalette()[: 3 * used]
    palette = palette[: 3 * TRANSPARENT]
    palette += palette[:3] * ((768 - len(palette)) // 3)  # padding repeats entry 0
    image = Image.new("P", (1, 1))
    image.putpalette(palette[:768])
    return image
