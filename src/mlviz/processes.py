"""Worker processes: the one way mlviz starts a pool of them, and the start method rule.

The gallery renders algorithms in a pool (spawned: it runs beside threads of its own), a
sweep trains its runs in one, and the renderer's workers draw frames; each asks
:func:`start_method` whether forking is safe here and :func:`process_pool` for the pool.
A pool left by an exception (Ctrl-C, SIGTERM) stops its workers with SIGTERM, so that each
unwinds its own clean-up, and waits for them: none is left running or writing.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Literal

Method = Literal["fork", "spawn", "forkserver"]
#: Seconds a worker is given to clean up after SIGTERM before it is killed.
STOP_GRACE_S = 10.0


def start_method() -> Method:
    """``fork`` where it is safe, else ``spawn``.

    A forked worker starts at once, with this process's modules. Forking is refused on
    macOS (system libraries that do not survive it) and where any thread runs besides the
    main one and tqdm's progress monitor: another thread might hold a lock the worker
    would need (a notebook kernel has several).
    """
    if sys.platform == "darwin" or "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    others = [t for t in threading.enumerate()
              if t is not threading.main_thread() and type(t).__name__ != "TMonitor"]
    return "spawn" if others else "fork"


@contextmanager
def process_pool(workers: int, *, method: Method | None = None,
                 initializer: Callable[[], None] | None = None,
                 ) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``max(1, workers)`` processes started with ``method`` (default:
    :func:`start_method`), ``initializer`` run in each; shut down when the block ends.
    An exception out of the block stops the workers first (:func:`stop_workers`)."""
    context = multiprocessing.get_context(method or start_method())
    with warnings.catch_warnings():  # Python >= 3.12 warns about forking with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pool = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context,
                                   initializer=initializer)
    with pool:
        try:
            yield pool
        except BaseException:
            stop_workers(pool)
            raise


def stop_workers(pool: ProcessPoolExecutor, grace: float = STOP_GRACE_S) -> None:
    """Send SIGTERM to every worker of ``pool`` still running and wait for each to end
    (SIGKILL after ``grace`` seconds); queued jobs are cancelled. A worker that handles
    SIGTERM (the gallery's) removes its own temporary files before it exits."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            try:
                os.kill(process.pid, signal.SIGTERM)
            except (ProcessLookupError, TypeError):
                pass
    for process in processes:
        process.join(grace)
        if process.is_alive():
            process.kill()
            process.join()
