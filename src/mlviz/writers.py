"""Writers: stream RGB frames into a GIF, an MP4, or a PNG poster, atomically.

Every writer writes into a hidden temporary file beside the target,
``.STEM.mlviz-PID-RANDOM.part.SUFFIX``, holding an ``flock`` on it while it writes. In
:meth:`Writer.close` it checks that the encoder succeeded, flushes the file to disk (fsync)
and only then renames it over the target; :meth:`Writer.abort` (or leaving the ``with``
block with an exception, Ctrl-C and SIGTERM included) deletes it. A failure (a full disk,
ffmpeg exiting with an error) is an :class:`~mlviz.errors.OutputError` and leaves an
existing target untouched. The temporary file of a process that was killed outright
(SIGKILL) is removed by the next writer in that folder, once its process is gone and
nobody holds its lock: a render still running is never touched.
"""

from __future__ import annotations

import atexit
import collections
import errno
import math
import os
import re
import secrets
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

import numpy as np

from .errors import LimitError, MlvizError, OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: stale files are judged by pid alone
    fcntl = None

#: Characters of the target's stem kept in its temporary name, so that the name fits.
TMP_STEM_CHARS = 40
_PART = re.compile(r"\..*\.mlviz-(?P<pid>[0-9]{1,10})-[0-9a-f]+\.part\.[A-Za-z0-9]+", re.S)
#: Absolute paths of this process's temporary files that are still being written.
_OWN: set[str] = set()


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
    """Base class: ``write(frame)`` for each RGB uint8 frame, then ``close()``."""

    suffix: ClassVar[str] = ""
    #: True for a poster format that keeps only the last frame.
    last_frame_only: ClassVar[bool] = False
    #: Frame rates the format can store (``min_fps`` exclusive when 0).
    min_fps: ClassVar[float] = 0.0
    max_fps: ClassVar[float] = math.inf
    fps_limit: ClassVar[str] = ""  # why, for the error message

    def __init__(self, path: str | Path, fps: float = 5.0) -> None:
        self.path = Path(path)
        self.fps = self.check_fps(fps)
        self.frames_written = 0
        self.size: tuple[int, int] | None = None  # (width, height)
        self._closed = False
        check_output_path(self.path)
        self._tmp, self._lock = _create_part(self.path, self.suffix)

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
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an (h, w, 3) uint8 frame, got {frame.shape} {frame.dtype}")
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
    # A GIF frame lasts a whole number of hundredths of a second, stored in 16 bits.
    min_fps = 0.002
    max_fps = 50.0
    fps_limit = ("GIF frames last whole hundredths of a second, so use 0.002 to 50 fps "
                 "(or .mp4 for faster)")
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
        duration = 10 * round(100 / self.fps)  # milliseconds, whole hundredths
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
    """H.264 MP4 (yuv420p) through the ffmpeg of imageio-ffmpeg, streamed frame by frame.

    Odd frame sizes are padded by one white pixel row or column (yuv420p needs even sizes).
    ffmpeg's exit status is checked: an encoder error fails the write.
    """

    suffix = ".mp4"
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
            "-i", "-", "-an", "-vcodec", "libx264", "-pix_fmt", "yuv420p", "-v", "error",
            "-crf", "20", "-preset", "veryfast", "-movflags", "+faststart",
            os.path.abspath(self._tmp),  # never taken for an option or a protocol
        ])

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


def check_fps(path: str | Path, fps: float) -> float:
    """``fps`` if the format ``path``'s suffix picks can store it (one-line error if not)."""
    return writer_class(path).check_fps(fps)


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


def check_output_path(path: str | Path) -> None:
    """Fail early, with a one-line error, if ``path`` cannot be written."""
    path = Path(path)
    writer_class(path)
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


def open_writer(path: str | Path, fps: float = 5.0) -> Writer:
    """The writer its suffix picks for ``path``, ready for frames."""
    return writer_class(path)(path, fps=fps)


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
