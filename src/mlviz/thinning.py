"""Memory bounded however long training runs: the snapshots kept to be drawn and the rows
of every epoch's traces, each thinned on the fly to an even spread.

Both use one rule: values arrive one epoch at a time; when too many are held, every other
one is dropped and from then on only every ``stride``-th arrival is kept (the stride
doubles), so what is held stays evenly spread over the run and the last always survives.
The bounds are in :mod:`mlviz.limits`: :data:`~mlviz.limits.DEFAULT_FRAMES`,
:data:`~mlviz.limits.MAX_SNAPSHOT_BYTES`, :data:`~mlviz.limits.MAX_TRACE_ROWS` and
:data:`~mlviz.limits.MAX_TRACE_BYTES`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import limits
from .schedule import FrameSchedule
from .snapshot import Snapshot

#: Bytes counted for a value that is not an array (a number, a string, ...): its object.
OBJECT_BYTES = 64

#: A snapshot's ``keyframe`` levels (:func:`keyframe_level`). A frame budget keeps every
#: ``MUST_KEEP`` snapshot (evenly thinned only when they alone are too many), then as many
#: ``WANTED`` ones as fit (evenly), then fills what room is left with the others.
MUST_KEEP = 2
WANTED = 1


def keyframe_level(snapshot: Snapshot) -> int:
    """How much a frame budget should keep ``snapshot``, from its ``keyframe`` attribute:
    :data:`MUST_KEEP` for ``True`` (a bool, as plugins for mlviz 0.1 and 0.2 set it) or a
    whole number of 2 or more, :data:`WANTED` for 1, 0 for ``False``, a whole number
    below 1, ``None`` or no such attribute (any other value: true or not)."""
    value = getattr(snapshot, "keyframe", False)
    if isinstance(value, (bool, np.bool_)):
        return MUST_KEEP if value else 0
    if isinstance(value, (int, np.integer)):
        return min(max(int(value), 0), MUST_KEEP)
    return MUST_KEEP if value else 0


def value_bytes(value: Any) -> int:
    """About how many bytes ``value`` holds: an array's data, a mapping's or a sequence's
    items, :data:`OBJECT_BYTES` for anything else."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + OBJECT_BYTES
    if isinstance(value, Mapping):
        return OBJECT_BYTES + sum(value_bytes(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return OBJECT_BYTES + sum(value_bytes(item) for item in value)
    return OBJECT_BYTES


def snapshot_bytes(snapshot: Snapshot) -> int:
    """About how many bytes ``snapshot`` holds (its fields and parameters)."""
    return OBJECT_BYTES + sum(value_bytes(getattr(snapshot, item.name))
                              for item in dataclasses.fields(snapshot))


class FrameKeeper:
    """Keeps the snapshots that may be drawn, with memory bounded under a frame budget.

    The budget is the schedule's, else :data:`~mlviz.limits.DEFAULT_FRAMES`. It keeps
    at most about four times the budget and :data:`~mlviz.limits.MAX_SNAPSHOT_BYTES`:
    each time there are too many, every other one is dropped and the stride doubles, so
    what is kept stays spread evenly over the run. The frames are then the kept
    snapshots nearest to ``budget`` evenly spaced places (exactly
    :meth:`FrameSchedule.select` when nothing had to be dropped). A snapshot whose
    ``keyframe`` attribute is true (e.g. k-means' converged state of each K) is always
    drawn (evenly thinned like the others when there are too many); a snapshot whose
    ``keyframe`` is 1 (:data:`WANTED`) is drawn where the must-keep ones leave room; the
    other frames fill the room the keyframes leave (see :func:`keyframe_level`).
    """

    SLACK = 4  # snapshots kept per frame of the budget, at most

    def __init__(self, schedule: FrameSchedule) -> None:
        self.schedule = schedule
        self.budget = schedule.budget or limits.DEFAULT_FRAMES
        self.kept: list[Snapshot] = []
        self.keys: list[Snapshot] = []  # MUST_KEEP keyframes: drawn first
        self.wanted: list[Snapshot] = []  # WANTED keyframes: drawn next, as they fit
        self.stride = 1
        self.key_stride = 1
        self.wanted_stride = 1
        self.keys_seen = 0
        self.wanted_seen = 0
        self.seen = 0  # snapshots the rhythm wanted so far
        self.nbytes = 0  # held by ``kept``, ``keys`` and ``wanted``

    def add(self, snapshot: Snapshot) -> None:
        level = keyframe_level(snapshot)
        if level == MUST_KEEP:
            index, self.keys_seen = self.keys_seen, self.keys_seen + 1
            if index % self.key_stride == 0:
                self.keys.append(snapshot)
                self.nbytes += snapshot_bytes(snapshot)
        elif level == WANTED:
            index, self.wanted_seen = self.wanted_seen, self.wanted_seen + 1
            if index % self.wanted_stride == 0:
                self.wanted.append(snapshot)
                self.nbytes += snapshot_bytes(snapshot)
        if self.schedule.wants(snapshot.epoch):
            index, self.seen = self.seen, self.seen + 1
            if index % self.stride == 0:
                self.kept.append(snapshot)
                self.nbytes += snapshot_bytes(snapshot)
        self._bound()

    def _bound(self) -> None:
        """Halve what is held while there are too many snapshots or too many bytes: the
        longest list (of equals: the rhythm's, then the wanted, then the must-keep)."""
        most = self.SLACK * self.budget + 1
        while max(len(self.kept), len(self.wanted), len(self.keys)) > most or (
                self.nbytes > limits.MAX_SNAPSHOT_BYTES
                and len(self.kept) + len(self.wanted) + len(self.keys) > 2):
            longest = max(len(self.kept), len(self.wanted), len(self.keys))
            if len(self.kept) == longest:
                self.kept, dropped = self.kept[::2], self.kept[1::2]
                self.stride *= 2
            elif len(self.wanted) == longest:
                self.wanted, dropped = self.wanted[::2], self.wanted[1::2]
                self.wanted_stride *= 2
            else:
                self.keys, dropped = self.keys[::2], self.keys[1::2]
                self.key_stride *= 2
            self.nbytes -= sum(snapshot_bytes(s) for s in dropped)

    def chosen(self, last: Snapshot) -> tuple[Snapshot, ...]:
        spread = self._spread(last)
        if not self.keys and not self.wanted:
            return spread
        return with_keys(spread, self.keys, last, self.budget, self.wanted)

    def _spread(self, last: Snapshot) -> tuple[Snapshot, ...]:
        kept = list(self.kept)
        if not kept or kept[-1] is not last:
            kept.append(last)
        budget = self.budget
        if budget == 1:
            return (last,)
        if self.stride == 1 or len(kept) <= budget:
            schedule = self.schedule
            if schedule.budget is None and len(kept) > budget:  # the default budget
                schedule = schedule.with_budget(budget)
            return tuple(kept[i] for i in schedule.select([s.epoch for s in kept]))
        # Places of the kept snapshots among the candidates; the last snapshot comes after
        # every one the rhythm wanted, or is the last of them.
        last_place = self.seen - 1 if self.schedule.wants(last.epoch) else self.seen
        places = np.array([*(self.stride * np.arange(len(kept) - 1)), last_place])
        targets = np.linspace(0, places[-1], budget)
        picks = np.unique(np.abs(places[None, :] - targets[:, None]).argmin(axis=1))
        return tuple(kept[i] for i in picks)


def with_keys(spread: Sequence[Snapshot], keys: Sequence[Snapshot], last: Snapshot,
              budget: int, wanted: Sequence[Snapshot] = ()) -> tuple[Snapshot, ...]:
    """At most ``budget`` snapshots: the must-keep ``keys`` and ``last`` (evenly thinned
    if they alone are too many), then as many of the ``wanted`` keyframes as fit, evenly,
    then as many of the evenly ``spread`` others as fit, evenly."""
    if budget == 1:
        return (last,)
    must = {s.epoch: s for s in (*keys, last)}
    if len(must) >= budget:
        return _evenly(sorted(must.values(), key=lambda s: s.epoch), budget)
    room = budget - len(must)
    wished = _evenly([s for s in wanted if s.epoch not in must], room)
    taken = {*must, *(s.epoch for s in wished)}
    others = _evenly([s for s in spread if s.epoch not in taken], room - len(wished))
    return tuple(sorted([*must.values(), *wished, *others], key=lambda s: s.epoch))


def _evenly(snapshots: Sequence[Snapshot], room: int) -> tuple[Snapshot, ...]:
    """At most ``room`` of ``snapshots``, evenly spread (first and last included)."""
    if len(snapshots) <= room:
        return tuple(snapshots)
    if room <= 0:
        return ()
    picks = np.unique(np.round(np.linspace(0, len(snapshots) - 1, room)).astype(int))
    return tuple(snapshots[p] for p in picks)


def thin_snapshots(snapshots: Sequence[Snapshot], budget: int) -> tuple[Snapshot, ...]:
    """At most ``budget`` of ``snapshots``, evenly spread, always keeping the must-keep
    keyframes and the last, then the wanted ones as they fit (:func:`keyframe_level`):
    what a frame budget keeps of a finished run."""
    snapshots = tuple(snapshots)
    if budget >= len(snapshots):
        return snapshots
    levels = [keyframe_level(s) for s in snapshots]
    if not any(levels):  # evenly over the whole run, first and last included
        picks = FrameSchedule.every(budget).select([s.epoch for s in snapshots])
        return tuple(snapshots[i] for i in picks)
    keys = [s for s, level in zip(snapshots, levels) if level == MUST_KEEP]
    wanted = [s for s, level in zip(snapshots, levels) if level == WANTED]
    return with_keys(snapshots, keys, snapshots[-1], budget, wanted)


class TraceRows:
    """Every epoch's row of some named columns (the epoch, the loss, each trace), held in
    at most :data:`~mlviz.limits.MAX_TRACE_ROWS` rows and about
    :data:`~mlviz.limits.MAX_TRACE_BYTES` bytes.

    Rows are packed into arrays a few hundred at a time (or when they hold a 16th of
    the bytes allowed). Past either bound every other row is dropped and only every ``stride``-th epoch is kept from then on; the last row
    always is. ``stride`` is 1 while every row is kept.
    """

    CHUNK = 256  # rows packed into one array per column, at most
    PENDING_SHARE = 16  # rows waiting to be packed hold 1/16 of MAX_TRACE_BYTES, at most

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.chunks: list[list[np.ndarray]] = [[] for _ in self.names]
        self.pending: list[list[Any]] = [[] for _ in self.names]
        self.pending_bytes = 0
        self.nbytes = 0  # of the packed chunks
        self.rows = 0  # rows held, packed or pending
        self.stride = 1
        self.seen = 0
        self.tail: Sequence[Any] | None = None  # the last row, when the stride skipped it

    def add(self, row: Sequence[Any]) -> None:
        """The next epoch's values, one per name."""
        index, self.seen = self.seen, self.seen + 1
        if index % self.stride:
            self.tail = row
            return
        self.tail = None
        for pending, value in zip(self.pending, row):
            pending.append(value)
        self.rows += 1
        self.pending_bytes += sum(value_bytes(value) for value in row)
        if (len(self.pending[0]) >= self.CHUNK or self.rows > limits.MAX_TRACE_ROWS
                or self.pending_bytes * self.PENDING_SHARE >= limits.MAX_TRACE_BYTES):
            self._pack()

    def _pack(self, bound: bool = True) -> None:
        for chunks, pending in zip(self.chunks, self.pending):
            if pending:
                chunk = np.asarray(pending)
                chunks.append(chunk)
                self.nbytes += chunk.nbytes
                pending.clear()
        self.pending_bytes = 0
        while bound and self.rows > 2 and (self.rows > limits.MAX_TRACE_ROWS
                                 or self.nbytes > limits.MAX_TRACE_BYTES):
            self._halve()

    def _halve(self) -> None:
        """Keep every other row held (the first included); double the stride."""
        self.nbytes = 0
        for index, chunks in enumerate(self.chunks):
            parts, start = [], 0
            for chunk in chunks:
                parts.append(chunk[start % 2::2])
                start += len(chunk)
            whole = np.concatenate(parts)
            self.chunks[index] = [whole]
            self.nbytes += whole.nbytes
        self.rows = len(self.chunks[0][0])
        self.stride *= 2

    def arrays(self) -> dict[str, np.ndarray]:
        """Each column's held rows, the last epoch's included, as one read-only array
        (once: the rows are handed over)."""
        if self.tail is not None:
            for pending, value in zip(self.pending, self.tail):
                pending.append(value)
            self.tail = None
            self.rows += 1
        self._pack(bound=False)  # the last row stays
        arrays = {}
        for index, name in enumerate(self.names):  # one column at a time: no second copy
            chunks, self.chunks[index] = self.chunks[index], []
            if chunks:
                array = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
                array.flags.writeable = False  # a Run takes it as it is, uncopied
                arrays[name] = array
            del chunks
        return arrays
