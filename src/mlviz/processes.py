"""Worker processes: the one way mlviz starts a pool of them, and the start method rule.

The gallery renders algorithms in a pool (spawned: it runs beside threads of its own), a
sweep trains its runs in one, and the renderer's workers draw frames; each asks
:func:`start_method` whether forking is safe here and :func:`process_pool` for the pool.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Literal

Method = Literal["fork", "spawn", "forkserver"]


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
    :func:`start_method`), ``initializer`` run in each; shut down when the block ends."""
    context = multiprocessing.get_context(method or start_method())
    with warnings.catch_warnings():  # Python >= 3.12 warns about forking with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pool = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context,
                                   initializer=initializer)
    with pool:
        yield pool
