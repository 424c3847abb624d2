"""Progress bars (tqdm): epochs trained and frames drawn, on stderr or as notebook widgets.

``tqdm.auto`` picks a widget in Jupyter when ipywidgets is installed and a text bar
otherwise. The command line shows bars only on a terminal and never with ``--quiet``
(:func:`wanted`); the Python API shows them when asked (``progress=True``). tqdm is
imported only when a bar is shown.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .config import Config
    from .snapshot import Snapshot

#: Config fields that count a run's epochs (the first positive one is used); epoch 0 is
#: the state before training, so a run of N epochs yields N + 1 snapshots.
EPOCH_FIELDS = ("epochs", "max_epochs", "n_epochs", "steps", "n_steps")


def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether the command line shows bars: not ``quiet``, and stderr is a terminal."""
    stream = stream or sys.stderr
    return not quiet and bool(getattr(stream, "isatty", lambda: False)())


def bar(total: int | None, *, desc: str, unit: str, enabled: bool = True,
        stream: TextIO | None = None) -> Any:
    """A tqdm bar (widget in a notebook); ``total`` None shows the count and rate only.

    Disabled, it is a silent bar that accepts the same calls (and tqdm is not imported:
    it costs a command line about 0.1 s).
    """
    if not enabled:
        return SilentBar(total, desc)
    with warnings.catch_warnings():
        # Without ipywidgets a notebook gets a text bar; tqdm warns about it on import.
        warnings.filterwarnings("ignore", message=".*IProgress not found.*")
        from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False,
                file=stream or sys.stderr, dynamic_ncols=True, mininterval=0.1)


class SilentBar:
    """What :func:`bar` gives when disabled: tqdm's calls, counting and showing nothing."""

    disable = True

    def __init__(self, total: int | None = None, desc: str = "") -> None:
        self.total, self.desc = total, desc
        self.n: float = 0

    def update(self, n: float = 1) -> None:
        self.n += n

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc or ""

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def refresh(self) -> None:
        pass

    def clear(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> SilentBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def expected_snapshots(config: Config, epoch_limit: int | None = None) -> int | None:
    """How many snapshots training yields at most, if the config or ``epoch_limit`` says
    (:data:`EPOCH_FIELDS`); None when unknown (e.g. ``epochs=0`` meaning "until it
    converges")."""
    total = None
    for name in EPOCH_FIELDS:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            total = value + 1
            break
    if epoch_limit is not None:
        total = epoch_limit if total is None else min(total, epoch_limit)
    return total


@contextmanager
def training(
    name: str,
    config: Config,
    *,
    epoch_limit: int | None = None,
    enabled: bool = True,
    on_epoch: Callable[[Snapshot], None] | None = None,
    stream: TextIO | None = None,
) -> Iterator[Callable[[Snapshot], None] | None]:
    """An ``on_epoch`` callback for :func:`mlviz.train` that moves a training bar (epochs,
    rate, and the ETA when the total is known) and then calls ``on_epoch``; None when
    there is neither a bar nor a callback. The bar goes when the block ends."""
    if not enabled:
        yield on_epoch
        return
    total = expected_snapshots(config, epoch_limit)
    progress = bar(total, desc=f"training {name}", unit="epoch", stream=stream)

    def advance(snapshot: Snapshot) -> None:
        done = snapshot.epoch + 1
        if progress.total is not None and done > progress.total:
            progress.total = None  # the config's count was not this trainer's: rate only
        if done > progress.n:
            progress.update(done - progress.n)
        if on_epoch is not None:
            on_epoch(snapshot)

    try:
        yield advance
    finally:
        progress.close()
