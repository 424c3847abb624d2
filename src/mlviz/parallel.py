"""Drawing, and encoding, a run's frames in worker processes.

Where the writer can hand its per-frame work to another process
(:meth:`~mlviz.writers.Writer.frame_encoder`: the GIF's and WebP's quantizing, diffing and
compressing), workers can be forked and there are at least :data:`ENCODE_FROM_JOBS` jobs,
:func:`render_encoding_in_workers` does it: this
process draws the palette's sample frames and primes the writer, then each worker takes
chunks of consecutive frames (:func:`chunk_size`; drawing the frame before each chunk once more,
for its encoder) and sends every frame encoded; this process only writes them in order.
What remains serial here: the first frame's layout, the palette's samples (8 draws) and
the palette, and writing bytes. Otherwise (MP4, APNG, a plugin's writer, spawned workers)
workers draw and this process encodes, as described below.

A panel's ``update`` does not depend on earlier frames, so the frames of a run can be split
among processes, each drawing with its own copy of the figure, and put back in order here.
This process draws the first two frames itself (the first settles the layout and the static
background, as the one-process path does; the second says what a frame costs, and so
whether workers pay off), then starts the workers. Where forking is safe (see
:func:`start_method`) they are forked from it and so start drawing at once, with the figure
as it stands (a figure can take seconds to set up); elsewhere they are spawned, and each
imports mlviz, builds its own figure and draws that first frame again before its share. Either way every frame has the
same pixels as in one process, so the file written is byte for byte the same.

Worker ``w`` of ``n`` draws every ``n``-th frame of the drawing order, starting with its
``w``-th, and hands each over a pipe as raw RGB bytes; at most one frame per worker waits
for this process, so memory does not grow with the run. A worker draws nothing but frames:
it writes no file, ignores Ctrl-C (this process stops it) and dies at once on SIGTERM. When
a worker fails, the frame is drawn again here, so that the error, and the plugin it names,
is the one the one-process path gives; a worker that dies is one error line. Either way
the workers are stopped and, the writer being aborted, nothing is left on disk.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from .errors import LimitError, MlvizError, Terminated
from .processes import start_method

if TYPE_CHECKING:
    from .renderer import FrameDrawer, Renderer
    from .writers import Writer

#: Fewest frames worth splitting: below this, starting workers costs more than it saves
#: (see benchmarks/bench.py --jobs).
MIN_FRAMES = 16
#: Workers are started only when the frames left would take this long to draw here...
MIN_DRAW_SECONDS = 0.5
#: ...and a frame takes at least this long: a cheaper one is drawn faster than this
#: process encodes it (a GIF frame: about 8 ms on a 2-core machine), so the split gains
#: nothing and its start-up and transfers are lost. (When the workers encode too, see
#: :func:`render_encoding_in_workers`, this process only orders bytes.)
MIN_FRAME_SECONDS = 0.012


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """The number of drawing processes ``--jobs`` defaults to: one per available core."""
    return available_cores()


#: The most drawing processes accepted (each holds a copy of the figure).
MAX_JOBS = 64


def check_jobs(jobs: int) -> int:
    """``jobs`` if it is a whole number from 1 to :data:`MAX_JOBS` (one-line error if not)."""
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or \
            not 1 <= jobs <= MAX_JOBS:
        raise LimitError(f"jobs must be a whole number from 1 to {MAX_JOBS}, got {jobs!r}")
    return int(jobs)


def worth_it(frames: int, jobs: int) -> bool:
    """Whether ``frames`` frames are drawn in ``jobs`` worker processes."""
    return jobs > 1 and frames >= MIN_FRAMES


@contextmanager
def draw_in_workers(renderer: Renderer, indices: Sequence[int], first: Sequence[int],
                    jobs: int, method: str | None = None
                    ) -> Iterator[Iterator[tuple[int, np.ndarray]]]:
    """Like :meth:`Renderer.draw_in_order` (``(position, frame)`` pairs, ``first`` first),
    with the frames after the first two drawn by ``jobs`` worker processes.

    The first frame settles the layout; the second, drawn here too, says what a frame
    costs: when the rest would take less than :data:`MIN_DRAW_SECONDS` or a frame less than
    :data:`MIN_FRAME_SECONDS`, starting workers would not pay, and this process draws them.
    ``method`` (``fork`` or ``spawn``) forces workers, started that way.
    """
    from .renderer import FrameDrawer, drawing_order

    order = drawing_order(len(indices), first)
    with FrameDrawer(renderer) as drawer:
        drawn = [(order[0], drawer.draw(indices[order[0]]))]
        cost = 0.0
        if len(order) > 1:
            start = time.perf_counter()
            drawn.append((order[1], drawer.draw(indices[order[1]])))
            cost = time.perf_counter() - start
        rest = order[len(drawn):]
        if not rest or (method is None and not pays_off(cost, len(rest), jobs)):
            yield itertools.chain(drawn, ((p, drawer.draw(indices[p])) for p in rest))
            return
        count = min(jobs, len(rest))
        workers = [_Worker(renderer, drawer, indices, order[0], rest[w::count],
                           method or start_method()) for w in range(count)]
        try:
            yield itertools.chain(drawn, _from_workers(drawer, indices, rest, workers))
        finally:
            for worker in workers:
                worker.stop()


#: Consecutive frames a worker draws and encodes in turn when it encodes (at most; at
#: least MIN_CHUNK): it draws the frame before each chunk too (its encoder needs it), so
#: one frame in a chunk's length is drawn twice; four chunks per worker keep them busy
#: to the end.
CHUNK = 16
MIN_CHUNK = 4


#: Workers encode from this many jobs up. With fewer, the main process encoding while
#: the workers draw is faster: it would otherwise wait, idle, while they draw and encode
#: (kmeans, 74 frames of 960x540 on 2 cores: 1.4 s drawing-only workers, 2.9 s encoding
#: ones, 1.9 to 2.5 s one process; see benchmarks/bench.py). From 3 jobs, drawing a
#: frame (about 19 ms) split 3 ways is faster than encoding it here (about 9 ms), so the
#: main process would be the floor.
ENCODE_FROM_JOBS = 3


def chunk_size(frames: int, jobs: int) -> int:
    """Frames per chunk for ``frames`` frames split among ``jobs`` encoding workers."""
    return max(MIN_CHUNK, min(CHUNK, frames // (4 * jobs)))


def render_encoding_in_workers(renderer: Renderer, writer: Writer, indices: Sequence[int],
                               jobs: int, on_frame: Callable[[int], None] | None = None
                               ) -> int | None:
    """Write the frames at ``indices`` to ``writer`` with worker processes drawing *and
    encoding* them (:meth:`Writer.frame_encoder`: quantizing, diffing, compressing), this
    process only putting the encoded frames in order; the number written. None, having
    done nothing, where that is not done: fewer than :data:`ENCODE_FROM_JOBS` jobs, a
    writer without a frame encoder, or workers that cannot be forked (see
    :func:`start_method`).

    This process draws the frames the writer wants first (its palette's samples) and
    primes it; if a frame costs too little for workers (:func:`pays_off`), it goes on alone.
    Otherwise worker ``w`` of ``n`` takes chunks ``w``, ``w + n``, … of :func:`chunk_size`
    frames, draws the frame before each chunk (to give its encoder the frame before) and
    sends every frame encoded; the bytes are those of one process (the encoders' only
    state is the frame before).
    """
    from .renderer import FrameDrawer
    from .writers.base import Writer as Base

    own = getattr(type(writer), "frame_encoder", Base.frame_encoder)
    if jobs < ENCODE_FROM_JOBS or own is Base.frame_encoder or start_method() != "fork":
        return None
    count = len(indices)
    first = list(dict.fromkeys(writer.frames_wanted_first(count)))
    with FrameDrawer(renderer) as drawer:
        start = time.perf_counter()
        ahead = {position: drawer.draw(indices[position]) for position in first}
        cost = (time.perf_counter() - start) / max(len(first), 1)
        if first:
            writer.prime([ahead[position] for position in first])
        encoder = writer.frame_encoder()
        if encoder is None or not pays_off(cost, count - len(first), jobs):
            for position, index in enumerate(indices):
                frame = ahead.pop(position) if position in ahead else drawer.draw(index)
                writer.write(frame)
                if on_frame is not None:
                    on_frame(index)
            return count
        size = chunk_size(count, jobs)
        chunks = [range(a, min(a + size, count)) for a in range(0, count, size)]
        workers = min(jobs, len(chunks))
        context: Any = multiprocessing.get_context("fork")
        pipes, processes = [], []
        try:
            for w in range(workers):
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=_encode_work, name="mlviz-render-worker", daemon=True,
                    args=(drawer, encoder, list(indices), chunks[w::workers], sender))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    process.start()
                sender.close()
                pipes.append(receiver)
                processes.append(process)
            waiting: dict[int, Any] = {}
            for position, index in enumerate(indices):
                while position not in waiting:
                    _receive_any(pipes, processes, waiting, drawer, indices)
                writer.write_encoded(waiting.pop(position))
                if on_frame is not None:
                    on_frame(index)
        finally:
            for receiver, process in zip(pipes, processes):
                receiver.close()
                if process.is_alive():
                    process.kill()
                process.join()
                process.close()
    return count


def _receive_any(pipes: list[Any], processes: list, waiting: dict[int, Any], drawer: FrameDrawer,
                 indices: Sequence[int]) -> None:
    """Wait for any worker's next message and keep the frame it encoded (by position)."""
    from multiprocessing.connection import wait

    open_pipes = [pipe for pipe in pipes if not pipe.closed]
    if not open_pipes:  # pragma: no cover - every worker ended without a frame we need
        raise MlvizError("the render workers ended early; nothing was written; try --jobs 1")
    ready: list[Any] = wait(open_pipes)
    for pipe in ready:
        try:
            kind, position, payload = pipe.recv()
        except (EOFError, OSError):
            process = processes[pipes.index(pipe)]
            process.join(timeout=5)
            pipe.close()
            if process.exitcode == 0:  # done: it sent all its frames
                continue
            _raise_for_dead(process)
        if kind == "error":
            drawer.draw(indices[position])  # again here: the one-process path's error
            raise MlvizError(f"a render worker failed drawing frame {indices[position]}: "
                             f"{payload} (drawing it again in the main process worked; "
                             "try --jobs 1)")
        waiting[position] = payload


def _raise_for_dead(process) -> NoReturn:
    """Raise for a worker that is gone: as this process's own stop, if a stop signal
    killed it (the whole process group got it), else one error line."""
    process.join(timeout=5)
    code = process.exitcode
    if code is not None and code < 0:
        number = -code
        if number in (getattr(signal, "SIGTERM", 0), getattr(signal, "SIGHUP", 0)):
            raise Terminated(number)
        how = f"killed by {signal.Signals(number).name}"
    else:
        how = f"exit status {code}"
    raise MlvizError(f"a render worker died ({how}); nothing was written; try --jobs 1 "
                     "or fewer frames (--frames) if memory is short")


def _encode_work(drawer: FrameDrawer, encoder: Any, indices: list[int],
                 chunks: list[range], sender) -> None:
    """In a forked worker: draw and encode each chunk (after the frame before it), send
    ``("frame", position, encoded)`` for each, then exit."""
    _quiet_worker()
    position = chunks[0].start if chunks else 0
    try:
        for chunk in chunks:
            if chunk.start > 0:
                encoder.encode(drawer.draw(indices[chunk.start - 1]))
            for position in chunk:
                sender.send(("frame", position, encoder.encode(drawer.draw(indices[position]))))
    except BrokenPipeError:
        pass
    except BaseException as exc:
        from .terminal import one_line

        try:
            sender.send(("error", position, one_line(f"{type(exc).__name__}: {exc}", 300)))
        except OSError:
            pass
    finally:
        sender.close()
        os._exit(0)


def _quiet_worker() -> None:
    """A worker ignores Ctrl-C (the main process stops it), dies on SIGTERM, warns of
    nothing and keeps torch to one thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore")
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def pays_off(frame_seconds: float, frames: int, jobs: int) -> bool:
    """Whether ``frames`` more frames, drawn in ``frame_seconds`` each, are worth workers."""
    return jobs > 1 and frame_seconds >= MIN_FRAME_SECONDS and \
        frame_seconds * frames >= MIN_DRAW_SECONDS


def _from_workers(drawer: FrameDrawer, indices: Sequence[int], rest: Sequence[int],
                  workers: list[_Worker]) -> Iterator[tuple[int, np.ndarray]]:
    for step, position in enumerate(rest):
        worker = workers[step % len(workers)]
        frame, failure = worker.receive(position)
        if failure is not None or frame is None:
            # Again here, so that the error is the one-process path's (naming the plugin).
            drawer.draw(indices[position])
            raise MlvizError(f"a render worker failed drawing frame {indices[position]}: "
                             f"{failure} (drawing it again in the main process worked; "
                             "try --jobs 1)")
        yield position, frame


class _Worker:
    """One worker process drawing the frames at ``positions``, and its end of the pipe."""

    def __init__(self, renderer: Renderer, drawer: FrameDrawer, indices: Sequence[int],
                 settle: int, positions: Sequence[int], method: str) -> None:
        context: Any = multiprocessing.get_context(method)
        self._receiver, sender = context.Pipe(duplex=False)
        forked = method == "fork"
        # A forked worker goes on with this process's figure; a spawned one builds its own
        # and draws the first frame again before its share, to settle the same layout.
        source = drawer if forked else renderer
        self.process = context.Process(
            target=_work, args=(source, list(indices), settle, list(positions), sender,
                                forked),
            name="mlviz-render-worker", daemon=True)
        with warnings.catch_warnings():  # Python >= 3.12 warns about forking with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process.start()
        sender.close()
        self._shape = (*drawer.figure.canvas.get_width_height(physical=True)[::-1],
                       renderer.channels)

    def receive(self, position: int) -> tuple[np.ndarray | None, str | None]:
        """The frame at ``position`` (the next this worker sends), or why it failed."""
        try:
            kind, sent, detail = self._receiver.recv()
            if kind == "error":
                return None, detail
            buffer = bytearray(int(np.prod(self._shape)))
            self._receiver.recv_bytes_into(buffer)
        except (EOFError, OSError):
            self._died()
        if sent != position:  # pragma: no cover - a bug, not a user's error
            raise RuntimeError(f"worker sent frame {sent}, expected {position}")
        return np.frombuffer(buffer, dtype=np.uint8).reshape(self._shape), None

    def _died(self) -> None:
        _raise_for_dead(self.process)

    def stop(self) -> None:
        """End the worker (if it still runs) and wait for it."""
        self._receiver.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process.close()


def _work(source, indices: list[int], settle: int, positions: list[int], sender,
          forked: bool) -> None:
    """In a worker: draw the frames at ``positions`` and send them, in order, then exit."""
    _quiet_worker()
    position = settle
    try:
        if forked:
            drawer = source
        else:
            from .renderer import FrameDrawer

            drawer = FrameDrawer(source)
            drawer.draw(indices[settle])
        for position in positions:
            frame = drawer.draw(indices[position])
            sender.send(("frame", position, None))
            sender.send_bytes(frame.reshape(-1))  # flat: a 3D view would send its rows
    except BrokenPipeError:
        pass  # the main process stopped listening: it is stopping us
    except BaseException as exc:  # reported, then drawn again by the main process
        from .terminal import one_line

        try:
            sender.send(("error", position, one_line(f"{type(exc).__name__}: {exc}", 300)))
        except OSError:
            pass
    finally:
        sender.close()
        os._exit(0)  # no atexit handlers, no flushing of buffers copied from the parent
