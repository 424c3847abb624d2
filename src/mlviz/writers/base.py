"""The :class:`Writer` base class: RGB frames in, one file out, atomically.

Only low-level modules are imported here (errors, and the atomic files of this package), so
that the plugin registry can import the base without the encoders.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from ..errors import LimitError, MlvizError, OutputError
from .atomic import check_folder, create_part, fsync_folder, move_into_place, release_part

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


class FrameEncoder(Protocol):
    """Encodes a run's frames in order (see :meth:`Writer.frame_encoder`)."""

    def encode(self, frame: np.ndarray) -> Any: ...


def check_chapters(chapters: Sequence[tuple[int, str, str]] | None
                   ) -> tuple[tuple[int, str, str], ...] | None:
    """``chapters`` as a tuple of ``(first frame index, title, sentence)``, their first
    frames increasing from 0 up; a one-line :class:`LimitError` otherwise."""
    if chapters is None:
        return None
    if isinstance(chapters, (str, bytes)):
        raise TypeError("chapters must be a sequence of (first frame, title, sentence)")
    out: list[tuple[int, str, str]] = []
    for item in chapters:
        try:
            start, title, sentence = item
        except (TypeError, ValueError):
            raise LimitError(f"a chapter is (first frame, title, sentence), got {item!r}") from None
        if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
            raise LimitError(f"a chapter's first frame is a whole number >= 0, got {start!r}")
        if out and start <= out[-1][0]:
            raise LimitError(f"chapters must start at increasing frames: {start} after "
                             f"{out[-1][0]}")
        out.append((int(start), str(title), str(sentence)))
    return tuple(out)


class Writer:
    """Base class: ``write(frame)`` for each RGB uint8 frame, then ``close()``.

    ``fps`` frames a second; the last frame stays on screen ``max(1 / fps, hold)`` seconds
    (formats without time, like the PNG poster, ignore ``hold``). ``captions`` is one text
    per frame to be written (e.g. "epoch 12"); writers that cannot show text ignore it.
    ``chapters`` is ``(first frame index, title, sentence)`` per chapter of the story, in
    order (the HTML player marks them and shows the playing one's sentence); writers that
    cannot show them ignore them.
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
                 captions: Sequence[str] | None = None,
                 chapters: Sequence[tuple[int, str, str]] | None = None) -> None:
        self.path = Path(path)
        self.fps = self.check_fps(fps)
        self.hold = check_hold(hold)
        if isinstance(captions, (str, bytes)):
            raise TypeError("captions must be a sequence of texts, one per frame, not a text")
        self.captions: tuple[str, ...] | None = (
            None if captions is None else tuple(str(c) for c in captions))
        self.chapters = check_chapters(chapters)
        self.frames_written = 0
        self.size: tuple[int, int] | None = None  # (width, height)
        self._closed = False
        self.check_available()
        check_folder(self.path)
        self._tmp, self._lock = create_part(self.path, self.suffix)

    @property
    def last_seconds(self) -> float:
        """How long the last frame is shown: ``max(1 / fps, hold)`` seconds."""
        return max(1.0 / self.fps, self.hold)

    def caption(self, index: int) -> str:
        """The caption of frame ``index`` ("" when none was given)."""
        if self.captions is None or not 0 <= index < len(self.captions):
            return ""
        return self.captions[index]

    def chapter(self, index: int) -> tuple[int, str, str] | None:
        """The chapter playing at frame ``index`` (None before the first, or with none)."""
        playing = None
        for chapter in self.chapters or ():
            if chapter[0] > index:
                break
            playing = chapter
        return playing

    def frames_wanted_first(self, count: int) -> list[int]:
        """Positions, among the ``count`` frames to be written, of frames this writer wants
        handed to :meth:`prime` before the first ``write`` (none by default)."""
        return []

    def prime(self, frames: Sequence[np.ndarray]) -> None:
        """Take the frames at :meth:`frames_wanted_first`, in that order, before the first
        ``write`` (e.g. to build a palette); nothing to do by default."""
        if self.frames_written:
            raise RuntimeError("prime() comes before the first frame is written")

    def frame_encoder(self) -> FrameEncoder | None:
        """An object whose ``encode(frame)`` does this writer's work on one frame, given
        the frames before it in order, away from the writer (in a worker process: see
        :mod:`mlviz.parallel`); :meth:`write_encoded` takes what it returns. None (the
        default): frames are encoded here, by :meth:`write`."""
        return None

    def write_encoded(self, encoded: Any) -> None:
        """Add one frame that a :meth:`frame_encoder` encoded (in place of :meth:`write`)."""
        if self._closed:
            raise RuntimeError("writer is closed")
        try:
            if self.size is None:
                size = getattr(self, "_frame_size", None)
                if size is None:
                    raise RuntimeError("write_encoded() needs prime() first")
                self.size = size
                self._open(size)
            self._write_encoded(encoded)
        except OSError as exc:
            self.abort()
            raise self._failure(exc) from exc
        self.frames_written += 1

    def _write_encoded(self, encoded: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no frame encoder")

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
        fsync_folder(self.path.parent)
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
        lock, self._lock = self._lock, None
        release_part(self._tmp, lock)

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
