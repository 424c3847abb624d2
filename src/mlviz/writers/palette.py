"""The 256-colour palette of the GIF and WebP writers, and mapping frames onto it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import IO

import numpy as np

#: Palette index kept free for "unchanged since the previous frame".
TRANSPARENT = 255
#: A pixel is off when one of its channels is more than this (of 255) from the frame's.
OFF_BY = 48
#: A frame fits a palette when at most this share of its pixels is off (0.001 %: 9 pixels
#: of a 1280x720 frame).
FIT_SHARE = 1e-5
#: Colours kept exact in a palette: the most frequent ones (white background, text, flat
#: fills, markers), before median cut shares the rest of the entries.
EXACT_COLOURS = 24
#: Entries a palette keeps for colours median cut misses (see :func:`palette_of`).
RESCUE_COLOURS = 32



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
        frames = [np.asarray(frame) for frame in frames]
        self._primed = palette_of(frames)
        self._frame_size = (frames[0].shape[1], frames[0].shape[0])


def unchanged_as_transparent(before: np.ndarray, after: np.ndarray, box, palette):
    """The ``box`` of ``after`` as a palette image, pixels equal in ``before`` transparent."""
    return transparent_where(after, before == after, box, palette)


def transparent_where(indices: np.ndarray, same: np.ndarray, box, palette):
    """The ``box`` of ``indices`` as a palette image, the pixels where ``same`` is true
    set to :data:`TRANSPARENT` (unchanged since the previous frame)."""
    left, top, right, bottom = box
    region = indices[top:bottom, left:right].copy()
    region[same[top:bottom, left:right]] = TRANSPARENT
    return palette_image(region, palette)


def same_pixels(before: np.ndarray, before_palette, after: np.ndarray, after_palette
                ) -> np.ndarray:
    """(height, width) booleans: the pixels that two quantized frames show alike (their
    indices, when they share a palette; else their colours)."""
    if before_palette is after_palette:
        return before == after
    shown_before = palette_rgb(before_palette)[before]
    shown_after = palette_rgb(after_palette)[after]
    same = shown_before == shown_after
    return same[..., 0] & same[..., 1] & same[..., 2]


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) around the true pixels of ``mask``; one pixel if none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return (0, 0, 1, 1)
    cols = np.flatnonzero(mask[rows[0]: rows[-1] + 1].any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels that differ (two index frames, or two RGB
    frames); one pixel if none do."""
    changed = before != after
    if changed.ndim == 3:  # channel by channel: faster than .any(axis=2) over three
        changed = changed[..., 0] | changed[..., 1] | changed[..., 2]
    return mask_box(changed)


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
    return 0 if index == TRANSPARENT else int(index)  # type: ignore[arg-type]


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
        self._disk: IO[bytes] | None = None
        self._on_disk = 0
        self._shape: tuple[int, ...] = (0,)

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
        assert self._disk is not None
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


def shared_palette(frames: FrameSpool, samples: int, exact: int = EXACT_COLOURS):
    """A 256-colour palette image for frames sampled evenly through the run."""
    return palette_of([frames[i] for i in palette_picks(len(frames), samples)], exact)


def palette_of(picks: Sequence[np.ndarray], exact: int = EXACT_COLOURS, step: int = 2):
    """A 256-colour palette image for the frames ``picks``.

    The ``exact`` most frequent colours (white background, black text, flat fills) are
    kept unchanged; median cut shares most other entries. Median cut follows pixel counts,
    so a colour few pixels have (a marker, the peak of a colormap) can end up far from
    every entry: when some pixel would be off by more than :data:`OFF_BY`, median cut
    gets :data:`RESCUE_COLOURS` entries fewer and those go to the colours it missed, the
    most frequent first (:func:`cover`). The last entry (:data:`TRANSPARENT`) is left
    unused for the frame differences. Every ``step``-th row and column is read (2 quarters
    the work and is plenty over several frames).
    """
    from PIL import Image

    mosaic = np.concatenate([frame[::step, ::step] for frame in picks], axis=0)
    image = Image.fromarray(mosaic)
    # Pillow counts the colours (a hash table, in C); sorted as np.unique would give them.
    colors = image.getcolors(mosaic.shape[0] * mosaic.shape[1]) or []
    counts = np.array([count for count, _ in colors])
    packed = pack(np.array([color for _, color in colors], dtype=np.uint8).reshape(-1, 3))
    order = np.argsort(packed)
    values, counts = packed[order], counts[order]
    common = unpack(values[np.argsort(counts)[::-1][:exact]])

    def median_cut(count: int) -> np.ndarray:
        quantized = image.quantize(colors=count, method=Image.Quantize.MEDIANCUT,
                                   dither=Image.Dither.NONE)
        used = len(quantized.getcolors(256) or ()) or count
        found = np.array((quantized.getpalette() or [])[: 3 * used], dtype=np.uint8).reshape(-1, 3)
        return np.concatenate([common, found])[:TRANSPARENT]

    entries = median_cut(TRANSPARENT - len(common))
    if len(missed_colours(mosaic, entries)[0]):
        entries = median_cut(TRANSPARENT - len(common) - RESCUE_COLOURS)
        missed, weights = missed_colours(mosaic, entries)
        entries = np.concatenate([entries, cover(missed, weights, RESCUE_COLOURS)])
    return palette_from(entries)


def pack(colours: np.ndarray) -> np.ndarray:
    """(n, 3) colours as one integer each, ``r << 16 | g << 8 | b`` (see :func:`unpack`)."""
    wide = colours.astype(np.uint32)
    return (wide[:, 0] << 16) | (wide[:, 1] << 8) | wide[:, 2]


def unpack(packed: np.ndarray) -> np.ndarray:
    """Colours packed as ``r << 16 | g << 8 | b``, as an (n, 3) uint8 array."""
    return np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255],
                    axis=1).astype(np.uint8)


def palette_from(entries: np.ndarray):
    """A palette image holding ``entries`` ((n, 3) uint8, n <= 255); the entries left over
    repeat entry 0, so :data:`TRANSPARENT` matches no colour of its own."""
    from PIL import Image

    colours = [int(c) for c in entries[:TRANSPARENT].astype(np.uint8).ravel()]
    colours += colours[:3] * ((768 - len(colours)) // 3)
    image = Image.new("P", (1, 1))
    image.putpalette(colours[:768])
    return image


def missed_colours(pixels: np.ndarray, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct colours of ``pixels`` that the palette ``entries`` would show off by
    more than :data:`OFF_BY`, and how many pixels have each."""
    palette = palette_from(entries)
    colours = palette_rgb(palette)
    indices = to_palette(pixels, palette, palette_index(palette, (255, 255, 255)))
    candidates = pixels[off_mask(pixels, indices, colours)]
    if len(candidates) <= REMAP_LIMIT:  # Pillow's cache is not the nearest: those it misses
        candidates = candidates[nearest_entries(candidates, colours)[1] > OFF_BY]
    values, weights = np.unique(pack(candidates), return_counts=True)
    return unpack(values), weights


def cover(colours: np.ndarray, weights: np.ndarray, count: int) -> np.ndarray:
    """At most ``count`` of ``colours`` such that each of them is within ``OFF_BY / 2``
    (every channel) of one chosen: greedily, the colour with the most pixels not yet
    covered first."""
    chosen: list[np.ndarray] = []
    left = np.ones(len(colours), dtype=bool)
    signed = colours.astype(np.int16)
    while left.any() and len(chosen) < count:
        best = int(np.argmax(np.where(left, weights, -1)))
        chosen.append(colours[best])
        left &= np.abs(signed - signed[best]).max(axis=1) > OFF_BY // 2
    return np.array(chosen, dtype=np.uint8).reshape(-1, 3)


def palette_rgb(palette) -> np.ndarray:
    """The 256 colours of a palette image, as a (256, 3) uint8 array."""
    return np.array(palette.getpalette()[:768], dtype=np.uint8).reshape(-1, 3)


def off_mask(frame: np.ndarray, indices: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(height, width) booleans: the pixels of ``frame`` that the palette ``colours`` at
    ``indices`` shows more than :data:`OFF_BY` away in some channel."""
    off = np.zeros(indices.shape, dtype=bool)
    for channel in range(3):  # a channel at a time, in uint8: |a - b| as max - min
        a = np.ascontiguousarray(colours[:, channel]).take(indices)  # faster than [indices]
        b = frame[..., channel]
        off |= (np.maximum(a, b) - np.minimum(a, b)) > OFF_BY
    return off


#: Most off pixels :func:`remap_off` moves to their nearest entry (Pillow's misses are a
#: few dozen pixels a frame; many more mean colours the palette lacks, and a search over
#: them would cost more than the frame's local palette).
REMAP_LIMIT = 4096
#: Distinct colours compared with every entry at once by :func:`nearest_entries`.
NEAREST_CHUNK = 2048


def nearest_entries(pixels: np.ndarray, colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For (n, 3) uint8 ``pixels``: the index of the palette entry (of ``colours``, not
    :data:`TRANSPARENT`) nearest each, by its largest channel difference (the measure of
    :data:`OFF_BY`), and that difference. Exact, unlike Pillow's cached matching."""
    distinct, inverse = np.unique(pack(pixels), return_inverse=True)
    wanted = unpack(distinct).astype(np.int16)
    entries = colours[:TRANSPARENT].astype(np.int16)
    best = np.empty(len(distinct), dtype=np.intp)
    gap = np.empty(len(distinct), dtype=np.int16)
    for start in range(0, len(distinct), NEAREST_CHUNK):
        part = wanted[start:start + NEAREST_CHUNK]
        differences = np.abs(part[:, None, :] - entries[None]).max(axis=2)
        best[start:start + len(part)] = differences.argmin(axis=1)
        gap[start:start + len(part)] = differences.min(axis=1)
    return best[inverse], gap[inverse]


def remap_off(frame: np.ndarray, indices: np.ndarray, colours: np.ndarray,
              off: np.ndarray) -> int:
    """Move the ``off`` pixels of ``indices`` (in place) to their nearest entry: Pillow
    matches colours through a coarse cache, which can send a colour to an entry far from
    it while a near one exists (a rare marker colour, a line's dark edge). Returns how
    many pixels stay off: those no entry shows within :data:`OFF_BY`. Past
    :data:`REMAP_LIMIT` off pixels nothing is moved (the palette lacks the frame's
    colours, not Pillow the nearest entry: a local palette is wanted)."""
    rows, columns = np.nonzero(off)
    if rows.size == 0 or rows.size > REMAP_LIMIT:
        return int(rows.size)
    best, gap = nearest_entries(frame[rows, columns], colours)
    indices[rows, columns] = best
    return int(np.count_nonzero(gap > OFF_BY))


def off_pixels(frame: np.ndarray, indices: np.ndarray, colours: np.ndarray) -> int:
    """How many pixels of ``frame`` the palette ``colours`` at ``indices`` shows more than
    :data:`OFF_BY` away in some channel."""
    return int(np.count_nonzero(off_mask(frame, indices, colours)))


class Quantizer:
    """Maps RGB frames onto a run's shared palette; a frame that does not fit it gets a
    local palette of its own (median cut of that frame alone, at full resolution).

    A frame fits when at most :data:`FIT_SHARE` of its pixels would be off by more than
    :data:`OFF_BY` on the shared palette. Pillow maps the frame; the pixels its coarse
    colour cache shows off are found exactly (after the first frame, over the rectangle
    that changed since the frame before, so the result depends on the frame alone and a
    worker process that starts mid-run gets the same) and moved to their nearest entry
    (:func:`remap_off`); those still off are the frame's misses. Calling it returns
    ``(indices, palette)``; ``palette`` is :attr:`palette` itself or a local one.
    """

    def __init__(self, palette) -> None:
        self.palette = palette
        self.colours = palette_rgb(palette)
        self.white = palette_index(palette, (255, 255, 255))
        self.white_goes_to = quantized_white(palette)
        self.local_frames = 0
        #: The frame before, and which of its pixels Pillow's matching shows off.
        self._previous: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, frame: np.ndarray):
        indices = to_palette(frame, self.palette, self.white, self.white_goes_to)
        if self._previous is None:
            cached_off = off_mask(frame, indices, self.colours)
        else:
            before, cached_off = self._previous
            left, top, right, bottom = changed_box(before, frame)
            region = (slice(top, bottom), slice(left, right))
            # the frame before's mask is not needed any more
            cached_off[region] = off_mask(frame[region], indices[region], self.colours)
        self._previous = (frame, cached_off)
        off = remap_off(frame, indices, self.colours, cached_off)
        if off <= FIT_SHARE * indices.size:
            return indices, self.palette
        local = palette_of([frame], step=1)
        local_indices = to_palette(frame, local, palette_index(local, (255, 255, 255)))
        local_colours = palette_rgb(local)
        if remap_off(frame, local_indices, local_colours,
                     off_mask(frame, local_indices, local_colours)) >= off:
            return indices, self.palette
        self.local_frames += 1
        return local_indices, local
