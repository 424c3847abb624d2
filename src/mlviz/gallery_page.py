"""The gallery's page: ``OUTDIR/index.html`` and the cards other pages embed.

Built with jinja2 from ``templates/gallery.html.j2`` (autoescaped: plugin text is never
markup). :func:`load_entries` reads what an earlier build recorded in ``gallery.json``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .writers import atomic_output

TEMPLATE = "gallery.html.j2"
#: The still image each card shows until it plays.
POSTER = ".png"


@dataclass
class Entry:
    """The outcome of one job: the files written, or the error that stopped it."""

    name: str
    summary: str
    plugin: str
    command: str
    stem: str
    seconds: float = 0.0
    frames: int = 0
    size: tuple[int, int] = (960, 540)
    bytes: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    details: str = ""
    #: The render's cache key (:func:`mlviz.batch.render_key`; empty: none could be made).
    key: str = ""
    #: Whether this build kept the files of an earlier one instead of rendering.
    cached: bool = False
    #: Where it was rendered: ``host:pid`` of the worker process.
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


def load_entries(outdir: str | Path) -> list[Entry] | None:
    """The entries of the gallery built in ``outdir`` (its ``gallery.json``); None if none
    was built there or it cannot be read."""
    try:
        data = json.loads((Path(outdir) / "gallery.json").read_text(encoding="utf-8"))
        return [Entry(**{**e, **({"size": tuple(e["size"])} if "size" in e else {})})
                for e in data["entries"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically (a temporary file moved into place)."""
    with atomic_output(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_index(outdir: Path, entries: Sequence[Entry], warnings: Sequence[str],
                seconds: float) -> Path:
    """Write ``OUTDIR/index.html`` atomically and return its path."""
    path = Path(outdir) / "index.html"
    write_text(path, render_index(entries, warnings, seconds))
    return path


def size_text(n: int) -> str:
    """A file size for people: ``12 KB``, ``3.4 MB``."""
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{max(1, round(n / 1024))} KB"


def render_index(entries: Sequence[Entry], warnings: Sequence[str], seconds: float) -> str:
    """The gallery page: one card per algorithm; hover or click a poster to play it."""
    return str(_template().render(
        page=True, items=[_card(e, "") for e in entries], warnings=list(warnings),
        summary=summary_text(entries, seconds), style=PLAYER_STYLE, script=PLAYER_SCRIPT))


def summary_text(entries: Sequence[Entry], seconds: float) -> str:
    """What a build did, for the page's heading: how many algorithms it rendered and in
    how long, how many it kept from the last build (cached), how many failed."""
    failed = sum(not e.ok for e in entries)
    kept = sum(e.ok and e.cached for e in entries)
    rendered = len(entries) - failed - kept

    def algorithms(n: int) -> str:
        return f"{n} algorithm{'s' * (n != 1)}"

    if rendered:
        took = f"{seconds:.1f}" if seconds < 10 else f"{seconds:.0f}"
        parts = [f"{algorithms(rendered)} rendered in {took} s"]
        if kept:
            parts.append(f"{kept} up to date (cached)")
    elif kept:
        parts = [f"{algorithms(kept)} up to date (cached), nothing rendered"]
    else:
        parts = ["nothing rendered"]
    if failed:
        parts.append(f"{failed} failed")
    return ", ".join(parts)


def render_cards(entries: Sequence[Entry], prefix: str = "", heading: str = "h2") -> str:
    """The cards of the page, one per entry, their files' URLs prefixed with ``prefix``
    (``"gallery/"`` from a page one folder up). Each poster plays the entry's first
    animation format on hover or click; every format is linked with its size. The play
    control is a bar under the poster (``span.play``), so it hides no part of the picture."""
    cards = _template().render(page=False, items=[_card(e, prefix) for e in entries],
                               heading=heading)
    return str(cards).strip("\n")


def render_embed(outdir: str | Path, prefix: str) -> str | None:
    """The gallery in ``outdir`` as an HTML fragment for another page (style, cards,
    script), its files reached through ``prefix``; None if no gallery was built there."""
    entries = load_entries(outdir)
    if entries is None:
        return None
    return (f"<style>{PLAYER_STYLE}</style>\n<div class=\"mlviz-gallery\">\n"
            f"{render_cards(entries, prefix, heading='h3')}\n</div>\n"
            f"<script>{PLAYER_SCRIPT}</script>")


def _card(entry: Entry, prefix: str) -> dict[str, Any]:
    """What the template shows of one entry."""
    card: dict[str, Any] = {
        "ok": entry.ok, "name": entry.name, "summary": entry.summary, "plugin": entry.plugin,
        "command": entry.command, "stem": entry.stem, "error": entry.error or "",
        "details": entry.details,
    }
    if entry.ok:
        url = prefix + entry.stem
        animations = [s for s in entry.bytes if s != POSTER] or [POSTER]
        card.update(
            poster=f"{url}{POSTER}", anim=f"{url}{animations[0]}", width=entry.size[0],
            height=entry.size[1], seconds=entry.seconds, frames=entry.frames,
            links=[(s[1:].upper(), f"{url}{s}", size_text(n)) for s, n in entry.bytes.items()],
        )
    return card


@functools.cache
def _template() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    return environment.get_template(TEMPLATE)


#: The cards' look; every rule is scoped to ``.mlviz-gallery``, so another page can embed it.
PLAYER_STYLE = """
.mlviz-gallery { display: grid; gap: 1.5rem;
                 grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); }
.mlviz-gallery .card { background: white; border: 1px solid #ddd; border-radius: 8px;
                       padding: 0.8rem; }
.mlviz-gallery .card h2, .mlviz-gallery .card h3 { font-size: 1.15rem; margin: 0.6rem 0 0.2rem; }
.mlviz-gallery .summary { margin: 0.2rem 0 0.5rem; }
.mlviz-gallery .player { display: block; width: 100%; padding: 0; border: 0; background: none;
                         cursor: pointer; font: inherit; color: inherit; text-align: left; }
.mlviz-gallery .player img { display: block; width: 100%; height: auto; border-radius: 4px; }
/* The play control: a bar under the poster, never over the picture. */
.mlviz-gallery .player .play { display: flex; align-items: center; gap: 0.45rem;
    margin-top: 0.4rem; padding: 0.2rem 0.6rem; border: 1px solid #ddd; border-radius: 4px;
    background: #f7f7f7; color: #333; font-size: 0.85rem; line-height: 1.4; }
.mlviz-gallery .player .play::before { content: "▶"; width: 1rem; text-align: center; }
.mlviz-gallery .player .play::after { content: "play"; }
.mlviz-gallery .player.playing .play::before { content: "❚❚"; font-size: 0.7rem; }
.mlviz-gallery .player.playing .play::after { content: "playing (click to stop)"; }
.mlviz-gallery .player:hover .play { background: #ececec; }
.mlviz-gallery .player:focus-visible { outline: 2px solid #0072B2; outline-offset: 2px; }
.mlviz-gallery .command { background: #f3f3f3; padding: 0.4rem 0.6rem; border-radius: 4px;
                          white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.3rem 0; }
.mlviz-gallery .meta { color: #666; font-size: 0.85rem; margin: 0.3rem 0 0; }
.mlviz-gallery .failed { border-color: #d62728; }
.mlviz-gallery .error { background: #fdecea; color: #8b1a1a; padding: 0.6rem;
                        border-radius: 4px; }
.mlviz-gallery .error pre { white-space: pre-wrap; margin: 0.3rem 0; }
"""

#: Hover (with a mouse) or click a poster to play its animation; leave or click to stop.
PLAYER_SCRIPT = """
for (const button of document.querySelectorAll(".mlviz-gallery button.player")) {
  const img = button.querySelector("img");
  const play = () => { img.src = button.dataset.anim; button.classList.add("playing"); };
  const stop = () => { img.src = button.dataset.poster; button.classList.remove("playing"); };
  button.addEventListener("pointerenter", (e) => { if (e.pointerType === "mouse") play(); });
  button.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse") stop(); });
  button.addEventListener("click", () => button.classList.contains("playing") ? stop() : play());
}
"""
