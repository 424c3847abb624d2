"""H.264 MP4 through ffmpeg (imageio-ffmpeg), streamed frame by frame."""

from __future__ import annotations

import collections
import errno
import os
import re
import subprocess
import threading
from fractions import Fraction

import numpy as np

from .base import Writer


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
        self._encoder = Ffmpeg([
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


class Ffmpeg:
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
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._log.append(line.decode("utf-8", "replace"))

    def send(self, frame: np.ndarray) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(frame.data)
        except OSError:  # ffmpeg exited: say why
            self._process.wait()
            raise OSError(self._reason()) from None

    def finish(self) -> None:
        """Close ffmpeg's input, wait for it, and raise OSError unless it succeeded."""
        try:
            self._process.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass  # it exited early; its status says why
        try:
            if self._process.wait() != 0:
                raise OSError(self._reason())
        finally:
            self._close_stderr()

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        try:
            self._process.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        self._process.wait()
        self._close_stderr()

    def _close_stderr(self) -> None:
        """Close the pipe of ffmpeg's messages once the thread reading it has seen its end
        (ffmpeg has exited), so no open file is left to the garbage collector."""
        self._reader.join(timeout=5)
        if not self._reader.is_alive() and self._process.stderr is not None:
            self._process.stderr.close()

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
