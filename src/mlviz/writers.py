"""Writers: stream RGB frames into a GIF, an MP4, or a PNG poster, atomically.

Every writer writes into a hidden temporary file beside the target and renames it into
place in :meth:`Writer.close`; :meth:`Writer.abort` (or leaving the ``with`` block with an
exception, Ctrl-C included) deletes it, so no half-written file is ever left at the target.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np

from .errors import MlvizError


class Writer:
    """Base class: ``write(frame)`` for each RGB uint8 frame, then ``close()``."""

    suffix: ClassVar[str] = ""
    #: True for a poster format that keeps only the last frame.
    last_frame_only: ClassVar[bool] = False

    def __init__(self, path: str | Path, fps: float = 5.0) -> None:
        self.path = Path(path)
        if fps <= 0:
            raise MlvizError(f"fps must be positive, got {fps}")
        self.fps = float(fps)
        self.frames_written = 0
        self.size: tuple[int, int] | None = None  # (width, height)
        check_output_path(self.path)
        handle, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=f".part{self.suffix}"
        )
        os.close(handle)
        self._tmp = Path(tmp)
        self._closed = False

    def write(self, frame: np.ndarray) -> None:
        """Add one frame: an (height, width, 3) uint8 array, the same size every time.

        The writer may keep a reference to ``frame``: do not modify it afterwards.
        """
        if self._closed:
            raise RuntimeError("writer is closed")
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an (h, w, 3) uint8 frame, got {frame.shape} {frame.dtype}")
        size = (frame.shape[1], frame.shape[0])
        if self.size is None:
            self.size = size
            self._open(size)
        elif size != self.size:
            raise ValueError(f"frame size changed from {self.size} to {size}")
        self._write(frame)
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file and move it into place; return its path."""
        if self._closed:
            return self.path
        try:
            if self.frames_written == 0:
                raise ValueError("no frame was written")
            self._finish()
            move_into_place(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def abort(self) -> None:
        """Discard everything written; the target path is left untouched."""
        self._closed = True
        try:
            self._cleanup()
        finally:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # Subclass hooks.
    def _open(self, size: tuple[int, int]) -> None:
        pass

    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _cleanup(self) -> None:
        pass


class GifWriter(Writer):
    """Animated GIF through Pillow: one palette for the whole run, looping forever.

    Frames are spooled as raw RGB, in memory up to ``spool_bytes`` and on disk beyond, so
    memory stays bounded however long the run. On close a single 256-colour palette is
    built from frames sampled across the run; then frame after frame is mapped onto it and
    only the rectangle that changed since the previous frame is encoded, with the pixels
    that did not change inside it set to a transparent index (long runs that compress
    well), and streamed to the file (Pillow's own multi-frame save would hold every frame
    in memory).
    """

    suffix = ".gif"
    palette_samples = 8
    spool_bytes = 32 * 2**20

    def _open(self, size: tuple[int, int]) -> None:
        self._spool = FrameSpool(self.spool_bytes)

    def _write(self, frame: np.ndarray) -> None:
        self._spool.append(frame)

    def _finish(self) -> None:
        from PIL import GifImagePlugin

        spool = self._spool
        palette = _shared_palette(spool, self.palette_samples)
        white = _palette_index(palette, (255, 255, 255))
        duration = max(20, round(1000 / self.fps))
        previous = None
        with open(self._tmp, "wb") as out:
            for i in range(len(spool)):
                indices = _to_palette(spool[i], palette, white)
                extra = {}
                if previous is None:
                    image = _palette_image(indices, palette)
                    header, _ = GifImagePlugin.getheader(
                        image, info={"loop": 0, "optimize": False, "duration": duration}
                    )
                    out.write(b"".join(header))
                    box = (0, 0, indices.shape[1], indices.shape[0])
                    part = image
                else:
                    box = _changed_box(previous, indices)
                    part = _unchanged_as_transparent(previous, indices, box, palette)
                    extra["transparency"] = TRANSPARENT
                out.write(b"".join(GifImagePlugin.getdata(
                    part, offset=box[:2], duration=duration, disposal=1, **extra
                )))
                previous = indices
            out.write(b";")  # GIF trailer
        spool.close()

    def _cleanup(self) -> None:
        spool = getattr(self, "_spool", None)
        if spool is not None:
            spool.close()


#: Palette index kept free for "unchanged since the previous frame".
TRANSPARENT = 255


def _unchanged_as_transparent(before: np.ndarray, after: np.ndarray, box, palette):
    """The ``box`` of ``after`` as a palette image, pixels equal in ``before`` transparent."""
    left, top, right, bottom = box
    region = after[top:bottom, left:right].copy()
    region[before[top:bottom, left:right] == region] = TRANSPARENT
    return _palette_image(region, palette)


def _changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels that differ; one pixel if none do."""
    changed = before != after
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return (0, 0, 1, 1)
    cols = np.flatnonzero(changed[rows[0]: rows[-1] + 1].any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _to_palette(frame: np.ndarray, palette, white: int | None) -> np.ndarray:
    """Palette indices of an RGB frame (no dithering); pure white stays exact.

    Pillow matches colours through a coarse cache that can send white to a near-white
    entry, and the background of every frame must stay white. Index :data:`TRANSPARENT`
    repeats entry 0's colour and is moved back to 0, so it stays free.
    """
    from PIL import Image

    indices = np.array(Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE))
    indices[indices == TRANSPARENT] = 0
    if white is not None:
        indices[(frame == 255).all(axis=2)] = white
    return indices


def _palette_image(indices: np.ndarray, palette):
    from PIL import Image

    image = Image.frombytes("P", (indices.shape[1], indices.shape[0]), indices.tobytes())
    image.putpalette(palette.getpalette())
    return image


def _palette_index(palette, color: tuple[int, int, int]) -> int | None:
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


def _shared_palette(frames: FrameSpool, samples: int, exact: int = 16):
    """A 256-colour palette image for frames sampled evenly through the run.

    Median cut finds 255 - ``exact`` colours; the ``exact`` most frequent colours (white
    background, black text, flat fills) are added unchanged, so they stay exact. The last
    entry (:data:`TRANSPARENT`) is left unused for the frame differences.
    """
    from PIL import Image

    picks = np.unique(np.linspace(0, len(frames) - 1, min(samples, len(frames))).astype(int))
    # Every other row and column is plenty to find the colours; it quarters the work.
    mosaic = np.concatenate([frames[i][::2, ::2] for i in picks], axis=0)
    pixels = mosaic.reshape(-1, 3).astype(np.uint32)
    packed = (pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    common = values[np.argsort(counts)[::-1][:exact]]
    common_rgb = np.stack([(common >> 16) & 255, (common >> 8) & 255, common & 255], axis=1)
    quantized = Image.fromarray(mosaic).quantize(
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


class Mp4Writer(Writer):
    """H.264 MP4 (yuv420p) through imageio-ffmpeg, streamed frame by frame.

    Odd frame sizes are padded by one white pixel row or column (yuv420p needs even sizes).
    """

    suffix = ".mp4"

    def _open(self, size: tuple[int, int]) -> None:
        import imageio_ffmpeg

        width, height = size
        self._even = (width + width % 2, height + height % 2)
        self._pipe = imageio_ffmpeg.write_frames(
            str(self._tmp), self._even, fps=self.fps, codec="libx264", pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p", macro_block_size=1, quality=None, bitrate=None,
            ffmpeg_log_level="error",
            output_params=["-crf", "20", "-preset", "veryfast", "-movflags", "+faststart"],
        )
        self._pipe.send(None)

    def _write(self, frame: np.ndarray) -> None:
        width, height = self._even
        if frame.shape[:2] != (height, width):
            padded = np.full((height, width, 3), 255, dtype=np.uint8)
            padded[: frame.shape[0], : frame.shape[1]] = frame
            frame = padded
        self._pipe.send(np.ascontiguousarray(frame))

    def _finish(self) -> None:
        self._pipe.close()
        self._pipe = None

    def _cleanup(self) -> None:
        pipe = getattr(self, "_pipe", None)
        if pipe is not None:
            try:
                pipe.close()
            except Exception:
                pass


class PngWriter(Writer):
    """A PNG poster: the last frame written."""

    suffix = ".png"
    last_frame_only = True

    def _write(self, frame: np.ndarray) -> None:
        self._last = frame

    def _finish(self) -> None:
        from PIL import Image

        Image.fromarray(self._last).save(self._tmp, format="PNG", optimize=True)


WRITERS: dict[str, type[Writer]] = {w.suffix: w for w in (GifWriter, Mp4Writer, PngWriter)}


def writer_class(path: str | Path) -> type[Writer]:
    """The writer for ``path``'s suffix; :class:`MlvizError` for an unknown one."""
    suffix = Path(path).suffix.lower()
    if suffix not in WRITERS:
        known = ", ".join(sorted(WRITERS))
        raise MlvizError(f"unknown output type '{suffix or Path(path).name}': use one of {known}")
    return WRITERS[suffix]


def move_into_place(tmp: str | Path, path: str | Path) -> None:
    """Rename a finished temporary file to ``path``, with a new file's usual permissions.

    ``tempfile.mkstemp`` creates files readable by their owner only; the result should be
    as readable as any file the user creates (``0o666`` less the umask).
    """
    mask = os.umask(0o022)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


def check_output_path(path: str | Path) -> None:
    """Fail early, with a one-line error, if ``path`` cannot be written."""
    path = Path(path)
    writer_class(path)
    folder = path.parent
    if not folder.is_dir():
        raise MlvizError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MlvizError(f"output folder is not writable: {folder}")
    if path.is_dir():
        raise MlvizError(f"output path is a folder: {path}")


def open_writer(path: str | Path, fps: float = 5.0) -> Writer:
    """The writer its suffix picks for ``path``, ready for frames."""
    return writer_class(path)(path, fps=fps)
