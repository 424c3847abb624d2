"""Writers: stream RGB frames into an animation (GIF, MP4, WebP, APNG) or a PNG poster,
atomically.

Writers come from the registry (:attr:`mlviz.Registry.writers`, keyed by file suffix):
mlviz's own are registered by this module's :func:`mlviz_writers` hook through the
project's ``core-writers`` entry point, exactly as a plugin's are. ``open_writer(path)``
picks one by ``path``'s suffix. An animation holds its last frame for ``hold`` seconds
(the ``mlviz render`` default is :data:`DEFAULT_HOLD`), so a looping animation shows the
result before it starts again.

Every writer writes into a hidden temporary file beside the target,
``.STEM.mlviz-PID-RANDOM.part.SUFFIX``, holding an ``flock`` on it while it writes. In
:meth:`Writer.close` it checks that the encoder succeeded, flushes the file to disk (fsync)
and only then renames it over the target; :meth:`Writer.abort` (or leaving the ``with``
block with an exception, Ctrl-C and SIGTERM included) deletes it. A failure (a full disk,
ffmpeg exiting with an error) is an :class:`~mlviz.errors.OutputError` and leaves an
existing target untouched. The temporary file of a process that was killed outright
(SIGKILL) is removed by the next writer in that folder, once its process is gone and
nobody holds its lock: a render still running is never touched.

This module is a plugin module (the ``mlviz_writers`` hook): importing it stays cheap
(numpy, no Pillow, no ffmpeg); encoders are imported when a file is written.
"""

from __future__ import annotations

import atexit
import collections
import errno
import importlib
import math
import os
import re
import secrets
import stat
import subprocess
import tempfile
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .errors import LimitError, MlvizError, OutputError
from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .plugins import Registry

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: stale files are judged by pid alone
    fcntl = None

#: Characters of the target's stem kept in its temporary name, so that the name fits.
TMP_STEM_CHARS = 40
_PART = re.compile(r"\..*\.mlviz-(?P<pid>[0-9]{1,10})-[0-9a-f]+\.part\.[A-Za-z0-9]+", re.S)
#: Absolute paths of this process's temporary files that are still being written.
_OWN: set[str] = set()
#: Seconds an animation holds its last frame unless told otherwise (``mlviz render --hold``).
DEFAULT_HOLD = 2.0
#: The longest hold accepted, in seconds (a minute: longer is a mistake, not a pause).
MAX_HOLD = 60.0


def check_hold(hold: float) -> float:
    """``hold`` (seconds) as a float; :class:`LimitError` unless 0 <= hold <= MAX_HOLD."""
    try:
        value = float(hold)
    except (TypeError, ValueError):
        raise LimitError(f"hold must be a number of seconds, got {hold!r}") from None
    if not 0 <= value <= MAX_HOLD:  # NaN fails too
        raise LimitError(f"hold must be 0 to {MAX_HOLD:g} seconds, got {value:g}")
    return value


@atexit.register
def _remove_own_parts() -> None:
    """At exit, remove this process's temporary files that no writer finished or aborted:
    a signal can land between creating one and entering the writer's ``with`` block."""
    for path in list(_OWN):
        match = _PART.fullmatch(os.path.basename(path))
        if match and int(match["pid"]) == os.getpid():  # not a forked child's inheritance
            try:
                os.unlink(path)
            except OSError:
                pass


class Writer:
    """Base class: ``write(frame)`` for each RGB uint8 frame, then ``close()``.

    ``fps`` frames a second; the last frame stays on screen ``max(1 / fps, hold)`` seconds
    (formats without time, like the PNG poster, ignore ``hold``). ``captions`` is one text
    per frame to be written (e.g. "epoch 12"); writers that cannot show text ignore it.
    A subclass sets the class attributes below and implements ``_write`` and ``_finish``
    (``_open`` and ``_cleanup`` are optional); it writes only into ``self._tmp``.
    """

    #: The file suffix this writer is picked for, lowercase with its dot (".gif").
    suffix: ClassVar[str] = ""
    #: One line for help text and listings ("animated GIF, 256 colours").
    description: ClassVar[str] = ""
    #: True for a poster format that keeps only the last frame.
    last_frame_only: ClassVar[bool] = False
    #: Takes (h, w, 4) RGBA frames too, keeping their transparency (a transparent theme).
    keeps_alpha: ClassVar[bool] = False
    #: Frame rates the format can store (``min_fps`` exclusive when 0).
    min_fps: ClassVar[float] = 0.0
    max_fps: ClassVar[float] = math.inf
    fps_limit: ClassVar[str] = ""  # why, for the error message
    #: An optional dependency: (module to import, package to install), or None.
    requires: ClassVar[tuple[str, str] | None] = None
    #: The pip extra of :attr:`distribution` that installs :attr:`requires` (None: none).
    extra: ClassVar[str | None] = None
    #: The distribution whose extra that is.
    distribution: ClassVar[str] = "mlviz"

    def __init__(self, path: str | Path, fps: float = 5.0, *, hold: float = 0.0,
                 captions: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        self.fps = self.check_fps(fps)
        self.hold = check_hold(hold)
        if isinstance(captions, (str, bytes)):
            raise TypeError("captions must be a sequence of texts, one per frame, not a text")
        self.captions: tuple[str, ...] | None = (
            None if captions is None else tuple(str(c) for c in captions))
        self.frames_written = 0
        self.size: tuple[int, int] | None = None  # (width, height)
        self._closed = False
        self.check_available()
        _check_folder(self.path)
        self._tmp, self._lock = _create_part(self.path, self.suffix)

    @property
    def last_seconds(self) -> float:
        """How long the last frame is shown: ``max(1 / fps, hold)`` seconds."""
        return max(1.0 / self.fps, self.hold)

    def caption(self, index: int) -> str:
        """The caption of frame ``index`` ("" when none was given)."""
        if self.captions is None or not 0 <= index < len(self.captions):
            return ""
        return self.captions[index]

    @classmethod
    def check_available(cls) -> None:
        """One-line :class:`MlvizError` if the optional dependency this format needs is
        missing (naming the extra that installs it); never a silent switch of format."""
        if cls.requires is None:
            return
        module, package = cls.requires
        try:
            importlib.import_module(module)
        except ImportError:
            raise MlvizError(cls._missing(package)) from None

    @classmethod
    def _missing(cls, package: str) -> str:
        """The message for a missing ``package``: what to install."""
        install = f"'{cls.distribution}[{cls.extra}]'" if cls.extra else package
        return f"writing {cls.suffix} needs {package}: pip install {install}"

    @classmethod
    def check_fps(cls, fps: float) -> float:
        """``fps`` as a float; :class:`LimitError` if the format cannot store that rate."""
        fps = float(fps)
        if not fps > 0:  # NaN too
            raise LimitError(f"fps must be positive, got {fps:g}")
        if not cls.min_fps <= fps <= cls.max_fps:
            raise LimitError(f"fps {fps:g} is out of range for {cls.suffix[1:].upper()}: "
                             f"{cls.fps_limit}")
        return fps

    def write(self, frame: np.ndarray) -> None:
        """Add one frame: an (height, width, 3) uint8 array, the same size every time.

        The writer may keep a reference to ``frame``: do not modify it afterwards.
        """
        if self._closed:
            raise RuntimeError("writer is closed")
        frame = np.asarray(frame)
        channels = (3, 4) if self.keeps_alpha else (3,)
        if frame.ndim != 3 or frame.shape[2] not in channels or frame.dtype != np.uint8:
            shape = "(h, w, 3) or (h, w, 4)" if self.keeps_alpha else "(h, w, 3)"
            raise ValueError(f"expected an {shape} uint8 frame, got {frame.shape} {frame.dtype}")
        size = (frame.shape[1], frame.shape[0])
        if self.size is not None and size != self.size:
            raise ValueError(f"frame size changed from {self.size} to {size}")
        try:
            if self.size is None:
                self.size = size
                self._open(size)
            self._write(frame)
        except OSError as exc:
            self.abort()
            raise self._failure(exc) from exc
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file, check it, fsync it and move it into place; return its path."""
        if self._closed:
            return self.path
        try:
            if self.frames_written == 0:
                raise ValueError("no frame was written")
            self._finish()
            move_into_place(self._tmp, self.path)
        except OSError as exc:
            self.abort()
            raise self._failure(exc) from exc
        except BaseException:
            self.abort()
            raise
        self._closed = True
        self._release()
        _fsync_folder(self.path.parent)
        return self.path

    def abort(self) -> None:
        """Discard everything written; the target path is left untouched."""
        self._closed = True
        try:
            self._cleanup()
        finally:
            try:
                self._tmp.unlink(missing_ok=True)
            except OSError:
                pass
            self._release()

    def _failure(self, exc: OSError) -> OutputError:
        """One line for a failed write: the reason, and that the target is untouched."""
        if isinstance(exc, OutputError):
            return exc
        reason = exc.strerror or str(exc) or type(exc).__name__
        kept = "the existing file is unchanged" if self.path.exists() else "nothing was written"
        return OutputError(f"cannot write {self.path}: {reason}; {kept}")

    def _release(self) -> None:
        _OWN.discard(os.path.abspath(self._tmp))
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

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


class _SharedPalette:
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
        return _palette_picks(count, self.palette_samples)

    def prime(self, frames: Sequence[np.ndarray]) -> None:
        """Build the palette from the frames at :meth:`frames_wanted_first`, in that order,
        so that every frame written from now on is encoded at once (call before ``write``)."""
        if self.frames_written or getattr(self, "_encoder", None) is not None:
            raise RuntimeError("prime() comes before the first frame is written")
        self._primed = _palette_of([np.asarray(frame) for frame in frames])


class GifWriter(_SharedPalette, Writer):
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
            self._encoder = _GifEncoder(open(self._tmp, "r+b"), primed, self._ms(1 / self.fps))

    def _write(self, frame: np.ndarray) -> None:
        if getattr(self, "_encoder", None) is not None:
            self._encoder.add(frame)
        else:
            self._spool.append(frame)

    def _finish(self) -> None:
        encoder = getattr(self, "_encoder", None)
        if encoder is None:
            spool = self._spool
            palette = _shared_palette(spool, self.palette_samples)
            encoder = _GifEncoder(open(self._tmp, "r+b"), palette, self._ms(1 / self.fps))
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


#: Palette index kept free for "unchanged since the previous frame".
TRANSPARENT = 255


class _GifEncoder:
    """Writes a GIF frame by frame onto a fixed palette, each as the difference from the
    one before. A frame goes to ``out`` when the next arrives (or on :meth:`finish`), so
    that the last one can be given its own duration."""

    def __init__(self, out, palette, duration_ms: int) -> None:
        self.out = out
        self.palette = palette
        self.duration = duration_ms
        self.white = _palette_index(palette, (255, 255, 255))
        self.white_goes_to = _white_goes_to(palette)
        self.previous: np.ndarray | None = None
        self.pending = None  # (palette image, box, extra) of the frame not yet written

    def add(self, frame: np.ndarray) -> None:
        from PIL import GifImagePlugin

        indices = _to_palette(frame, self.palette, self.white, self.white_goes_to)
        if self.previous is None:
            image = _palette_image(indices, self.palette)
            header, _ = GifImagePlugin.getheader(
                image, info={"loop": 0, "optimize": False, "duration": self.duration})
            self.out.write(b"".join(header))
            pending = (image, (0, 0, indices.shape[1], indices.shape[0]), {})
        else:
            self._flush(self.duration)
            box = _changed_box(self.previous, indices)
            pending = (_unchanged_as_transparent(self.previous, indices, box, self.palette),
                       box, {"transparency": TRANSPARENT})
        self.pending = pending
        self.previous = indices

    def _flush(self, duration: int) -> None:
        from PIL import GifImagePlugin

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


def _to_palette(frame: np.ndarray, palette, white: int | None,
                white_goes_to: int | None = None) -> np.ndarray:
    """Palette indices of an RGB frame (no dithering); pure white stays exact.

    Pillow matches colours through a coarse cache that can send white to a near-white
    entry, and the background of every frame must stay white: the pixels sent to the
    entry white goes to (``white_goes_to``, see :func:`_white_goes_to`) are checked, and
    the white ones set to ``white``. Index :data:`TRANSPARENT` repeats entry 0's colour and
    is moved back to 0, so it stays free.
    """
    from PIL import Image

    indices = np.array(Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE))
    indices[indices == TRANSPARENT] = 0
    if white is None:
        return indices
    if white_goes_to is None:
        white_goes_to = _white_goes_to(palette)
    if white_goes_to != white:
        pure = (frame[..., 0] & frame[..., 1] & frame[..., 2]) == 255
        # Every pure white pixel holds white_goes_to: adding the difference (modulo 256)
        # to those alone is several times faster than a masked assignment.
        indices += pure.view(np.uint8) * np.uint8((white - white_goes_to) % 256)
    return indices


def _white_goes_to(palette) -> int:
    """The index :func:`_to_palette`'s quantizing gives pure white (before the fix-up)."""
    from PIL import Image

    pixel = Image.new("RGB", (1, 1), (255, 255, 255))
    index = pixel.quantize(palette=palette, dither=Image.Dither.NONE).getpixel((0, 0))
    return 0 if index == TRANSPARENT else int(index)


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


def _palette_picks(count: int, samples: int) -> list[int]:
    """Positions of the ``samples`` frames, spread evenly over ``count``, a palette uses."""
    if count < 1:
        return []
    return [int(i) for i in np.unique(np.linspace(0, count - 1, min(samples, count)).astype(int))]


def _shared_palette(frames: FrameSpool, samples: int, exact: int = 16):
    """A 256-colour palette image for frames sampled evenly through the run."""
    return _palette_of([frames[i] for i in _palette_picks(len(frames), samples)], exact)


def _palette_of(picks: Sequence[np.ndarray], exact: int = 16):
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


class Mp4Writer(Writer):
    """H.264 MP4 (yuv420p) through the ffmpeg of imageio-ffmpeg, streamed frame by frame.

    A video has one frame rate, so the hold is made of copies of the last frame, added by
    ffmpeg itself (its ``tpad`` filter: nothing more goes through the pipe). Odd frame sizes
    are padded by one white pixel row or column (yuv420p needs even sizes). ffmpeg's exit
    status is checked: an encoder error fails the write.
    """

    suffix = ".mp4"
    description = "H.264 video: smallest for long runs, any frame rate"
    requires = ("imageio_ffmpeg", "imageio-ffmpeg")
    min_fps = 0.01
    max_fps = 240.0
    fps_limit = "use 0.01 to 240 fps"

    def _open(self, size: tuple[int, int]) -> None:
        import imageio_ffmpeg

        width, height = size
        self._even = (width + width % 2, height + height % 2)
        rate = Fraction(self.fps).limit_denominator()
        self._encoder = _Ffmpeg([
            imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-f", "rawvideo", "-vcodec", "rawvideo",
            "-s", "{}x{}".format(*self._even), "-pix_fmt", "rgb24", "-r", str(rate),
            "-i", "-", *self._hold_filter(), "-an", "-vcodec", "libx264", "-pix_fmt",
            "yuv420p", "-v", "error",
            "-crf", "20", "-preset", "veryfast", "-movflags", "+faststart",
            os.path.abspath(self._tmp),  # never taken for an option or a protocol
        ])

    @property
    def hold_frames(self) -> int:
        """Copies of the last frame added after it, so it lasts ``last_seconds``."""
        return max(0, round(self.last_seconds * self.fps) - 1)

    def _hold_filter(self) -> list[str]:
        if self.hold_frames == 0:
            return []
        return ["-vf", f"tpad=stop_mode=clone:stop={self.hold_frames}"]

    def _write(self, frame: np.ndarray) -> None:
        width, height = self._even
        if frame.shape[:2] != (height, width):
            padded = np.full((height, width, 3), 255, dtype=np.uint8)
            padded[: frame.shape[0], : frame.shape[1]] = frame
            frame = padded
        self._encoder.send(np.ascontiguousarray(frame))

    def _finish(self) -> None:
        self._encoder.finish()
        if os.path.getsize(self._tmp) == 0:
            raise OSError("ffmpeg wrote an empty file")

    def _cleanup(self) -> None:
        encoder = getattr(self, "_encoder", None)
        if encoder is not None:
            encoder.kill()


class _Ffmpeg:
    """An ffmpeg process reading raw frames on stdin; its stderr kept for the error message.

    It runs in its own session, so a Ctrl-C at the terminal reaches mlviz alone, and mlviz
    decides: finish the file, or kill ffmpeg and discard it.
    """

    def __init__(self, command: list[str]) -> None:
        self._log: collections.deque[str] = collections.deque(maxlen=20)
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        for line in self._process.stderr:
            self._log.append(line.decode("utf-8", "replace"))

    def send(self, frame: np.ndarray) -> None:
        try:
            self._process.stdin.write(frame)
        except OSError:  # ffmpeg exited: say why
            self._process.wait()
            raise OSError(self._reason()) from None

    def finish(self) -> None:
        """Close ffmpeg's input, wait for it, and raise OSError unless it succeeded."""
        try:
            self._process.stdin.close()
        except OSError:
            pass  # it exited early; its status says why
        if self._process.wait() != 0:
            raise OSError(self._reason())
        self._reader.join(timeout=5)

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        try:
            self._process.stdin.close()
        except OSError:
            pass
        self._process.wait()

    def _reason(self) -> str:
        """ffmpeg's last error line, without its ``[module @ 0x…]`` prefixes."""
        self._reader.join(timeout=5)
        lines = [re.sub(r"^(\[[^\]]*\]\s*)+", "", line).strip() for line in self._log]
        lines = [line for line in lines if line and not line.startswith("Last message repeated")]
        status = self._process.returncode
        detail = lines[-1] if lines else "no message"
        for number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS,
                       errno.EACCES):
            if any(os.strerror(number) in line for line in lines):
                detail = os.strerror(number)
                break
        return f"ffmpeg failed (exit status {status}): {detail}"


class _DeltaAnimation(Writer):
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
        if self._pending is not None:
            self._emit(*self._pending, index=self._emitted, seconds=1.0 / self.fps)
            self._emitted += 1
        box, image, blend = self._difference(frame)
        self._pending = (box, self._encode(image), blend)
        self._previous = frame

    def _difference(self, frame: np.ndarray):
        """(box, RGBA image of the box, blend?) for an RGB ``frame`` after
        ``self._previous``: the whole frame, opaque, for the first one."""
        from PIL import Image

        if self._previous is None:
            height, width = frame.shape[:2]
            return (0, 0, width, height), Image.fromarray(_with_alpha(frame), "RGBA"), False
        box = _even_box(_changed_mask(self._previous, frame), self.align)
        left, top, right, bottom = box
        rgba = _with_alpha(frame[top:bottom, left:right], self._previous[top:bottom, left:right])
        return box, Image.fromarray(rgba, "RGBA"), True

    def _end(self) -> None:
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


def _changed_mask(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(height, width) booleans: the pixels of two RGB frames that differ."""
    differ = before != after
    # Channel by channel: several times faster than .any(axis=2) over three values.
    return differ[..., 0] | differ[..., 1] | differ[..., 2]


def _even_box(mask: np.ndarray, align: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) around the true pixels of ``mask``, its left and top
    rounded down to multiples of ``align``; a single pixel when none is true."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return (0, 0, 1, 1)
    cols = np.flatnonzero(mask[rows[0]: rows[-1] + 1].any(axis=0))
    left, top = int(cols[0]) // align * align, int(rows[0]) // align * align
    return (left, top, int(cols[-1]) + 1, int(rows[-1]) + 1)


def _with_alpha(region: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """``region`` as RGBA: opaque, except pixels equal to ``before``'s, which are fully
    transparent (black: their colour does not matter, so they compress to almost nothing)."""
    height, width = region.shape[:2]
    rgba = np.empty((height, width, 4), dtype=np.uint8)
    if before is None:
        rgba[..., :3] = region
        rgba[..., 3] = 255
        return rgba
    changed = _changed_mask(before, region)
    rgba[..., :3] = region * changed[..., None]
    rgba[..., 3] = changed.view(np.uint8) * np.uint8(255)
    return rgba


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (fourcc, payload) chunks of a RIFF/WEBP file, after its 12-byte header."""
    chunks, at = [], 12
    while at + 8 <= len(data):
        fourcc, size = data[at: at + 4], int.from_bytes(data[at + 4: at + 8], "little")
        chunks.append((fourcc, data[at + 8: at + 8 + size]))
        at += 8 + size + size % 2
    return chunks


def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + len(payload).to_bytes(4, "little") + payload + b"\0" * (len(payload) % 2)


class WebpWriter(_SharedPalette, _DeltaAnimation):
    """Animated WebP through Pillow's libwebp: the GIF's 256-colour palette for the run,
    coded losslessly: the GIF's pixels in 60 to 80 % of its bytes.

    Measured on kmeans, linear-regression and neural-network: exact-colour lossless WebP is
    1 to 2.5 times the GIF (anti-aliased edges make thousands of colours) and lossy WebP
    at quality 80 to 90 is as large as the GIF with ringing around text, while the shared
    palette is indistinguishable by eye and WebP's lossless coder beats GIF's LZW. The
    palette comes from the same frames as the GIF's, given first (:meth:`prime`) by a
    renderer that can, or spooled like the GIF's (bounded memory) until the end. Each frame
    is mapped onto it, and its changed rectangle encoded by Pillow as a still lossless WebP
    with alpha (unchanged pixels transparent, blended over the previous frame) and wrapped
    by this writer in the animation container (``ANMF`` chunks), streamed to the file.
    For exact colours, use ``.apng``.
    """

    suffix = ".webp"
    description = "animated WebP: the GIF's pixels, 20 to 40 % smaller"
    # Durations are whole milliseconds in 24 bits; browsers slow frames of 10 ms or less
    # down to 100 ms.
    min_fps = 0.001
    max_fps = 90.0
    fps_limit = ("WebP frames last whole milliseconds and browsers slow frames of 10 ms or "
                 "less to 100 ms, so use 0.001 to 90 fps (or .mp4 for faster)")
    align = 2
    #: libwebp's lossless effort: ``quality`` 0 to 100 and ``method`` 0 to 6 (both: more is
    #: smaller and slower); 50 and 2 are within 3 % of the smallest, at a fraction of its time.
    quality = 50
    method = 2

    def _open(self, size: tuple[int, int]) -> None:
        primed = getattr(self, "_primed", None)
        if primed is None:
            self._spool = FrameSpool(self.spool_bytes)
        else:
            self._use(primed)
            self._start(size)

    def _write(self, frame: np.ndarray) -> None:
        if getattr(self, "_spool", None) is None:
            self._add(self._indices(frame))
        else:
            self._spool.append(frame)

    def _finish(self) -> None:
        spool = getattr(self, "_spool", None)
        if spool is not None:
            self._use(_shared_palette(spool, self.palette_samples))
            self._start(self.size)
            for i in range(len(spool)):
                self._add(self._indices(spool[i]))
            spool.close()
        self._end()

    def _difference(self, indices: np.ndarray):
        """Frames are palette indices here (as the GIF's): the changed box, unchanged
        pixels set to the transparent index, to RGBA in Pillow."""
        if self._previous is None:
            image = _palette_image(indices, self._palette).convert("RGBA")
            return (0, 0, indices.shape[1], indices.shape[0]), image, False
        box = _even_box(self._previous != indices, self.align)
        part = _unchanged_as_transparent(self._previous, indices, box, self._palette)
        part.info["transparency"] = TRANSPARENT
        return box, part.convert("RGBA"), True

    def _use(self, palette) -> None:
        """Map frames onto ``palette`` from now on."""
        self._palette = palette
        self._white = _palette_index(palette, (255, 255, 255))
        self._white_goes_to = _white_goes_to(palette)

    def _indices(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` as indices into the palette, exactly as the GIF maps it."""
        return _to_palette(frame, self._palette, self._white, self._white_goes_to)

    def _cleanup(self) -> None:
        super()._cleanup()
        spool = getattr(self, "_spool", None)
        if spool is not None:
            spool.close()

    @classmethod
    def check_available(cls) -> None:
        super().check_available()
        from PIL import features

        if not features.check("webp"):
            raise MlvizError("writing .webp needs Pillow built with WebP support (libwebp): "
                             "pip install --force-reinstall pillow")

    def _header(self, size: tuple[int, int]) -> None:
        width, height = size
        flags = 0x10 | 0x02  # alpha (the frames use it to keep unchanged pixels), animation
        vp8x = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + \
            (height - 1).to_bytes(3, "little")
        anim = (0xFFFFFFFF).to_bytes(4, "little") + (0).to_bytes(2, "little")  # white; loop
        self._out.write(b"RIFF\0\0\0\0WEBP" + _riff_chunk(b"VP8X", vp8x) +
                        _riff_chunk(b"ANIM", anim))
        self._elapsed_ms = 0
        self._seconds = 0.0

    def _encode(self, image) -> bytes:
        from io import BytesIO

        buffer = BytesIO()
        image.save(buffer, format="WEBP", lossless=True, quality=self.quality,
                   method=self.method)
        return b"".join(_riff_chunk(fourcc, payload)
                        for fourcc, payload in _riff_chunks(buffer.getvalue())
                        if fourcc in (b"ALPH", b"VP8 ", b"VP8L"))

    def _emit(self, box, data, blend, *, index, seconds):
        left, top, right, bottom = box
        # Whole milliseconds from a running clock: no drift over a long run.
        self._seconds += seconds
        end = round(self._seconds * 1000)
        duration = max(1, end - self._elapsed_ms)
        self._elapsed_ms += duration
        header = ((left // 2).to_bytes(3, "little") + (top // 2).to_bytes(3, "little") +
                  (right - left - 1).to_bytes(3, "little") +
                  (bottom - top - 1).to_bytes(3, "little") +
                  min(duration, 2**24 - 1).to_bytes(3, "little") +
                  bytes([0 if blend else 0x02]))  # bit 1: do not blend
        self._out.write(_riff_chunk(b"ANMF", header + data))

    def _trailer(self) -> None:
        size = self._out.tell()
        if size - 8 >= 2**32:
            raise OSError("the animation is over 4 GB, more than WebP can hold; use .mp4")
        self._out.seek(4)
        self._out.write((size - 8).to_bytes(4, "little"))
        self._out.seek(size)


class ApngWriter(_DeltaAnimation):
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
        self._out.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr))
        self._actl_at = self._out.tell()
        self._out.write(_png_chunk(b"acTL", bytes(8)))  # frame count filled in at the end
        self._sequence = 0

    def _encode(self, image) -> bytes:
        from io import BytesIO

        buffer = BytesIO()
        image.save(buffer, format="PNG", compress_level=self.compress_level)
        return b"".join(payload for kind, payload in _png_chunks(buffer.getvalue())
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
        self._out.write(_png_chunk(b"fcTL", fctl))
        self._sequence += 1
        if index == 0:  # the default image is the first frame
            self._out.write(_png_chunk(b"IDAT", data))
        else:
            self._out.write(_png_chunk(b"fdAT", self._sequence.to_bytes(4, "big") + data))
            self._sequence += 1

    def _trailer(self) -> None:
        self._out.write(_png_chunk(b"IEND", b""))
        end = self._out.tell()
        self._out.seek(self._actl_at)
        self._out.write(_png_chunk(b"acTL", self.frames_written.to_bytes(4, "big") +
                                   (0).to_bytes(4, "big")))  # loop forever
        self._out.seek(end)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (len(data).to_bytes(4, "big") + kind + data +
            zlib.crc32(kind + data).to_bytes(4, "big"))


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (type, data) chunks of a PNG file, after its 8-byte signature."""
    at = 8
    while at + 8 <= len(data):
        size = int.from_bytes(data[at: at + 4], "big")
        yield data[at + 4: at + 8], data[at + 8: at + 8 + size]
        at += 12 + size


class PngWriter(Writer):
    """A PNG poster: the last frame written (``hold`` and ``captions`` do not apply)."""

    suffix = ".png"
    description = "the last frame only, as a PNG poster"
    last_frame_only = True
    keeps_alpha = True

    def _write(self, frame: np.ndarray) -> None:
        self._last = frame

    def _finish(self) -> None:
        from PIL import Image

        Image.fromarray(self._last).save(self._tmp, format="PNG", optimize=True)


#: mlviz's own writers, registered by :func:`mlviz_writers` (the ``core-writers`` plugin).
CORE_WRITERS: tuple[type[Writer], ...] = (GifWriter, Mp4Writer, WebpWriter, ApngWriter, PngWriter)


@hookimpl
def mlviz_writers() -> list[type[Writer]]:
    """mlviz's own writers, registered exactly like a plugin's."""
    from .player import HtmlWriter  # the HTML player (mlviz/player.py)

    return [*CORE_WRITERS, HtmlWriter]


def registered_writers(registry: Registry | None = None) -> dict[str, type[Writer]]:
    """The writers of ``registry`` (the installed plugins' when None), by suffix."""
    if registry is None:
        from .plugins import load_registry

        registry = load_registry()
    return registry.writers


def writer_class(path: str | Path, registry: Registry | None = None) -> type[Writer]:
    """The registered writer for ``path``'s suffix; :class:`MlvizError` for an unknown one,
    listing the registered suffixes."""
    writers = registered_writers(registry)
    suffix = Path(path).suffix.lower()
    if suffix not in writers:
        known = ", ".join(sorted(writers)) or "none (no writer is installed)"
        raise MlvizError(f"unknown output type '{suffix or Path(path).name}': use one of {known}")
    return writers[suffix]


def check_fps(path: str | Path, fps: float, registry: Registry | None = None) -> float:
    """``fps`` if the format ``path``'s suffix picks can store it (one-line error if not)."""
    return writer_class(path, registry).check_fps(fps)


def move_into_place(tmp: str | Path, path: str | Path) -> None:
    """Flush a finished temporary file to disk and rename it to ``path``.

    The file gets a new file's usual permissions (``0o666`` less the umask): temporary
    files are created readable by their owner only.
    """
    mask = os.umask(0o022)
    os.umask(mask)
    handle = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


def check_output_path(path: str | Path, registry: Registry | None = None) -> None:
    """Fail early, with a one-line error, if ``path`` cannot be written: an unknown suffix,
    a missing optional dependency of its format, or a folder that cannot take it."""
    writer_class(path, registry).check_available()
    _check_folder(Path(path))


def _check_folder(path: Path) -> None:
    """One-line errors for a target whose folder is missing or read-only, whose name is
    too long, or that is a folder."""
    folder = path.parent
    if not folder.is_dir():
        raise MlvizError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MlvizError(f"output folder is not writable: {folder}")
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    length = len(os.fsencode(path.name))
    if length > name_max:
        raise LimitError(f"output file name is {length} bytes long; this folder allows at "
                         f"most {name_max}")
    if path.is_dir():
        raise MlvizError(f"output path is a folder: {path}")


def open_writer(path: str | Path, fps: float = 5.0, *, hold: float = 0.0,
                captions: Sequence[str] | None = None,
                registry: Registry | None = None) -> Writer:
    """The writer its suffix picks for ``path`` (from ``registry``), ready for frames.

    ``hold``: seconds the last frame stays on screen (at least one frame's time);
    ``captions``: one text per frame, for writers that can show it.
    """
    return writer_class(path, registry)(path, fps=fps, hold=hold, captions=captions)


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """A locked temporary file beside ``path``, as writers use, moved over ``path`` (fsync'd)
    only if the block succeeds; deleted otherwise. A failed write is an ``OutputError``."""
    path = Path(path)
    tmp, lock = _create_part(path, path.suffix)
    try:
        yield tmp
        move_into_place(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            kept = "the existing file is unchanged" if path.exists() else "nothing was written"
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}; {kept}") from None
        raise
    finally:
        _OWN.discard(os.path.abspath(tmp))
        if lock is not None:
            os.close(lock)
    _fsync_folder(path.parent)


def remove_stale_parts(folder: str | Path) -> list[Path]:
    """Delete the temporary files in ``folder`` left by writers that were killed outright.

    A file is stale when the process named in it is gone (or is this process, which is not
    writing it) and nobody holds its lock. Returns the paths removed.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _PART.fullmatch(entry.name)
        if match is None or os.path.abspath(entry.path) in _OWN:
            continue
        pid = int(match["pid"])
        if pid != os.getpid() and _alive(pid):
            continue
        if _unlink_unlocked(entry.path):
            removed.append(Path(entry.path))
    return removed


def _create_part(path: Path, suffix: str) -> tuple[Path, int | None]:
    """Create and lock a fresh temporary file beside ``path``: (its path, the lock's fd)."""
    remove_stale_parts(path.parent)
    stem = path.stem[:TMP_STEM_CHARS]
    while True:
        tmp = path.parent / f".{stem}.mlviz-{os.getpid()}-{secrets.token_hex(4)}.part{suffix}"
        key = os.path.abspath(tmp)
        _OWN.add(key)  # before it exists: another writer here must not take it for stale
        try:
            handle = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            _OWN.discard(key)
            continue
        except OSError as exc:
            _OWN.discard(key)
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                return tmp, handle
            except OSError:  # a file system without locks: the pid in the name still guards it
                pass
        os.close(handle)
        return tmp, None


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a zombie counts: it may not be reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _unlink_unlocked(path: str) -> bool:
    """Delete the regular file ``path`` if no process holds its lock; whether it was."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        opened, current = os.fstat(handle), os.lstat(path)
        if not stat.S_ISREG(opened.st_mode) or \
                (opened.st_dev, opened.st_ino) != (current.st_dev, current.st_ino):
            return False
        os.unlink(path)
        return True
    except OSError:  # locked: a writer is still at work; or gone meanwhile
        return False
    finally:
        os.close(handle)


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (best effort: not every file system can sync a folder)."""
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
