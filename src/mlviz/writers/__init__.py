"""Writers: stream RGB frames into an animation (GIF, MP4, WebP, APNG), a PNG poster or an
HTML player, atomically.

Writers come from the registry (:attr:`mlviz.Registry.writers`, keyed by file suffix):
mlviz's own are registered by this package's :func:`mlviz_writers` hook through the
project's ``core-writers`` entry point, exactly as a plugin's are. ``open_writer(path)``
picks one by ``path``'s suffix. An animation holds its last frame for ``hold`` seconds
(the ``mlviz render`` default is :data:`DEFAULT_HOLD`), so a looping animation shows the
result before it starts again.

Every writer writes into a hidden temporary file beside the target and moves it into place
only when it is complete (:mod:`.atomic`); a failure is an
:class:`~mlviz.errors.OutputError` and leaves an existing target untouched.

The modules, lowest first: :mod:`.atomic` (atomic files, also used by records, the cache
and the gallery), :mod:`.base` (the :class:`Writer` base), :mod:`.palette` (the GIF and
WebP palette), :mod:`.gif`, :mod:`.mp4`, :mod:`.delta` (frame differences), :mod:`.webp`,
:mod:`.apng`, :mod:`.png`, :mod:`.player` (the HTML player) and :mod:`.registry` (lookup
by suffix). Importing this package stays cheap (numpy, no Pillow, no ffmpeg, no jinja2):
encoders are imported when a file is written.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from .apng import ApngWriter
from .atomic import (
    TMP_STEM_CHARS,
    atomic_output,
    check_folder,
    create_part,
    fsync_folder,
    move_into_place,
    remove_stale_parts,
)
from .base import DEFAULT_HOLD, MAX_HOLD, Writer, check_hold
from .gif import GifWriter
from .mp4 import Mp4Writer
from .palette import (
    TRANSPARENT,
    FrameSpool,
    palette_index,
    palette_of,
    palette_picks,
    shared_palette,
    to_palette,
)
from .png import PngWriter
from .registry import (
    check_fps,
    check_output_path,
    open_writer,
    registered_writers,
    writer_class,
)
from .webp import WebpWriter

# The names 0.2 had, private ones included (tests and tools import them).
_palette_index = palette_index
_shared_palette = shared_palette
_to_palette = to_palette
_palette_of = palette_of
_palette_picks = palette_picks
_check_folder = check_folder
_create_part = create_part
_fsync_folder = fsync_folder

__all__ = [
    "CORE_WRITERS", "DEFAULT_HOLD", "MAX_HOLD", "TMP_STEM_CHARS", "TRANSPARENT", "ApngWriter",
    "FrameSpool", "GifWriter", "Mp4Writer", "PngWriter", "WebpWriter", "Writer",
    "atomic_output", "check_fps", "check_hold", "check_output_path", "move_into_place",
    "mlviz_writers", "open_writer", "registered_writers", "remove_stale_parts", "writer_class",
]

#: mlviz's own writers, registered by :func:`mlviz_writers` (the ``core-writers`` plugin).
CORE_WRITERS: tuple[type[Writer], ...] = (GifWriter, Mp4Writer, WebpWriter, ApngWriter, PngWriter)


@hookimpl
def mlviz_writers() -> list[type[Writer]]:
    """mlviz's own writers, registered exactly like a plugin's."""
    from .player import HtmlWriter  # imports jinja2 lazily itself; kept out of import time

    return [*CORE_WRITERS, HtmlWriter]
