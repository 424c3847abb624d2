"""The HTML player: one self-contained page (or a Jupyter cell) that plays a run's frames.

``mlviz render NAME -o NAME.html`` writes it through :class:`HtmlWriter`; a prepared run
displays as it in Jupyter (:func:`notebook_player`). The page loads nothing from the
network: every frame is in it, as a lossy WebP image (quality :data:`WEBP_QUALITY`) in
base64, and a frame identical to an earlier one is stored once. Measured on kmeans and
vanishing-gradients frames, WebP takes 40 to 50 % of PNG's bytes and 55 to 75 % of JPEG's
(quality 85, which also blurs text), and encodes a little faster than PNG. A page must
stay within :data:`MAX_BYTES`; a run that would not is refused with one line that says
how to get under it (fewer or smaller frames), never cut short.

The page comes from the template ``templates/player.html.j2``, rendered by jinja2 with
autoescaping; the frames, captions and timing reach its script as JSON (``|tojson``).
jinja2 and Pillow are imported only when a player is made.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..errors import LimitError
from .base import Writer

if TYPE_CHECKING:
    from ..renderer import Renderer

#: The most bytes a player may take (page or notebook cell): 25 MiB.
MAX_BYTES = 25 * 2**20
#: Lossy WebP quality of the frames (0 to 100).
WEBP_QUALITY = 90
#: WebP encoder effort (0 to 6): 2 is as fast as a PNG encode, 4 and more gain about 2 %.
WEBP_METHOD = 2
#: The speeds the player offers, as factors of the run's frame rate.
SPEEDS = (0.25, 0.5, 1, 2, 4)
#: Bytes of markup, style and script around the frames (an upper bound for the budget).
PAGE_BYTES = 16 * 1024
TEMPLATE = "player.html.j2"


def _mb(size: float) -> str:
    return f"{size / 2**20:.1f} MB"


class FrameStore:
    """Frames encoded as WebP and kept in base64, under a byte budget.

    ``add`` raises :class:`~mlviz.errors.LimitError` as soon as the frames, their
    captions and the page around them would pass ``max_bytes``. ``name`` and ``total``
    (frames expected) only make that message precise.
    """

    def __init__(self, max_bytes: int | None = None, *, name: str = "the player",
                 total: int | None = None, captions: Sequence[str] = ()) -> None:
        self.max_bytes = MAX_BYTES if max_bytes is None else max_bytes
        self.name = name
        self.total = total
        self.images: list[str] = []  # base64 WebP, each distinct frame once
        self.sequence: list[int] = []  # frame -> index into images
        self.size: tuple[int, int] | None = None  # (width, height)
        self._seen: dict[bytes, int] = {}
        self._image_bytes = 0
        self._fixed = PAGE_BYTES + len(json.dumps(list(captions)))

    @property
    def nbytes(self) -> int:
        """The page's size so far, at most (frames, captions and the page around them)."""
        return self._image_bytes + self._fixed + 8 * len(self.sequence)

    def add(self, frame: np.ndarray) -> None:
        """Encode one RGB frame (an identical frame is stored once) and check the budget."""
        key = hashlib.blake2b(np.ascontiguousarray(frame).data, digest_size=16).digest()
        self.size = (frame.shape[1], frame.shape[0])
        if key not in self._seen:
            self._seen[key] = len(self.images)
            encoded = base64.b64encode(encode_webp(frame)).decode("ascii")
            self.images.append(encoded)
            self._image_bytes += len(encoded)
        self.sequence.append(self._seen[key])
        self.check()

    def check(self, size: int | None = None) -> None:
        """:class:`PlayerTooLarge` if the page (``size`` bytes, else as estimated so far)
        would be over the budget."""
        size = self.nbytes if size is None else size
        if size <= self.max_bytes:
            return
        done = len(self.sequence)
        per_frame = max(self._image_bytes / max(done, 1), 1.0)
        fewer = max(1, int(0.9 * (self.max_bytes - self._fixed) / per_frame))
        raise PlayerTooLarge(self.name, size, self.max_bytes, done, self.total, fewer)


class PlayerTooLarge(LimitError):
    """A player would be over its size budget; says how to get under it."""

    def __init__(self, name: str, size: int, limit: int, done: int, total: int | None,
                 fewer: int) -> None:
        self.size, self.limit, self.done, self.total, self.fewer = size, limit, done, total, fewer
        where = f"{done} of {total}" if total else f"{done}"
        self.reason = (f"{name} would be over the {_mb(limit)} player size limit "
                       f"({_mb(size)} after {where} frames)")
        super().__init__(f"{self.reason}: draw fewer frames (--frames {fewer}) or smaller "
                         "ones (a lower --dpi)")


def encode_webp(frame: np.ndarray) -> bytes:
    """One RGB uint8 frame as a lossy WebP image (:data:`WEBP_QUALITY`)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="WEBP", quality=WEBP_QUALITY,
                                method=WEBP_METHOD)
    return buffer.getvalue()


@functools.cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def player_html(
    store: FrameStore,
    captions: Sequence[str] | None,
    *,
    fps: float,
    last_seconds: float,
    title: str,
    standalone: bool,
) -> str:
    """The player for the frames in ``store``: a whole page, or a fragment for a notebook.

    ``captions`` is one text per frame (missing ones are empty); the last frame is the
    poster, shown before play and held ``last_seconds`` before the animation loops.
    """
    count = len(store.sequence)
    if count == 0:
        raise ValueError("a player needs at least one frame")
    texts = [str(c) for c in (captions or ())][:count]
    texts += [""] * (count - len(texts))
    poster = store.sequence[-1]
    frames: list[str | None] = list(store.images)
    frames[poster] = None  # the script takes it from the poster <img>: stored once
    width, height = store.size
    page = _environment().get_template(TEMPLATE).render(
        standalone=standalone,
        id=f"mlviz-player-{secrets.token_hex(6)}",
        title=title,
        mime="image/webp",
        width=width,
        height=height,
        poster=store.images[poster],
        poster_index=count - 1,
        poster_caption=texts[-1],
        speeds=SPEEDS,
        note="",
        data={"frames": frames, "sequence": store.sequence, "captions": texts,
              "fps": fps, "last_seconds": last_seconds, "mime": "image/webp"},
    )
    store.check(len(page.encode()))
    return page


def poster_html(frame: np.ndarray, caption: str, *, title: str, note: str) -> str:
    """One frame as a picture with its caption and a one-line ``note``; no player."""
    encoded = base64.b64encode(encode_webp(frame)).decode("ascii")
    return _environment().get_template(TEMPLATE).render(
        standalone=False, id=f"mlviz-player-{secrets.token_hex(6)}", title=title,
        mime="image/webp", width=frame.shape[1], height=frame.shape[0], poster=encoded,
        poster_index=0, poster_caption=caption, speeds=SPEEDS, note=note, data={},
    )


class HtmlWriter(Writer):
    """A self-contained HTML page that plays the animation: play and pause, a frame
    slider, ← → and space keys, speed, loop, a caption per frame, the last frame as the
    poster before play, held ``hold`` seconds before the animation loops.

    The page is refused (:class:`~mlviz.errors.LimitError`, while the frames are still
    being drawn) if it would pass ``max_bytes`` (:data:`MAX_BYTES` by default).
    """

    suffix = ".html"
    description = "a web page that plays the animation (slider, keys, speed, captions)"
    # Browsers repaint at most about 60 times a second; 100 s a frame is plenty slow.
    min_fps = 0.01
    max_fps = 60.0
    fps_limit = "a page shows 0.01 to 60 frames a second"
    max_bytes: ClassVar[int] = MAX_BYTES

    def __init__(self, path: str | Path, fps: float = 5.0, *, hold: float = 0.0,
                 captions: Sequence[str] | None = None, title: str | None = None,
                 max_bytes: int | None = None,
                 chapters: Sequence[tuple[int, str, str]] | None = None) -> None:
        super().__init__(path, fps, hold=hold, captions=captions, chapters=chapters)
        self.title = self.path.stem if title is None else title
        if max_bytes is not None:
            self.max_bytes = max_bytes

    def _open(self, size: tuple[int, int]) -> None:
        self._store = FrameStore(self.max_bytes, name=self.path.name,
                                 total=None if self.captions is None else len(self.captions),
                                 captions=self.captions or ())

    def _write(self, frame: np.ndarray) -> None:
        self._store.add(frame)

    def _finish(self) -> None:
        page = player_html(self._store, self.captions, fps=self.fps,
                           last_seconds=self.last_seconds, title=self.title, standalone=True)
        with open(self._tmp, "w", encoding="utf-8") as out:
            out.write(page)

    def _cleanup(self) -> None:
        self._store = None


def notebook_player(
    renderer: Renderer,
    captions: Sequence[str] | None,
    *,
    fps: float,
    hold: float = 0.0,
    title: str = "",
    max_bytes: int | None = None,
) -> str:
    """The player markup for a notebook cell: every frame of ``renderer``.

    A run whose player would pass ``max_bytes`` (:data:`MAX_BYTES`) shows its last frame
    and one line saying why, instead of failing.
    """
    store = FrameStore(max_bytes, name="This run's player", total=renderer.run.n_frames,
                       captions=captions or ())
    last_seconds = max(1.0 / fps, hold)
    try:
        for frame in renderer.frames():
            store.add(frame)
        return player_html(store, captions, fps=fps, last_seconds=last_seconds,
                           title=title, standalone=False)
    except PlayerTooLarge as exc:
        last = renderer.run.n_frames - 1
        frame = next(iter(renderer.frames(indices=[last])))
        caption = captions[last] if captions and len(captions) > last else ""
        note = (f"{exc.reason}; showing the last frame. Draw fewer frames, e.g. "
                f"prepared.with_frames({exc.fewer}), or smaller ones (a lower dpi).")
        return poster_html(frame, caption, title=title, note=note)
