"""The PNG poster: the last frame alone."""

from __future__ import annotations

import numpy as np

from .base import Writer


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
