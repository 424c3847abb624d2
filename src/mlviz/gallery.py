"""``mlviz gallery``: render every registered algorithm and write a browsable ``index.html``.

Each algorithm is trained and drawn once, in its own worker process (two at a time by
default, one per core); its frames go to every requested animation format (GIF and MP4 by
default; any registered writer, e.g. ``--formats webp,gif,mp4``) and a PNG poster
together, through the same atomic writers as ``mlviz render``. One algorithm failing is
reported on stderr and in the page; the others still render. ``OUTDIR/gallery.json`` keeps
every entry (times, sizes, errors); the next build starts the slowest algorithms first,
and :func:`render_embed` turns it into cards for another page (the Sphinx gallery page).

The jobs run in local worker processes, or on a Dask cluster given its scheduler's address
(``--scheduler``; :mod:`mlviz.batch`). Each entry keeps the cache key of its render
(:func:`mlviz.batch.render_key`: algorithm, settings, seed, data, versions, code); a
rebuild keeps the files of every algorithm whose key has not changed instead of rendering
it again (``--no-cache`` renders everything).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from . import batch, session
from .config import parse_settings
from .errors import STOP_SIGNALS, MlvizError, Terminated, cleaning_up
from .gallery_page import (
    PLAYER_SCRIPT,
    PLAYER_STYLE,
    POSTER,
    Entry,
    load_entries,
    render_cards,
    render_embed,
    render_index,
    size_text,
    summary_text,
    write_index,
    write_text,
)
from .limits import check_frames
from .registry import Registry
from .terminal import one_line, printable
from .writers.atomic import remove_stale_parts

if TYPE_CHECKING:
    from .writers import Writer

__all__ = [
    "DEFAULT_FORMATS", "PLAYER_SCRIPT", "PLAYER_STYLE", "POSTER", "Entry", "GalleryResult", "Job",
    "build_gallery", "load_entries", "parse_formats", "plan_jobs", "render_cards",
    "render_embed", "render_index", "render_job", "write_index",
]

#: The animation formats written for every algorithm unless told otherwise; the page plays
#: the first.
DEFAULT_FORMATS = (".gif", ".mp4")
DEFAULT_WORKERS = 2
HEARTBEAT_S = 30.0  # seconds without a finished algorithm before a progress line


@dataclass(frozen=True)
class Job:
    """What one worker renders: an algorithm, with optional ``--set`` settings and budget."""

    name: str
    stem: str
    settings: tuple[str, ...] = ()
    frames: int | None = None
    #: Animation suffixes to write (the poster is always written too).
    formats: tuple[str, ...] = DEFAULT_FORMATS

    @property
    def command(self) -> str:
        """The ``mlviz render`` command line that reproduces the first animation."""
        words = ["mlviz", "render", self.name, "-o", f"{self.stem}{self.formats[0]}"]
        if self.frames is not None:
            words += ["--frames", str(self.frames)]
        for setting in self.settings:
            words += ["--set", setting]
        return shlex.join(words)


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
    formats: str | Sequence[str] = DEFAULT_FORMATS,
    scheduler: str | None = None,
    cache: bool = True,
) -> GalleryResult:
    """Render every registered algorithm (or those in ``only``) into ``outdir``.

    ``settings`` are ``NAME:KEY=VALUE`` strings, each applied to algorithm ``NAME`` as
    ``--set KEY=VALUE`` would be; ``frames`` is a frame budget for every algorithm.
    ``formats``: the animation formats, as suffixes or one comma-separated text
    (``"webp,gif,mp4"``); each must be a registered writer, and the page plays the first.
    Progress goes to ``stream`` (stderr) unless ``quiet``; failures are always reported.
    Returns the entries; ``OUTDIR/index.html`` is written even when some failed.
    ``registry`` only plans the jobs: each worker process loads the installed plugins itself.
    ``scheduler``: a Dask scheduler's address (``tcp://host:8786``) to run the jobs on its
    cluster instead of ``workers`` local processes (needs the ``dask`` extra). ``cache``:
    keep the files of an algorithm whose render key matches the last build's.
    """
    outdir = Path(outdir)
    check_frames(frames)
    registry = session.registry(registry)
    jobs = plan_jobs(registry, only=only, settings=settings, frames=frames, formats=formats)
    if outdir.exists() and not outdir.is_dir():
        raise MlvizError(f"gallery output is not a folder: {outdir}")
    with ExitStack() as stack:
        # a cluster is reached before anything is written: an unreachable one leaves nothing
        cluster = stack.enter_context(batch.open_backend(scheduler)) if scheduler else None
        outdir.mkdir(parents=True, exist_ok=True)
        if not os.access(outdir, os.W_OK | os.X_OK):
            raise MlvizError(f"gallery folder is not writable: {outdir}")
        return _build(outdir, jobs, registry, workers, cluster, cache, quiet,
                      stream or sys.stderr)


def _build(outdir: Path, jobs: list[Job], registry: Registry, workers: int,
           cluster: batch.Backend | None, cache: bool, quiet: bool,
           stream: TextIO) -> GalleryResult:
    """Render the jobs the last build cannot lend (``cluster``, or ``workers`` local
    processes); write the page and ``gallery.json``."""

    def say(message: str, always: bool = False) -> None:
        if always or not quiet:
            print(message, file=stream, flush=True)

    start = time.perf_counter()
    results: dict[str, Entry] = {}
    digests: dict[tuple[str, ...], str] = {}  # the code of mlviz and each plugin, read once
    keys = {job.name: _job_key(job, registry, digests) for job in jobs}
    previous = load_entries(outdir) or []
    if cache:
        for job in jobs:
            entry = _reuse(job, keys[job.name], previous, outdir, registry)
            if entry is not None:
                results[job.name] = entry
    todo = [job for job in jobs if job.name not in results]
    if results:
        say(f"gallery: {len(results)} of {len(jobs)} algorithm{'s' * (len(jobs) != 1)} "
            f"unchanged since the last build (cached); --no-cache renders them again")
        for done, entry in enumerate(results.values(), start=1):
            _report(entry, done, len(jobs), say)
    if todo:
        try:
            if cluster is not None:
                _run_jobs(todo, cluster, outdir, registry, keys, results, len(jobs), say)
            else:
                workers = max(1, min(workers, len(todo)))
                with batch.open_backend(None, workers, initializer=_init_worker) as local:
                    _run_jobs(todo, local, outdir, registry, keys, results, len(jobs), say)
        except BaseException:
            # The workers are stopped and gone (each removed its own temporary files, see
            # _init_worker); one killed outright left its files: they go now.
            remove_stale_parts(outdir)
            raise
    entries = [results[job.name] for job in jobs]
    seconds = time.perf_counter() - start
    index = write_index(outdir, entries, registry.warnings, seconds)
    write_text(outdir / "gallery.json", json.dumps(
        {"seconds": seconds, "warnings": list(registry.warnings),
         "entries": [asdict(e) for e in entries]}, indent=1))
    failed = sum(not e.ok for e in entries)
    say(f"gallery: wrote {index}: {summary_text(entries, seconds)}", always=bool(failed))
    return GalleryResult(entries, list(registry.warnings), index, seconds)


def _run_jobs(todo: list[Job], backend: batch.Backend, outdir: Path, registry: Registry,
              keys: dict[str, str], results: dict[str, Entry], total: int, say) -> None:
    """Render ``todo`` on ``backend``, adding an entry per job to ``results``."""
    # Longest first (by the last build's times, if any), so no slow job starts last.
    seconds = _previous_seconds(outdir)
    order = sorted(todo, key=lambda job: -seconds.get(job.name, 0.0))
    start = time.perf_counter()
    say(f"gallery: rendering {len(todo)} algorithm{'s' * (len(todo) != 1)} with "
        f"{backend.description} into {outdir}")
    where = None if backend.remote else str(outdir)  # remote workers send the files back
    pending: dict[Future, Job] = {
        backend.executor.submit(render_job, job, where): job for job in order
    }
    try:
        while pending:
            done, _ = wait(pending, timeout=HEARTBEAT_S, return_when=FIRST_COMPLETED)
            if not done:  # a long render: say that the gallery is still working
                say(f"gallery: {len(results)}/{total} done, "
                    f"{time.perf_counter() - start:.0f} s")
            for future in done:
                job = pending.pop(future)
                entry = _outcome(future, job, registry, outdir)
                entry.key = keys.get(job.name, "") if entry.ok else ""
                results[job.name] = entry
                _report(entry, len(results), total, say)
    except BaseException:
        for future in pending:
            future.cancel()
        raise


def _job_key(job: Job, registry: Registry, digests: dict[tuple[str, ...], str]) -> str:
    """The cache key of a job's render (empty when the plugin cannot make its data here:
    the job then reports why, and is never taken from the cache). ``digests`` keeps the
    code digest of each set of modules for the next job."""
    from .renderer import DEFAULT_DPI
    from .writers import DEFAULT_HOLD

    try:
        algorithm = registry.get(job.name)
        config = algorithm.config.from_overrides(parse_settings(job.settings))
        dataset = algorithm.make_dataset(config)
        modules = tuple(batch.plugin_modules(algorithm))
        if modules not in digests:
            digests[modules] = batch.code_digest(modules)
        return batch.render_key(algorithm, config, dataset, code=digests[modules], settings={
            "frames": job.frames, "formats": list(job.formats), "poster": POSTER,
            "fps": algorithm.fps, "dpi": DEFAULT_DPI, "hold": DEFAULT_HOLD,
        })
    except Exception:  # noqa: BLE001 - a broken plugin fails in its own job, with its error
        return ""


def _reuse(job: Job, key: str, previous: Sequence[Entry], outdir: Path,
           registry: Registry) -> Entry | None:
    """The last build's entry for ``job``, marked cached, if its key is ``key`` and all its
    files are still there, as large as they were; else None."""
    if not key:
        return None
    for old in previous:
        if old.name != job.name or old.key != key or not old.ok or old.stem != job.stem:
            continue
        wanted = {*job.formats, POSTER}
        if set(old.bytes) != wanted:
            return None
        for suffix, size in old.bytes.items():
            try:
                if (outdir / f"{job.stem}{suffix}").stat().st_size != size:
                    return None
            except OSError:
                return None
        algorithm = registry.algorithms[job.name]
        return Entry(job.name, algorithm.summary, algorithm.plugin, job.command, job.stem,
                     seconds=old.seconds, frames=old.frames, size=(old.size[0], old.size[1]),
                     bytes=dict(old.bytes), key=key, cached=True, worker=old.worker)
    return None


def plan_jobs(
    registry: Registry,
    *,
    only: Sequence[str] | None = None,
    settings: Iterable[str] = (),
    frames: int | None = None,
    formats: str | Sequence[str] = DEFAULT_FORMATS,
) -> list[Job]:
    """The jobs to run, in registry order; bad names, settings and formats fail here,
    before rendering."""
    suffixes = parse_formats(formats, registry)
    names = [n for n, algorithm in registry.algorithms.items() if not algorithm.record_only]
    if only:
        wanted = list(dict.fromkeys(only))
        for name in wanted:
            if registry.get(name).record_only:  # an unknown name: MlvizError with a suggestion
                raise MlvizError(f"{name} only draws run records (nothing trains it), so the "
                                 f"gallery cannot render it")
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
    return [Job(n, stems[n], tuple(per_algorithm.get(n, ())), frames, suffixes) for n in names]


def parse_formats(formats: str | Sequence[str], registry: Registry) -> tuple[str, ...]:
    """Animation suffixes from ``"webp,gif"`` or ``[".webp", "gif"]``: lowercase, with their
    dot, in order, once each. Each must be a registered writer whose optional dependency
    is installed; the poster (``png``) is always written, so naming it changes nothing."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    suffixes: list[str] = []
    for item in items:
        name = str(item).strip().lower().lstrip(".")
        suffix = f".{name}"
        if not name or suffix == POSTER:
            continue
        kind = registry.writers.get(suffix)
        if kind is None or kind.last_frame_only:
            known = ", ".join(s[1:] for s, w in sorted(registry.writers.items())
                              if not w.last_frame_only)
            raise MlvizError(f"unknown gallery format '{name}': use one or more of {known}")
        kind.check_available()
        if suffix not in suffixes:
            suffixes.append(suffix)
    if not suffixes:
        raise MlvizError("the gallery needs at least one animation format, e.g. --formats gif")
    return tuple(suffixes)


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


#: Whether this process is a local gallery worker (set by :func:`_init_worker`), and
#: whether it is rendering now.
_WORKER = {"local": False, "rendering": False}


def _init_worker() -> None:
    """Worker setup: one thread per library, since the workers already share the cores.
    Ctrl-C is ignored (the gallery's process stops its workers); SIGTERM and SIGHUP end a
    render through its clean-up (its temporary files removed), then the worker."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    _WORKER["local"] = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for number in STOP_SIGNALS:
        signal.signal(number, _worker_stop)
    sys.unraisablehook = _unraisable


_PENDING: list[int] = []  # a stop signal whose Terminated was swallowed (see _unraisable)


def _unraisable(info) -> None:
    """A stop signal that landed where Python cannot raise (a weakref callback during an
    import, a ``__del__``) is raised again at the next frame, not printed as a traceback."""
    if isinstance(info.exc_value, Terminated):
        _PENDING.append(info.exc_value.signum)
    else:
        sys.__unraisablehook__(info)


def _worker_stop(signum: int, frame) -> None:
    """A stop signal in a worker: unwind the render (see :func:`render_job`), or end now;
    one arriving while a render unwinds is ignored (its clean-up goes on)."""
    if cleaning_up():
        return
    if _WORKER["rendering"]:
        raise Terminated(signum)
    _exit_by(signum)


def _exit_by(signum: int) -> None:
    """End this worker as ``signum`` would have (its clean-up done), without Python's own."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)  # pragma: no cover - the signal ends the process first


def render_job(job: Job, outdir: str | None) -> dict:
    """In a worker: train once, write every format and the poster together; a plain dict
    back. Animations hold their last frame as ``mlviz render`` does.

    ``outdir`` None (a worker that may be on another machine): the files are made in a
    temporary folder there and their bytes come back under ``"files"``, for the caller to
    write. One render at a time per process (:func:`mlviz.batch.render_lock`).
    """
    if outdir is None:
        with tempfile.TemporaryDirectory(prefix="mlviz-gallery-") as folder:
            result = render_job(job, folder)
            result["files"] = {suffix: (Path(folder) / f"{job.stem}{suffix}").read_bytes()
                               for suffix in result["bytes"]}
            return result
    with batch.render_lock():
        _WORKER["rendering"] = True
        try:
            return _render(job, outdir)
        except Terminated as exc:  # its writers are aborted: no temporary file is left
            if _WORKER["local"]:
                _exit_by(exc.signum)
            raise
        finally:
            _WORKER["rendering"] = False


def _render(job: Job, outdir: str) -> dict:
    from contextlib import ExitStack

    from .api import frame_captions, prepare
    from .writers import DEFAULT_HOLD, open_writer

    registry = session.registry()  # the worker's plugins, loaded once per process
    start = time.perf_counter()
    prepared = prepare(job.name, frames=job.frames, settings=list(job.settings),
                       registry=registry)
    renderer = prepared.renderer(caption=True)  # files carry the story, as `mlviz render`'s do
    captions = frame_captions(prepared.run)
    paths = [Path(outdir) / f"{job.stem}{suffix}" for suffix in (*job.formats, POSTER)]
    with ExitStack() as stack:  # any error aborts every writer: no partial file is left
        writers = [stack.enter_context(open_writer(
            p, fps=prepared.fps, hold=DEFAULT_HOLD, registry=registry,
            captions=captions[-1:] if p.suffix == POSTER else captions)) for p in paths]
        # the renderer uses only ``write`` and ``last_frame_only`` of what it draws into
        count = renderer.render(cast("Writer", _Tee(writers)))
    return {
        "seconds": time.perf_counter() - start,
        "frames": count,
        "size": renderer.frame_size,
        "bytes": {p.suffix: p.stat().st_size for p in paths},
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }


def _write_files(outdir: Path, stem: str, files: dict[str, bytes]) -> None:
    """Write the files a remote worker sent: every one to a temporary file first, then
    each moved into place (a failure leaves none of them half-written)."""
    from contextlib import ExitStack

    from .writers import atomic_output

    with ExitStack() as stack:
        for suffix, content in files.items():
            tmp = stack.enter_context(atomic_output(outdir / f"{stem}{suffix}"))
            Path(tmp).write_bytes(content)


class _Tee:
    """Hands each frame to several writers, so a run is drawn once for all formats."""

    last_frame_only = False  # the animations need every frame; the poster keeps the last

    def __init__(self, writers) -> None:
        self.writers = writers

    def write(self, frame) -> None:
        if _PENDING and _WORKER["rendering"]:
            raise Terminated(_PENDING[0])
        for writer in self.writers:
            writer.write(frame)


def _outcome(future: Future, job: Job, registry: Registry, outdir: Path) -> Entry:
    algorithm = registry.algorithms[job.name]
    entry = Entry(job.name, algorithm.summary, algorithm.plugin, job.command, job.stem)
    try:
        result = future.result()
        if "files" in result:  # from a worker that may not share our files
            _write_files(outdir, job.stem, result["files"])
    except Exception as exc:  # one failing algorithm must not stop the gallery
        entry.error = one_line(f"{type(exc).__name__}: {exc}")
        entry.details = printable("".join(traceback.format_exception(exc)).strip())
        return entry
    entry.seconds = result["seconds"]
    entry.frames = result["frames"]
    entry.size = tuple(result["size"])
    entry.bytes = result["bytes"]
    entry.worker = result.get("worker", "")
    return entry


def _report(entry: Entry, done: int, total: int, say) -> None:
    prefix = f"[{done:>{len(str(total))}}/{total}] {entry.name}"
    if entry.ok:
        sizes = ", ".join(f"{s[1:]} {size_text(n)}" for s, n in entry.bytes.items())
        took = "unchanged (cached)" if entry.cached else f"{entry.seconds:.1f} s"
        say(f"{prefix}: {took}, {entry.frames} frames ({sizes})")
    else:
        say(f"{prefix}: FAILED: {entry.error}", always=True)


def _previous_seconds(outdir: Path) -> dict[str, float]:
    """Render times per algorithm from an earlier build's ``gallery.json`` (empty if none)."""
    try:
        data = json.loads((outdir / "gallery.json").read_text(encoding="utf-8"))
        return {e["name"]: float(e["seconds"]) for e in data["entries"] if e.get("error") is None}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
