"""``mlviz gallery``: render every registered algorithm and write a browsable ``index.html``.

Each algorithm is trained and drawn once, in its own worker process (two at a time by
default, one per core); its frames go to a GIF, an MP4 and a PNG poster together, through
the same atomic writers as ``mlviz render``. One algorithm failing is reported on stderr and
in the page; the others still render. ``OUTDIR/gallery.json`` keeps every entry (times,
sizes, errors); the next build starts the slowest algorithms first.
"""

from __future__ import annotations

import html
import json
import multiprocessing
import os
import re
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from .config import parse_settings
from .errors import MlvizError
from .plugins import Registry, load_registry
from .terminal import one_line, printable
from .writers import move_into_place

#: The formats written for every algorithm, in this order.
FORMATS = (".gif", ".mp4", ".png")
DEFAULT_WORKERS = 2
HEARTBEAT_S = 30.0  # seconds without a finished algorithm before a progress line


@dataclass(frozen=True)
class Job:
    """What one worker renders: an algorithm, with optional ``--set`` settings and budget."""

    name: str
    stem: str
    settings: tuple[str, ...] = ()
    frames: int | None = None

    @property
    def command(self) -> str:
        """The ``mlviz render`` command line that reproduces the GIF."""
        words = ["mlviz", "render", self.name, "-o", f"{self.stem}.gif"]
        if self.frames is not None:
            words += ["--frames", str(self.frames)]
        for setting in self.settings:
            words += ["--set", setting]
        return shlex.join(words)


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

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class GalleryResult:
    """Every entry (in registry order), the registry's warnings and the page written."""

    entries: list[Entry]
    warnings: list[str]
    index: Path
    seconds: float

    @property
    def failed(self) -> list[Entry]:
        return [e for e in self.entries if not e.ok]


def build_gallery(
    outdir: str | Path,
    *,
    only: Sequence[str] | None = None,
    settings: Iterable[str] = (),
    frames: int | None = None,
    workers: int = DEFAULT_WORKERS,
    quiet: bool = False,
    stream: TextIO | None = None,
    registry: Registry | None = None,
) -> GalleryResult:
    """Render every registered algorithm (or those in ``only``) into ``outdir``.

    ``settings`` are ``NAME:KEY=VALUE`` strings, each applied to algorithm ``NAME`` as
    ``--set KEY=VALUE`` would be; ``frames`` is a frame budget for every algorithm.
    Progress goes to ``stream`` (stderr) unless ``quiet``; failures are always reported.
    Returns the entries; ``OUTDIR/index.html`` is written even when some failed.
    ``registry`` only plans the jobs: each worker process loads the installed plugins itself.
    """
    stream = stream or sys.stderr
    outdir = Path(outdir)
    if frames is not None and frames < 1:
        raise MlvizError(f"--frames must be at least 1, got {frames}")
    registry = registry or load_registry()
    jobs = plan_jobs(registry, only=only, settings=settings, frames=frames)
    if outdir.exists() and not outdir.is_dir():
        raise MlvizError(f"gallery output is not a folder: {outdir}")
    outdir.mkdir(parents=True, exist_ok=True)
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise MlvizError(f"gallery folder is not writable: {outdir}")

    def say(message: str, always: bool = False) -> None:
        if always or not quiet:
            print(message, file=stream, flush=True)

    workers = max(1, min(workers, len(jobs)))
    say(f"gallery: rendering {len(jobs)} algorithm{'s' * (len(jobs) != 1)} with {workers} "
        f"worker process{'es' * (workers != 1)} into {outdir}")
    start = time.perf_counter()
    results: dict[str, Entry] = {}
    # spawn: a fresh interpreter per worker, never a fork of a process that may hold threads.
    # Workers are reused (no max_tasks_per_child: it can deadlock on Python 3.11-3.13,
    # cpython#115634).
    context = multiprocessing.get_context("spawn")
    # Longest first (by the last build's times, if any), so no slow job starts last.
    previous = _previous_seconds(outdir)
    order = sorted(jobs, key=lambda job: -previous.get(job.name, 0.0))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_init_worker) as pool:
        pending: dict[Future, Job] = {
            pool.submit(render_job, job, str(outdir)): job for job in order
        }
        try:
            while pending:
                done, _ = wait(pending, timeout=HEARTBEAT_S, return_when=FIRST_COMPLETED)
                if not done:  # a long render: say that the gallery is still working
                    say(f"gallery: {len(results)}/{len(jobs)} done, "
                        f"{time.perf_counter() - start:.0f} s")
                for future in done:
                    job = pending.pop(future)
                    entry = _outcome(future, job, registry)
                    results[job.name] = entry
                    _report(entry, len(results), len(jobs), say)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    entries = [results[job.name] for job in jobs]
    seconds = time.perf_counter() - start
    index = write_index(outdir, entries, registry.warnings, seconds)
    _write_atomic(outdir / "gallery.json", json.dumps(
        {"seconds": seconds, "warnings": list(registry.warnings),
         "entries": [asdict(e) for e in entries]}, indent=1))
    failed = sum(not e.ok for e in entries)
    say(f"gallery: wrote {index} ({len(entries) - failed} rendered, {failed} failed, "
        f"{seconds:.1f} s)", always=bool(failed))
    return GalleryResult(entries, list(registry.warnings), index, seconds)


def plan_jobs(
    registry: Registry,
    *,
    only: Sequence[str] | None = None,
    settings: Iterable[str] = (),
    frames: int | None = None,
) -> list[Job]:
    """The jobs to run, in registry order; bad names and settings fail here, before rendering."""
    names = list(registry.algorithms)
    if only:
        wanted = list(dict.fromkeys(only))
        for name in wanted:
            registry.get(name)  # an unknown name: MlvizError with a suggestion
        names = [n for n in names if n in wanted]
    if not names:
        raise MlvizError("no algorithms are installed")
    per_algorithm: dict[str, list[str]] = {}
    for item in settings:
        name, sep, setting = item.partition(":")
        if not sep or "=" not in setting:
            raise MlvizError(f"gallery --set expects NAME:KEY=VALUE, got '{item}'")
        registry.get(name)
        per_algorithm.setdefault(name, []).append(setting)
    for name, values in per_algorithm.items():
        registry.get(name).config.from_overrides(parse_settings(values))  # validate early
    stems = _stems(names)
    return [Job(n, stems[n], tuple(per_algorithm.get(n, ())), frames) for n in names]


def _stems(names: Sequence[str]) -> dict[str, str]:
    """A distinct, file-name-safe stem per algorithm name."""
    stems: dict[str, str] = {}
    taken: set[str] = {"index"}
    for name in names:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "algorithm"
        base, n = stem, 2
        while stem in taken:
            stem, n = f"{base}-{n}", n + 1
        taken.add(stem)
        stems[name] = stem
    return stems


def _init_worker() -> None:
    """Worker setup: one thread per library, since the workers already share the cores."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


_REGISTRY: Registry | None = None


def render_job(job: Job, outdir: str) -> dict:
    """In a worker: train once, write GIF, MP4 and PNG poster together; a plain dict back."""
    from contextlib import ExitStack

    from .api import prepare
    from .writers import open_writer

    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = load_registry()
    start = time.perf_counter()
    prepared = prepare(job.name, frames=job.frames, settings=list(job.settings),
                       registry=_REGISTRY)
    renderer = prepared.renderer()
    paths = [Path(outdir) / f"{job.stem}{suffix}" for suffix in FORMATS]
    with ExitStack() as stack:  # any error aborts every writer: no partial file is left
        writers = [stack.enter_context(open_writer(p, fps=prepared.fps)) for p in paths]
        count = renderer.render(_Tee(writers))
    return {
        "seconds": time.perf_counter() - start,
        "frames": count,
        "size": renderer.frame_size,
        "bytes": {p.suffix: p.stat().st_size for p in paths},
    }


class _Tee:
    """Hands each frame to several writers, so a run is drawn once for all formats."""

    last_frame_only = False  # the GIF and MP4 need every frame; the poster keeps the last

    def __init__(self, writers) -> None:
        self.writers = writers

    def write(self, frame) -> None:
        for writer in self.writers:
            writer.write(frame)


def _outcome(future: Future, job: Job, registry: Registry) -> Entry:
    algorithm = registry.algorithms[job.name]
    entry = Entry(job.name, algorithm.summary, algorithm.plugin, job.command, job.stem)
    try:
        result = future.result()
    except Exception as exc:  # one failing algorithm must not stop the gallery
        entry.error = one_line(f"{type(exc).__name__}: {exc}")
        entry.details = printable("".join(traceback.format_exception(exc)).strip())
        return entry
    entry.seconds = result["seconds"]
    entry.frames = result["frames"]
    entry.size = tuple(result["size"])
    entry.bytes = result["bytes"]
    return entry


def _report(entry: Entry, done: int, total: int, say) -> None:
    prefix = f"[{done:>{len(str(total))}}/{total}] {entry.name}"
    if entry.ok:
        sizes = ", ".join(f"{s[1:]} {_size(entry.bytes[s])}" for s in FORMATS)
        say(f"{prefix}: {entry.seconds:.1f} s, {entry.frames} frames ({sizes})")
    else:
        say(f"{prefix}: FAILED: {entry.error}", always=True)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{max(1, round(n / 1024))} KB"


def write_index(outdir: Path, entries: Sequence[Entry], warnings: Sequence[str],
                seconds: float) -> Path:
    """Write ``OUTDIR/index.html`` atomically and return its path."""
    path = Path(outdir) / "index.html"
    _write_atomic(path, render_index(entries, warnings, seconds))
    return path


def _write_atomic(path: Path, text: str) -> None:
    """Write a text file through a temporary file renamed into place."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.",
                                   suffix=f".part{path.suffix}")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        move_into_place(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _previous_seconds(outdir: Path) -> dict[str, float]:
    """Render times per algorithm from an earlier build's ``gallery.json`` (empty if none)."""
    try:
        data = json.loads((outdir / "gallery.json").read_text(encoding="utf-8"))
        return {e["name"]: float(e["seconds"]) for e in data["entries"] if e.get("error") is None}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def render_index(entries: Sequence[Entry], warnings: Sequence[str], seconds: float) -> str:
    """The gallery page: one card per algorithm; hover or click a poster to play it."""
    esc = html.escape
    cards = []
    for e in entries:
        head = (f'<h2>{esc(e.name)}</h2>\n<p class="summary">{esc(e.summary)}</p>\n'
                f'<pre class="command"><code>{esc(e.command)}</code></pre>')
        if e.ok:
            width, height = e.size
            links = " · ".join(
                f'<a href="{esc(e.stem + s)}">{s[1:].upper()}</a> {_size(e.bytes[s])}'
                for s in FORMATS
            )
            cards.append(
                f'<article class="card" id="{esc(e.stem)}">\n'
                f'<button class="player" type="button" data-poster="{esc(e.stem)}.png" '
                f'data-anim="{esc(e.stem)}.gif" aria-label="play {esc(e.name)}">'
                f'<img src="{esc(e.stem)}.png" width="{width}" height="{height}" '
                f'alt="{esc(e.name)}: last frame (hover or click to play)"></button>\n'
                f'{head}\n<p class="meta">rendered in {e.seconds:.1f} s · {e.frames} frames'
                f' · {links} · plugin {esc(e.plugin)}</p>\n</article>'
            )
        else:
            cards.append(
                f'<article class="card failed" id="{esc(e.stem)}">\n'
                f'<div class="error"><strong>failed to render</strong>'
                f'<pre>{esc(e.error or "")}</pre>'
                f'<details><summary>traceback</summary><pre>{esc(e.details)}</pre></details>'
                f'</div>\n{head}\n<p class="meta">plugin {esc(e.plugin)}</p>\n</article>'
            )
    notes = ""
    if warnings:
        items = "\n".join(f"<li>{esc(w)}</li>" for w in warnings)
        notes = f'<section class="warnings"><h2>Plugin warnings</h2><ul>\n{items}\n</ul></section>'
    failed = sum(not e.ok for e in entries)
    summary = (f"{len(entries) - failed} algorithms rendered"
               + (f", {failed} failed" if failed else "") + f" in {seconds:.0f} s")
    return _PAGE.format(cards="\n".join(cards), notes=notes, summary=esc(summary))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlviz gallery</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1500px;
       padding: 0 1rem; color: #222; background: #fafafa; }}
header p {{ color: #555; }}
.grid {{ display: grid; gap: 1.5rem;
        grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); }}
.card {{ background: white; border: 1px solid #ddd; border-radius: 8px; padding: 0.8rem; }}
.card h2 {{ font-size: 1.15rem; margin: 0.6rem 0 0.2rem; }}
.summary {{ margin: 0.2rem 0 0.5rem; }}
.player {{ display: block; width: 100%; padding: 0; border: 0; background: none;
          cursor: pointer; position: relative; }}
.player img {{ display: block; width: 100%; height: auto; border-radius: 4px; }}
.player::after {{ content: "▶"; position: absolute; right: 0.6rem; bottom: 0.5rem;
                 color: white; background: rgba(0,0,0,0.45); border-radius: 50%;
                 width: 2rem; line-height: 2rem; text-align: center; }}
.player.playing::after {{ content: "❚❚"; font-size: 0.8rem; }}
.command {{ background: #f3f3f3; padding: 0.4rem 0.6rem; border-radius: 4px;
           white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.3rem 0; }}
.meta {{ color: #666; font-size: 0.85rem; margin: 0.3rem 0 0; }}
.failed {{ border-color: #d62728; }}
.error {{ background: #fdecea; color: #8b1a1a; padding: 0.6rem; border-radius: 4px; }}
.error pre {{ white-space: pre-wrap; margin: 0.3rem 0; }}
.warnings {{ margin-top: 2rem; color: #8a5300; }}
</style>
</head>
<body>
<header>
<h1>mlviz gallery</h1>
<p>{summary}. Hover over a poster (or click it) to play the animation;
each card gives the command that reproduces it.</p>
</header>
<main class="grid">
{cards}
</main>
{notes}
<script>
for (const button of document.querySelectorAll("button.player")) {{
  const img = button.querySelector("img");
  const play = () => {{ img.src = button.dataset.anim; button.classList.add("playing"); }};
  const stop = () => {{ img.src = button.dataset.poster; button.classList.remove("playing"); }};
  button.addEventListener("pointerenter", (e) => {{ if (e.pointerType === "mouse") play(); }});
  button.addEventListener("pointerleave", (e) => {{ if (e.pointerType === "mouse") stop(); }});
  button.addEventListener("click", () => button.classList.contains("playing") ? stop() : play());
}}
</script>
</body>
</html>
"""
