"""Small helpers for plugins that train with PyTorch (torch is imported only when used)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous setting.

    Tiny models train fastest on one thread: more only add synchronisation, and on a busy
    two-core machine they can make training several times slower.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
