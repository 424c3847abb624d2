"""Drawing a run's frames in worker processes while this process encodes them.

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
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import LimitError, MlvizError, Terminated

if TYPE_CHECKING:
    from .renderer import Renderer, _Drawer

#: Fewest frames worth splitting: below this, starting workers costs more than it saves
#: (see benchmarks/bench.py --jobs).
MIN_FRAMES = 16
#: Workers are started only when the frames left would take this long to draw here...
MIN_DRAW_SECONDS = 0.5
#: ...and a frame takes at least this long: a cheaper one is drawn faster than this
#: process encodes it (a GIF frame: about 8 ms on a 2-core machine), so the split gains
#: nothing and its start-up and transfers are lost.
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


def start_method() -> str:
    """``fork`` where it is safe, else ``spawn``.

    A forked worker starts at once, with this process's modules and figure; it only draws
    (matplotlib's Agg, numpy, Pillow: no threads of their own) and writes to its own pipe.
    Forking is refused on macOS (system libraries that do not survive it) and where any
    thread runs besides the main one and tqdm's progress monitor: another thread might
    hold a lock the worker would need (a notebook kernel has several).
    """
    if sys.platform == "darwin" or "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    others = [t for t in threading.enumerate()
              if t is not threading.main_thread() and type(t).__name__ != "TMonitor"]
    return "spawn" if others else "fork"


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
    from .renderer import _Drawer, drawing_order

    order = drawing_order(len(indices), first)
    with _Drawer(renderer) as drawer:
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


def pays_off(frame_seconds: float, frames: int, jobs: int) -> bool:
    """Whether ``frames`` more frames, drawn in ``frame_seconds`` each, are worth workers."""
    return jobs > 1 and frame_seconds >= MIN_FRAME_SECONDS and \
        frame_seconds * frames >= MIN_DRAW_SECONDS


def _from_workers(drawer: _Drawer, indices: Sequence[int], rest: Sequence[int],
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

    def __init__(self, renderer: Renderer, drawer: _Drawer, indices: Sequence[int],
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
        """Raise for a worker that is gone: as this process's own stop, if a stop signal
        killed it (the whole process group got it), else one error line."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        if code is not None and code < 0:
            number = -code
            if number in (getattr(signal, "SIGTERM", 0), getattr(signal, "SIGHUP", 0)):
                raise Terminated(number)
            how = f"killed by {signal.Signals(number).name}"
        else:
            how = f"exit status {code}"
        raise MlvizError(f"a render worker died ({how}); nothing was written; try --jobs 1 "
                         "or fewer frames (--frames) if memory is short")

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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the main process stops us
    warnings.simplefilter("ignore")  # a worker writes nothing but frames
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    torch = sys.modules.get("torch")
    if torch is not None:  # its thread pool is not the parent's to share
        torch.set_num_threads(1)
    position = settle
    try:
        if forked:
            drawer = source
        else:
            from .renderer import _Drawer

            drawer = _Drawer(source)
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
