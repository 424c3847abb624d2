"""The HTML player: one self-contained page (or a Jupyter cell) that plays a run's frames.

``mlviz render NAME -o NAME.html`` writes it through :class:`HtmlWriter`; a prepared run
displays as it in Jupyter (:func:`notebook_player`). The page loads nothing from the
network: every frame is in it, in base64, stored as the GIF stores it: the run's faithful
256-colour palette (:mod:`.palette`, a local one for a frame that does not fit), each
frame the rectangle that changed since the one before, its unchanged pixels transparent,
coded as lossless WebP (a little smaller than the GIF's LZW, see :mod:`.webp`). The page
composes them on a canvas. A frame identical to the one before stores nothing.

Scrubbing stays instant through key frames: showing frame i draws the key frame at or
before it, then the rectangles after it (each a ``drawImage`` of a picture decoded when
the page loaded). A new key frame comes once the rectangles since the last one cover
:data:`KEY_AREA` whole frames, or after :data:`KEY_EVERY` frames: any frame is then at
most about five frames' worth of pixels away (a few milliseconds of drawing), while a run
whose frames change little (a moving point, a growing curve) keeps one or two key frames,
which are most of a page's bytes. Measured with benchmarks/players.py (default renders,
base64 included), the page of kmeans is 1.07 times its GIF and linear-regression's 1.21;
storing every frame whole as lossy WebP (mlviz 0.2) made them 3.6 and 21 times. A
frame's changes are stored as one rectangle per band of changed columns (:func:`bands`):
one rectangle around all of them spanned whole figures and, for linear-regression, cost
2.5 times the GIF.

A page must stay within :data:`MAX_BYTES`; a run that would not is refused with one line
that says how to get under it (fewer or smaller frames, or a video), never cut short. A
run sure to be over it is refused before a frame is drawn (:func:`check_planned`): a
frame of lines and text, stored losslessly, takes bytes in proportion to its side
(√(width × height)), not its area, and at least :data:`FRAME_BYTES_LEAST` per pixel of
side; others are refused while drawing, once the page passes the limit.

The page comes from the template ``templates/player.html.j2``, rendered by jinja2 with
autoescaping; the frames, captions, chapters and timing reach its script as JSON
(``|tojson``). jinja2 and Pillow are imported only when a player is made.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import math
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import LimitError
from .base import Writer, check_chapters
from .palette import (
    TRANSPARENT,
    Quantizer,
    palette_image,
    palette_of,
    palette_picks,
    same_pixels,
    transparent_where,
)

if TYPE_CHECKING:
    from ..renderer import Renderer

#: The most bytes a player may take (page or notebook cell): 25 MiB.
MAX_BYTES = 25 * 2**20
#: A key frame once the rectangles since the last one cover this many whole frames...
KEY_AREA = 4.0
#: ...or after this many frames (see the module's docstring).
KEY_EVERY = 100
#: Frames whose colours build the palette, spread evenly over the run.
PALETTE_SAMPLES = 8
#: libwebp's lossless effort (as the WebP writer's): within 3 % of the smallest, fast.
WEBP_QUALITY = 50
WEBP_METHOD = 2
#: The speeds the player offers, as factors of the run's frame rate.
SPEEDS = (0.25, 0.5, 1, 2, 4)
#: Bytes of markup, style and script around the frames (an upper bound for the budget).
PAGE_BYTES = 20 * 1024
TEMPLATE = "player.html.j2"
#: Bytes a frame takes in a page, per pixel of its side (√(width × height)), base64
#: included: at least (half the fewest of any built-in run, optimizers' 4.1 at 1280x720
#: and 3.9 at 2560x1440) and typically (kmeans: 20.4 at 1280x720, 21.8 at 3840x2160; the
#: built-ins 4 to 44). Measured over whole default runs (key frames included).
FRAME_BYTES_LEAST = 2.0
FRAME_BYTES_TYPICAL = 20.0


def _mb(size: float) -> str:
    return f"{size / 2**20:.1f} MB"


class FrameStore:
    """Frames stored as a key frame and the changed rectangles of later frames (lossless
    WebP on the run's palette, in base64), under a byte budget; a new key frame after
    ``key_every`` frames, or once the rectangles since the last cover ``key_area`` frames.

    ``prime(frames)`` builds the palette from frames spread over the run
    (:meth:`frames_wanted_first`); without it, the first frame added builds it. ``add``
    raises :class:`~mlviz.errors.LimitError` as soon as the frames, their captions and the
    page around them would pass ``max_bytes``. ``name`` and ``total`` (frames expected)
    only make that message precise.
    """

    def __init__(self, max_bytes: int | None = None, *, name: str = "the player",
                 total: int | None = None, captions: Sequence[str] = (),
                 key_every: int = KEY_EVERY, key_area: float = KEY_AREA) -> None:
        self.max_bytes = MAX_BYTES if max_bytes is None else max_bytes
        self.name = name
        self.total = total
        self.key_every = key_every
        self.key_area = key_area
        self.images: list[str] = []  # base64 WebP: key frames and rectangles
        #: Per frame: [1 for a key frame else 0, then image, left, top per rectangle] (a
        #: key frame: one image at 0, 0; a frame like the one before: [0]).
        self.sequence: list[list[int]] = []
        self._last_key = 0
        self.size: tuple[int, int] | None = None  # (width, height)
        self._quantize: Quantizer | None = None
        self._previous: tuple[np.ndarray, Any] | None = None
        self._since_key = 0  # pixels of the rectangles since the last key frame
        self._image_bytes = 0
        self._fixed = PAGE_BYTES + len(json.dumps(list(captions)))

    @property
    def nbytes(self) -> int:
        """The page's size so far, at most (frames, captions and the page around them)."""
        return self._image_bytes + self._fixed + 24 * len(self.sequence)

    @staticmethod
    def frames_wanted_first(count: int) -> list[int]:
        """Positions of the frames :meth:`prime` takes (the palette's samples)."""
        return palette_picks(count, PALETTE_SAMPLES)

    def prime(self, frames: Sequence[np.ndarray]) -> None:
        """Build the palette from ``frames`` (before the first :meth:`add`)."""
        if self.sequence:
            raise RuntimeError("prime() comes before the first frame is added")
        self._quantize = Quantizer(palette_of([np.asarray(f)[..., :3] for f in frames]))

    def add(self, frame: np.ndarray) -> None:
        """Store one RGB frame (the rectangles that changed, or a key frame) and check the
        budget."""
        frame = np.ascontiguousarray(frame[..., :3])
        if self._quantize is None:
            self.prime([frame])
        assert self._quantize is not None
        self.size = (frame.shape[1], frame.shape[0])
        indices, palette = self._quantize(frame)
        previous, self._previous = self._previous, (indices, palette)
        if previous is None or len(self.sequence) - self._last_key >= self.key_every or \
                self._since_key >= self.key_area * indices.size:
            self._key(indices, palette)
            return
        same = same_pixels(*previous, indices, palette)
        entry = [0]
        for box in bands(~same):
            part = transparent_where(indices, same, box, palette)
            part.info["transparency"] = TRANSPARENT
            entry += [self._image(_webp(part.convert("RGBA"))), box[0], box[1]]
            self._since_key += (box[2] - box[0]) * (box[3] - box[1])
        self.sequence.append(entry)
        self.check()

    def _key(self, indices: np.ndarray, palette) -> None:
        self._last_key, self._since_key = len(self.sequence), 0
        image = self._image(_webp(palette_image(indices, palette).convert("RGB")))
        self.sequence.append([1, image, 0, 0])
        self.check()

    def _image(self, encoded: str) -> int:
        self.images.append(encoded)
        self._image_bytes += len(encoded)
        return len(self.images) - 1

    def poster(self) -> str:
        """The last frame, whole (base64 WebP): made a key frame if it is not one (its
        rectangles, the last images stored, are dropped for it)."""
        if not self.sequence or self._previous is None:
            raise ValueError("a player needs at least one frame")
        last = self.sequence[-1]
        if not last[0]:
            for image in sorted(last[1::3], reverse=True):
                if image == len(self.images) - 1:
                    self._image_bytes -= len(self.images.pop())
            self.sequence.pop()
            self._key(*self._previous)
        return self.images[self.sequence[-1][1]]

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
                 fewer: int, *, reason: str | None = None) -> None:
        self.size, self.limit, self.done, self.total, self.fewer = size, limit, done, total, fewer
        where = f"{done} of {total}" if total else f"{done}"
        self.reason = reason or (f"{name} would be over the {_mb(limit)} player size limit "
                                 f"({_mb(size)} after {where} frames)")
        super().__init__(f"{self.reason}: {_remedy(fewer)}")


def _remedy(fewer: int) -> str:
    return (f"draw fewer frames (--frames {fewer}) or smaller ones (a smaller --size or "
            "--dpi), or write a video (.mp4)")


def estimate_bytes(frames: int, width: int, height: int,
                   per_side: float = FRAME_BYTES_LEAST) -> int:
    """The bytes of a player of ``frames`` frames of ``width`` x ``height`` pixels, at
    ``per_side`` bytes a frame per pixel of side (the least by default: see
    :data:`FRAME_BYTES_LEAST`), with the page around them."""
    return PAGE_BYTES + int(frames * per_side * math.sqrt(width * height))


def check_planned(name: str, frames: int, width: int, height: int,
                  max_bytes: int | None = None) -> None:
    """:class:`PlayerTooLarge` if a player of ``frames`` frames of ``width`` x ``height``
    would be over ``max_bytes`` (:data:`MAX_BYTES`) even at the least bytes a frame takes;
    called before any frame is drawn."""
    limit = MAX_BYTES if max_bytes is None else max_bytes
    least = estimate_bytes(frames, width, height)
    if least <= limit:
        return
    typical = estimate_bytes(frames, width, height, FRAME_BYTES_TYPICAL)
    fewer = max(1, int(0.9 * frames * (limit - PAGE_BYTES) / (typical - PAGE_BYTES)))
    reason = (f"{name} would be over the {_mb(limit)} player size limit ({frames} frames "
              f"of {width}x{height}: at least {_mb(least)}, typically {_mb(typical)})")
    raise PlayerTooLarge(name, least, limit, 0, frames, fewer, reason=reason)


def bands(mask: np.ndarray, gap: int = 32) -> list[tuple[int, int, int, int]]:
    """Rectangles (left, top, right, bottom) covering the true pixels of ``mask``: one per
    run of columns holding some, runs closer than ``gap`` pixels joined, each cut to the
    rows it needs. Panels change apart from one another: a rectangle each keeps most
    unchanged pixels out (fewer to compose, and to store)."""
    columns = np.flatnonzero(mask.any(axis=0))
    if columns.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(columns) > gap)
    starts = np.concatenate([[columns[0]], columns[breaks + 1]])
    ends = np.concatenate([columns[breaks], [columns[-1]]]) + 1
    boxes = []
    for left, right in zip(starts.tolist(), ends.tolist()):
        rows = np.flatnonzero(mask[:, left:right].any(axis=1))
        boxes.append((left, int(rows[0]), right, int(rows[-1]) + 1))
    return boxes


def _webp(image) -> str:
    """A Pillow image as lossless WebP, in base64."""
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", lossless=True, quality=WEBP_QUALITY, method=WEBP_METHOD)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode_webp(frame: np.ndarray) -> bytes:
    """One RGB uint8 frame as a lossless WebP image on its own palette (the poster)."""
    quantize = Quantizer(palette_of([frame[..., :3]], step=1))
    indices, palette = quantize(np.ascontiguousarray(frame[..., :3]))
    return base64.b64decode(_webp(palette_image(indices, palette).convert("RGB")))


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
    chapters: Sequence[tuple[int, str, str]] | None = None,
) -> str:
    """The player for the frames in ``store``: a whole page, or a fragment for a notebook.

    ``captions`` is one text per frame (missing ones are empty); ``chapters`` is
    ``(first frame, title, sentence)`` per chapter. The last frame is the poster, shown
    before play (and where scripts do not run) and held ``last_seconds`` before the
    animation loops.
    """
    count = len(store.sequence)
    if count == 0:
        raise ValueError("a player needs at least one frame")
    texts = [str(c) for c in (captions or ())][:count]
    texts += [""] * (count - len(texts))
    marks = [list(c) for c in check_chapters(chapters) or () if c[0] < count]
    poster = store.poster()
    images: list[str | None] = list(store.images)
    images[store.sequence[-1][1]] = None  # the script takes it from the poster <img>
    assert store.size is not None
    width, height = store.size
    page = _environment().get_template(TEMPLATE).render(
        standalone=standalone,
        id=f"mlviz-player-{secrets.token_hex(6)}",
        title=title,
        mime="image/webp",
        width=width,
        height=height,
        poster=poster,
        poster_index=count - 1,
        poster_caption=texts[-1],
        speeds=SPEEDS,
        note="",
        chapters=marks,
        data={"images": images, "sequence": store.sequence, "captions": texts,
              "chapters": marks, "fps": fps, "last_seconds": last_seconds,
              "mime": "image/webp"},
    )
    store.check(len(page.encode()))
    return page


def poster_html(frame: np.ndarray, caption: str, *, title: str, note: str) -> str:
    """One frame as a picture with its caption and a one-line ``note``; no player."""
    encoded = base64.b64encode(encode_webp(frame)).decode("ascii")
    return _environment().get_template(TEMPLATE).render(
        standalone=False, id=f"mlviz-player-{secrets.token_hex(6)}", title=title,
        mime="image/webp", width=frame.shape[1], height=frame.shape[0], poster=encoded,
        poster_index=0, poster_caption=caption, speeds=SPEEDS, note=note, chapters=[],
        data={},
    )


class HtmlWriter(Writer):
    """A self-contained HTML page that plays the animation: play and pause, a frame
    slider, ← → and space keys, speed, loop, a caption per frame, chapters (marked on the
    slider, their sentence shown, PageUp/PageDown and [ ] to jump), the last frame as the
    poster before play, held ``hold`` seconds before the animation loops.

    The page is refused (:class:`~mlviz.errors.LimitError`, while the frames are still
    being drawn, or before with :meth:`check_planned`) if it would pass ``max_bytes``
    (:data:`MAX_BYTES` by default).
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
        self._limit = self.max_bytes if max_bytes is None else max_bytes
        self._store: FrameStore | None = FrameStore(
            self._limit, name=self.path.name,
            total=None if self.captions is None else len(self.captions),
            captions=self.captions or ())

    @classmethod
    def check_planned(cls, path: str | Path, frames: int, size: tuple[int, int]) -> None:
        """Refuse, before drawing, a page of ``frames`` frames of ``size`` (width, height)
        sure to be over :attr:`max_bytes` (:func:`check_planned`)."""
        check_planned(Path(path).name, frames, *size, max_bytes=cls.max_bytes)

    def frames_wanted_first(self, count: int) -> list[int]:
        return FrameStore.frames_wanted_first(count)

    def prime(self, frames: Sequence[np.ndarray]) -> None:
        super().prime(frames)
        assert self._store is not None
        self._store.prime(frames)

    def _write(self, frame: np.ndarray) -> None:
        assert self._store is not None
        self._store.add(frame)

    def _finish(self) -> None:
        assert self._store is not None
        page = player_html(self._store, self.captions, fps=self.fps,
                           last_seconds=self.last_seconds, title=self.title, standalone=True,
                           chapters=self.chapters)
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
    chapters: Sequence[tuple[int, str, str]] | None = None,
    progress: bool | None = None,
) -> str:
    """The player markup for a notebook cell: every frame of ``renderer``.

    ``progress`` shows a drawing bar (a widget in Jupyter, through ``tqdm.auto``); None
    shows it when running in a Jupyter kernel. A run whose player would pass ``max_bytes``
    (:data:`MAX_BYTES`) shows its last frame and one line saying why, instead of failing.
    """
    from ..progress import bar

    count = renderer.n_frames
    store = FrameStore(max_bytes, name="This run's player", total=count,
                       captions=captions or ())
    last_seconds = max(1.0 / fps, hold)
    if progress is None:
        progress = "ipykernel" in sys.modules
    first = store.frames_wanted_first(count) if count > 1 else []
    try:
        check_planned(store.name, count, *renderer.frame_size, max_bytes=store.max_bytes)
        with bar(count, desc="drawing", unit="frame", enabled=progress) as drawing, \
                renderer.draw_in_order(range(count), first) as drawn:
            ahead = {position: frame for position, frame in (next(drawn) for _ in first)}
            if first:
                store.prime([ahead[position] for position in first])
            for position in range(count):
                store.add(ahead.pop(position) if position in ahead else next(drawn)[1])
                drawing.update()
        return player_html(store, captions, fps=fps, last_seconds=last_seconds,
                           title=title, standalone=False, chapters=chapters)
    except PlayerTooLarge as exc:
        last = count - 1
        frame = next(iter(renderer.frames(indices=[last])))
        caption = captions[last] if captions and len(captions) > last else ""
        note = (f"{exc.reason}; showing the last frame. Draw fewer frames, e.g. "
                f"prepared.with_frames({exc.fewer}), or smaller ones (a lower dpi).")
        return poster_html(frame, caption, title=title, note=note)
