"""The Trainer protocol and the training loop that turns snapshots into a Run."""

from __future__ import annotations

import dataclasses
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .config import Config
from .dataset import Dataset
from .errors import ContractError
from .schedule import FrameSchedule
from .snapshot import FrozenDict, Snapshot, frozen_array
from .thinning import FrameKeeper, TraceRows


@runtime_checkable
class Trainer(Protocol):
    """Trains on a dataset and yields one :class:`Snapshot` per epoch, epochs increasing.

    A trainer is built from its algorithm's config (``Algorithm.trainer(config)``) and holds
    no state between runs: calling ``run`` twice with the same config gives the same snapshots.
    """

    def run(self, dataset: Dataset) -> Iterator[Snapshot]: ...


#: The key of ``dataclasses.field(metadata=...)`` that declares a snapshot field a trace.
TRACE = "mlviz.trace"


def traced(default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A snapshot field that is also a trace, recorded at every epoch: the same as
    naming it in the snapshot class's ``traces``, declared where the field is::

        @dataclass(frozen=True)
        class BoostSnapshot(Snapshot):
            accuracy: float = traced(0.0)

    ``kwargs`` go to :func:`dataclasses.field` (``default_factory``, ...).
    """
    metadata = {**kwargs.pop("metadata", {}), TRACE: True}
    return field(default=default, metadata=metadata, **kwargs)


def declared_traces(snapshot_class: type[Snapshot]) -> tuple[str, ...]:
    """The traces a snapshot class declares: its ``traces`` and its :func:`traced` fields."""
    names = list(snapshot_class.traces)
    for item in dataclasses.fields(snapshot_class):
        if item.metadata.get(TRACE) and item.name not in names:
            names.append(item.name)
    return tuple(names)


#: Why training ended before the trainer did (``Run.stopped``).
INTERRUPTED, EPOCH_LIMIT, TIME_LIMIT = "interrupted", "epoch limit", "time limit"


@dataclass(frozen=True)
class Run:
    """A finished training run: what every panel receives in ``setup``.

    ``snapshots`` are the ones chosen to be drawn (one per frame). ``epochs``, ``losses`` and
    ``traces`` hold the whole history, every epoch, however sparse the frames: read it with
    :meth:`trace` or :meth:`history`. (A run longer than :mod:`mlviz.limits` allows,
    :data:`~mlviz.limits.MAX_TRACE_ROWS` epochs or :data:`~mlviz.limits.MAX_TRACE_BYTES`,
    keeps every 2nd, 4th, ... epoch of it, evenly, the last included.) ``ranges`` holds
    the range (lowest, highest finite value) over every epoch of each numeric snapshot
    field and parameter that is not a trace (and, in a thinned run, of the loss and each
    trace); :meth:`trace_range` answers for both. ``stopped`` says why training ended early
    (``""``: the trainer finished; ``"interrupted"``, ``"epoch limit"``, ``"time limit"``).
    ``trained`` counts the epochs trained when it is more than ``epochs`` holds (a
    thinned run; 0 otherwise): :attr:`n_epochs` answers either way.
    """

    config: Config
    dataset: Dataset
    snapshots: tuple[Snapshot, ...]
    epochs: np.ndarray
    losses: np.ndarray
    traces: Mapping[str, np.ndarray] = field(default_factory=dict)
    stopped: str = ""
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    trained: int = 0

    def __post_init__(self) -> None:
        epochs = frozen_array(np.asarray(self.epochs, dtype=int))
        object.__setattr__(self, "epochs", epochs)
        object.__setattr__(self, "losses", frozen_array(np.asarray(self.losses, dtype=float)))
        traces = {}
        for name, values in dict(self.traces).items():
            values = _frozen(values)
            if values.shape[:1] != epochs.shape:
                raise ContractError(
                    f"trace '{name}' has {values.shape[:1]} entries for {len(epochs)} epochs"
                )
            traces[name] = values
        object.__setattr__(self, "traces", FrozenDict(traces))
        object.__setattr__(self, "ranges", FrozenDict(
            {name: (float(lo), float(hi)) for name, (lo, hi) in dict(self.ranges).items()}))

    @property
    def n_frames(self) -> int:
        return len(self.snapshots)

    @property
    def n_epochs(self) -> int:
        """How many epochs were trained (``epochs`` may hold fewer: a thinned run)."""
        return max(self.trained, len(self.epochs))

    @property
    def trace_names(self) -> tuple[str, ...]:
        """Every name :meth:`trace` answers: ``epoch``, ``loss`` and the recorded traces."""
        keys = self.snapshots[0].params if self.snapshots else {}
        whole = bool(keys) and all(f"params.{key}" in self.traces for key in keys)
        return ("epoch", "loss", *self.traces, *(("params",) if whole else ()))

    def has_trace(self, name: str) -> bool:
        return name in self.trace_names

    def _stop(self, until: int | None) -> int:
        if until is None:
            return len(self.epochs)
        return int(np.searchsorted(self.epochs, until, side="right"))

    def trace(self, name: str, until: int | None = None) -> np.ndarray:
        """Every epoch's value of ``name`` (up to and including epoch ``until``).

        ``name`` is ``"loss"``, ``"epoch"``, a recorded trace, or ``"params"``: every
        recorded parameter flattened into one row per epoch, shape ``(epochs, n_params)``.
        """
        stop = self._stop(until)
        if name == "loss":
            return self.losses[:stop]
        if name == "epoch":
            return self.epochs[:stop]
        if name in self.traces:
            return self.traces[name][:stop]
        if name == "params" and "params" in self.trace_names:
            parts = [self.traces[f"params.{key}"][:stop].reshape(stop, -1)
                     for key in self.snapshots[0].params]
            return np.concatenate(parts, axis=1)
        known = ", ".join(self.trace_names)
        raise KeyError(f"no trace '{name}' was recorded; recorded: {known}")

    def trace_range(self, name: str) -> tuple[float, float]:
        """(lowest, highest) finite value of ``name`` over the whole run, every epoch
        however few are drawn: a trace (:meth:`trace`) or a numeric snapshot field or
        ``params.KEY`` (kept by :func:`train` for every one). ``(nan, nan)`` when it never
        had a finite value. For axis limits, without recording a trace only for them."""
        if name in self.ranges:
            return self.ranges[name]
        if name not in self.trace_names:
            known = ", ".join(dict.fromkeys([*self.trace_names, *self.ranges]))
            raise KeyError(f"no range of '{name}' was kept; known: {known}")
        return _finite_range(np.asarray(self.trace(name), dtype=float))

    def history(self, name: str, until: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(epochs, values)`` of a trace up to and including epoch ``until``."""
        return self.trace("epoch", until), self.trace(name, until)

    def losses_until(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The loss history up to and including ``epoch``: (epochs, losses)."""
        return self.history("loss", epoch)


def _frozen(values: Any) -> np.ndarray:
    """``values`` read-only: copied, unless it is a read-only array of its own already (as
    :func:`train` builds them: a trace is not held twice)."""
    if isinstance(values, np.ndarray) and values.base is None and not values.flags.writeable:
        return values
    return frozen_array(values)


def _finite_range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return math.nan, math.nan
    return float(finite.min()), float(finite.max())


class _Recorder:
    """Records the epoch, the loss and the declared traces of every snapshot (in
    :class:`~mlviz.thinning.TraceRows`: thinned past a stated size), checking each trace
    keeps its shape, and the range of every other numeric field and parameter (and of
    the loss and traces, reported when their rows were thinned)."""

    def __init__(self, first: Snapshot, extra: Iterable[str]) -> None:
        declared = set(declared_traces(type(first)))
        names: list[str] = []
        for name in (*declared_traces(type(first)), *extra):
            if name in ("loss", "epoch"):
                continue
            expanded = [f"params.{k}" for k in first.params] if name == "params" else [name]
            for item in expanded:
                if item in names:
                    continue
                if first.has(item):
                    names.append(item)
                elif name in declared:  # asked for by others: the scene check names them
                    raise ContractError(
                        f"trace '{item}' is not a field of {type(first).__name__}"
                        + (" (nor a key of its params)" if item.startswith("params.") else "")
                    )
        self.names = names
        self.rows = TraceRows(("epoch", "loss", *names))
        self.shapes: dict[str, tuple[int, ...]] = {}
        candidates = [f.name for f in dataclasses.fields(first)
                      if f.name not in ("epoch", "loss", "params")]
        candidates += [f"params.{key}" for key in first.params]
        self.ranged = [name for name in candidates
                       if name not in names and _numeric(Snapshot.value(first, name))]
        # The loss's and the traces' ranges, for a run whose rows are thinned.
        self.trace_ranged = ["loss", *(name for name in names
                                       if _numeric(Snapshot.value(first, name)))]
        self.lows: dict[str, float] = {}
        self.highs: dict[str, float] = {}
        # Values wait in buffers and are reduced a batch at a time (one numpy call per
        # field per batch, not per epoch); a batch holds at most RANGE_BATCH numbers.
        self.pending: dict[str, list[Any]] = {
            name: [] for name in (*self.ranged, *self.trace_ranged)}
        self.pending_size = 0
        self.accessors = [(name, name[len("params."):] if name.startswith("params.") else "",
                           pending) for name, pending in self.pending.items()]

    def add(self, snapshot: Snapshot) -> None:
        params = snapshot.params
        size = 0
        for name, key, pending in self.accessors:
            value = params[key] if key else getattr(snapshot, name)
            pending.append(value)
            size += getattr(value, "size", 1)
        self.pending_size += size
        if self.pending_size >= RANGE_BATCH:
            self._reduce()
        loss = snapshot.loss if math.isfinite(snapshot.loss) else math.nan
        row = [snapshot.epoch, loss]
        for name in self.names:
            value = Snapshot.value(snapshot, name)
            shape = np.shape(value)
            expected = self.shapes.setdefault(name, shape)
            if shape != expected:
                raise ContractError(
                    f"trace '{name}' changed shape from {expected} to {shape} at epoch "
                    f"{snapshot.epoch}; a trace must keep its shape (or not be a trace)"
                )
            row.append(value)
        self.rows.add(row)

    def arrays(self) -> dict[str, np.ndarray]:
        """``epoch``, ``loss`` and each trace, one row per epoch kept."""
        return self.rows.arrays()

    def _reduce(self) -> None:
        """Fold the buffered values into each field's range."""
        for name, values in self.pending.items():
            if not values:
                continue
            try:  # numbers, or arrays of one shape: one array
                flat = np.asarray(values, dtype=float).ravel()
            except (TypeError, ValueError):  # shapes or kinds vary: the numeric ones
                parts = [np.asarray(v, dtype=float).ravel() for v in values if _numeric(v)]
                flat = np.concatenate(parts) if parts else np.empty(0)
            lo, hi = _finite_range(flat)
            if lo == lo:  # not NaN: some finite value
                self.lows[name] = min(self.lows.get(name, lo), lo)
                self.highs[name] = max(self.highs.get(name, hi), hi)
            values.clear()
        self.pending_size = 0

    def ranges(self) -> dict[str, tuple[float, float]]:
        """Each field's range over every epoch; the loss's and the traces' too when their
        rows were thinned (the rows kept no longer hold every extreme)."""
        self._reduce()
        names = [*self.ranged, *(self.trace_ranged if self.rows.stride > 1 else ())]
        return {name: (self.lows.get(name, math.nan), self.highs.get(name, math.nan))
                for name in names}


#: Numbers buffered before the field ranges are updated (bounds the memory they hold).
RANGE_BATCH = 1 << 16


def _numeric(value: Any) -> bool:
    """A number or an array of numbers (not a bool, a string or an object)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and value.size > 0


class _DeferredInterrupt:
    """With ``keep_on_interrupt``: Ctrl-C while the trainer computes an epoch interrupts it
    at once, as ever; one that comes while an epoch is being recorded (which a
    :class:`KeyboardInterrupt` would leave half done) waits until it is recorded, then
    stops training. Only in the main thread, over a SIGINT handler that is Python's."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.in_trainer = False
        self.previous: Callable[..., Any] | None = None
        self.waiting: tuple[int, Any] | None = None

    def __enter__(self) -> _DeferredInterrupt:
        if self.enabled and threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self.previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.in_trainer and self.previous is not None:
            self.previous(signum, frame)
        else:
            self.waiting = (signum, frame)

    def requested(self) -> bool:
        """Whether a Ctrl-C waited (handed now to the handler it deferred: its
        :class:`KeyboardInterrupt` means stop)."""
        if self.waiting is None or self.previous is None:
            return False
        waiting, self.waiting = self.waiting, None
        try:
            self.previous(*waiting)
        except KeyboardInterrupt:
            return True
        return False


def train(
    trainer: Trainer,
    dataset: Dataset,
    config: Config,
    schedule: FrameSchedule | None = None,
    on_epoch: Callable[[Snapshot], None] | None = None,
    *,
    traces: Iterable[str] = (),
    max_epochs: int | None = None,
    max_seconds: float | None = None,
    keep_on_interrupt: bool = False,
) -> Run:
    """Run ``trainer`` to the end, record every trace at every epoch, keep what is drawn.

    ``traces`` adds trace names to the ones the snapshot class declares (panels that need
    more, e.g. ``"params"`` for a landscape's PCA plane); those the snapshots do not have
    are left out, for the scene's check to report. Memory stays bounded however long
    the trainer runs: only the snapshots the schedule may draw are held, at most about
    four times the frame budget (the schedule's, else
    :data:`~mlviz.limits.DEFAULT_FRAMES`) and :data:`~mlviz.limits.MAX_SNAPSHOT_BYTES`;
    the traces are thinned past :data:`~mlviz.limits.MAX_TRACE_ROWS` epochs or
    :data:`~mlviz.limits.MAX_TRACE_BYTES` (see :mod:`mlviz.thinning`). ``max_epochs`` and ``max_seconds`` stop a trainer that runs long; with
    ``keep_on_interrupt`` Ctrl-C stops training and keeps what was trained so far. Either
    way ``Run.stopped`` says why.
    """
    schedule = schedule or FrameSchedule.every()
    keeper = FrameKeeper(schedule)
    recorder: _Recorder | None = None
    count = 0
    last: Snapshot | None = None
    stopped = ""
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    snapshots = iter(trainer.run(dataset))
    with _DeferredInterrupt(keep_on_interrupt) as interrupt:
        while True:
            try:
                interrupt.in_trainer = True
                snapshot = next(snapshots, None)
            except KeyboardInterrupt:
                if not keep_on_interrupt or last is None:
                    raise
                stopped = INTERRUPTED
                break
            finally:
                interrupt.in_trainer = False
            if snapshot is None:
                break
            if not isinstance(snapshot, Snapshot):
                raise ContractError(
                    f"the trainer yielded a {type(snapshot).__name__}, not a Snapshot")
            if last is not None and snapshot.epoch <= last.epoch:
                raise ContractError(f"epochs must increase: {snapshot.epoch} after {last.epoch}")
            if recorder is None:
                recorder = _Recorder(snapshot, traces)
            recorder.add(snapshot)
            keeper.add(snapshot)
            count += 1
            last = snapshot
            if on_epoch is not None:
                on_epoch(snapshot)
            if max_epochs is not None and count >= max_epochs:
                stopped = EPOCH_LIMIT
            elif deadline is not None and time.monotonic() >= deadline:
                stopped = TIME_LIMIT
            elif interrupt.requested():
                stopped = INTERRUPTED
            if stopped:
                break
    if last is None or recorder is None:
        raise ContractError("the trainer yielded no snapshot")
    traces = recorder.arrays()
    traces_epochs = traces.pop("epoch")
    return Run(
        config=config,
        dataset=dataset,
        snapshots=keeper.chosen(last),
        epochs=traces_epochs,
        losses=traces.pop("loss"),
        traces=traces,
        stopped=stopped,
        ranges=recorder.ranges(),
        trained=count if count > len(traces_epochs) else 0,
    )
