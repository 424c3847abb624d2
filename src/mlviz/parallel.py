"""Drawing, and encoding, a run's frames in worker processes.

Where the writer can hand its per-frame work to another process
(:meth:`~mlviz.writers.Writer.frame_encoder`: the GIF's and WebP's quantizing, diffing and
compressing), workers can be forked and there are at least :data:`ENCODE_FROM_JOBS` jobs,
:func:`render_encoding_in_workers` does it: this process draws two frames (the layout,
and what a frame costs) and forks the workers; they draw the palette's samples between
them and send them here, then draw and encode ranges of consecutive frames (drawing the
frame before a range once more, for its encoder) while this process builds the palette
and hands them the encoder; from then on it only writes their bytes in order. What
remains serial: start-up and training, the figure, its first two frames, and the
writing. Otherwise (MP4, APNG, a plugin's writer, spawned workers) workers draw and this
process encodes, as described below.

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
#: ...and a frame takes at least this long: a cheaper one is drawn faster than it is
#: encoded (a GIF frame: about 8 ms on a 2-core machine), and the start-up and transfers
#: of workers are lost.
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


#: Workers encode from this many jobs up: the main process then only orders and writes
#: bytes, and draws nothing once they start, so on 2 cores two workers have both.
ENCODE_FROM_JOBS = 2
#: A worker out of frames takes the second half of the largest range left to another,
#: if that range has at least this many frames: a range taken costs one frame drawn
#: twice (the frame before it, for the encoder), so shorter ones are left to finish.
MIN_STEAL = 4
#: Frames a worker draws ahead, unencoded, while the palette is being built (then waits).
MAX_AHEAD = 24


def render_encoding_in_workers(renderer: Renderer, writer: Writer, indices: Sequence[int],
                               jobs: int, on_frame: Callable[[int], None] | None = None
                               ) -> int | None:
    """Write the frames at ``indices`` to ``writer`` with worker processes drawing *and
    encoding* them (:meth:`Writer.frame_encoder`: quantizing, diffing, compressing), this
    process only putting the encoded frames in order; the number written. None, having
    done nothing, where that is not done: fewer than :data:`ENCODE_FROM_JOBS` jobs, a
    writer without a frame encoder, or workers that cannot be forked (see
    :func:`start_method`).

    This process draws the first frame the writer wants (settling the layout) and a
    second one (what a frame costs); if a frame costs too little for workers
    (:func:`pays_off`) it goes on alone. Otherwise it forks the workers at once, with its
    figure: worker ``w`` of ``n`` owns the ``w``-th of ``n`` equal ranges of consecutive
    frames. Each first draws the frames the writer wants ahead (the palette's samples)
    that fall in its range and sends them here, then draws its range in order, holding
    the frames (at most :data:`MAX_AHEAD`) until this process has primed the writer and
    sent it the frame encoder; from then on it sends every frame encoded. A worker whose
    range is done takes the second half of the largest range left (:data:`MIN_STEAL`),
    drawing the frame before it for its encoder. The bytes are those of one process: the
    encoders' only state is the frame before.
    """
    from .renderer import FrameDrawer
    from .writers.base import Writer as Base

    own = getattr(type(writer), "frame_encoder", Base.frame_encoder)
    if jobs < ENCODE_FROM_JOBS or own is Base.frame_encoder or start_method() != "fork":
        return None
    count = len(indices)
    first = list(dict.fromkeys(writer.frames_wanted_first(count)))
    with FrameDrawer(renderer) as drawer:
        ahead = {position: drawer.draw(indices[position]) for position in first[:1]}
        start = time.perf_counter()
        ahead.update((position, drawer.draw(indices[position])) for position in first[1:2])
        cost = time.perf_counter() - start
        if len(first) < 2 or not pays_off(cost, count - len(ahead), jobs):
            ahead.update((position, drawer.draw(indices[position])) for position in first[2:])
            return _write_here(drawer, writer, indices, first, ahead, on_frame)
        return _write_from_workers(drawer, writer, indices, first, ahead, jobs, on_frame)


def _write_here(drawer: FrameDrawer, writer: Writer, indices: Sequence[int],
                first: list[int], ahead: dict[int, np.ndarray],
                on_frame: Callable[[int], None] | None) -> int:
    """Prime ``writer`` with the frames at ``first`` and write every frame, drawn here."""
    if first:
        writer.prime([ahead[position] for position in first])
    for position, index in enumerate(indices):
        writer.write(ahead.pop(position) if position in ahead else drawer.draw(index))
        if on_frame is not None:
            on_frame(index)
    return len(indices)


def _write_from_workers(drawer: FrameDrawer, writer: Writer, indices: Sequence[int],
                        first: list[int], ahead: dict[int, np.ndarray], jobs: int,
                        on_frame: Callable[[int], None] | None) -> int:
    """Fork the encoding workers (see :func:`render_encoding_in_workers`), prime the writer
    with the samples they send, and write their frames in order."""
    count = len(indices)
    workers = max(1, min(jobs, count // MIN_STEAL))
    bounds = [count * w // workers for w in range(workers + 1)]
    context: Any = multiprocessing.get_context("fork")
    ranges = context.Array("q", [b for w in range(workers) for b in bounds[w:w + 2]])
    shape = ahead[first[0]].shape
    pipes, controls, processes = [], [], []
    try:
        for w in range(workers):
            receiver, sender = context.Pipe(duplex=False)
            orders, control = context.Pipe(duplex=False)
            mine = [p for p in first if bounds[w] <= p < bounds[w + 1] and p not in ahead]
            process = context.Process(
                target=_encode_work, name="mlviz-render-worker", daemon=True,
                args=(drawer, list(indices), ahead, mine, w, ranges, orders, sender))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                process.start()
            sender.close()
            orders.close()
            pipes.append(receiver)
            controls.append(control)
            processes.append(process)
        waiting: dict[int, Any] = {}
        samples = dict(ahead)
        while len(samples) < len(first):
            _receive_any(pipes, processes, waiting, drawer, indices, samples, shape)
        writer.prime([samples.pop(position) for position in first])
        encoder = writer.frame_encoder()
        for control in controls:
            try:
                control.send(encoder)
            except OSError:  # a worker is gone: what it sent last, or how it ended, says why
                while True:
                    _receive_any(pipes, processes, waiting, drawer, indices, samples, shape)
        for position, index in enumerate(indices):
            while position not in waiting:
                _receive_any(pipes, processes, waiting, drawer, indices, samples, shape)
            item = waiting.pop(position)
            if encoder is None:
                writer.write(item)
            else:
                writer.write_encoded(item)
            if on_frame is not None:
                on_frame(index)
    finally:
        for pipe in (*pipes, *controls):
            pipe.close()
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join()
            process.close()
    return count


def _receive_any(pipes: list[Any], processes: list, waiting: dict[int, Any], drawer: FrameDrawer,
                 indices: Sequence[int], samples: dict[int, np.ndarray],
                 shape: tuple[int, ...]) -> None:
    """Wait for any worker's next message and keep what it sent by position: an encoded
    frame in ``waiting``, a sample (raw) in ``samples``; raise for a failure."""
    from multiprocessing.connection import wait

    open_pipes = [pipe for pipe in pipes if not pipe.closed]
    if not open_pipes:  # pragma: no cover - every worker ended without a frame we need
        raise MlvizError("the render workers ended early; nothing was written; try --jobs 1")
    ready: list[Any] = wait(open_pipes)
    for pipe in ready:
        try:
            kind, position, payload = pipe.recv()
            if kind in ("sample", "raw"):
                payload = np.frombuffer(pipe.recv_bytes(), dtype=np.uint8).reshape(shape)
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
        if kind == "sample":
            samples[position] = payload
        else:
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


def _take(ranges: Any, worker: int) -> int | None:
    """The next position for ``worker``: the next of its range, else the first of the
    second half it takes of the largest range left (None: none is worth taking).
    ``ranges`` holds (next, end) of each worker's range, shared by all of them."""
    with ranges.get_lock():
        here, end = ranges[2 * worker], ranges[2 * worker + 1]
        if here < end:
            ranges[2 * worker] = here + 1
            return int(here)
        left = [ranges[2 * v + 1] - ranges[2 * v] for v in range(len(ranges) // 2)]
        victim = max(range(len(left)), key=left.__getitem__)
        if left[victim] < MIN_STEAL:
            return None
        middle = ranges[2 * victim] + left[victim] // 2
        ranges[2 * worker], ranges[2 * worker + 1] = middle + 1, ranges[2 * victim + 1]
        ranges[2 * victim + 1] = middle
        return int(middle)


def _encode_work(drawer: FrameDrawer, indices: list[int], cache: dict[int, np.ndarray],
                 samples: list[int], worker: int, ranges: Any, orders, sender) -> None:
    """In a forked worker: draw and send the ``samples`` (raw), then draw the positions
    :func:`_take` gives, holding them until the frame encoder comes on ``orders``, and
    send each encoded (``None`` for an encoder: raw), then exit."""
    _quiet_worker()
    position = samples[0] if samples else ranges[2 * worker]
    try:
        for position in samples:
            cache[position] = drawer.draw(indices[position])
            sender.send(("sample", position, None))
            sender.send_bytes(cache[position].reshape(-1))
        held: list[tuple[int | None, np.ndarray]] = []  # None: only the encoder's frame before
        encoder: list[Any] = []  # [the encoder] once it came
        previous = -1
        while (taken := _take(ranges, worker)) is not None:
            if taken > 0 and previous != taken - 1:
                position = taken - 1
                before = cache.pop(position, None)
                held.append((None, drawer.draw(indices[position]) if before is None else before))
            position = previous = taken
            frame = cache.pop(position, None)
            held.append((position, drawer.draw(indices[position]) if frame is None else frame))
            if not encoder and (len(held) >= MAX_AHEAD or orders.poll()):
                encoder.append(orders.recv())
            if encoder:
                _send_encoded(held, encoder[0], sender)
        if not encoder:
            encoder.append(orders.recv())
        _send_encoded(held, encoder[0], sender)
    except (BrokenPipeError, EOFError):
        pass  # the main process stopped listening: it is stopping us
    except BaseException as exc:
        from .terminal import one_line

        try:
            sender.send(("error", position, one_line(f"{type(exc).__name__}: {exc}", 300)))
        except OSError:
            pass
    finally:
        sender.close()
        os._exit(0)


def _send_encoded(held: list[tuple[int | None, np.ndarray]], encoder: Any, sender) -> None:
    """Encode the ``held`` frames in order and send them (raw where ``encoder`` is None);
    a frame held for its position ``None`` only goes through the encoder."""
    for position, frame in held:
        if encoder is None:
            if position is not None:
                sender.send(("raw", position, None))
                sender.send_bytes(frame.reshape(-1))
        elif position is None:
            encoder.encode(frame)
        else:
            sender.send(("frame", position, encoder.encode(frame)))
    held.clear()


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
