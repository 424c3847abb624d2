"""A run record's JSON and arrays checked in full before anything is built from them.

A record is a file anyone can edit. Every value is checked against what it must be: the
metadata's types, the dataset (a finite 2D table, one target per row), the history (epochs
increasing, one loss and one trace row per epoch), and every snapshot against its class:
exactly its fields, each of its declared type, arrays of one dimensionality and kind
through the run, traced values of the trace's shape and equal to the trace at that epoch,
values within the recorded ranges, and what the class's own :meth:`Snapshot.validate`
asks. Any failure is one :class:`~mlviz.errors.RecordError` line naming the file and the
value, so a damaged record is never drawn (and never blamed on mlviz or a plugin).
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ContractError, DataError, MlvizError, RecordError
from .limits import check_magnitude
from .recordfile import RecordArchive
from .schedule import FrameSchedule
from .snapshot import Snapshot
from .trainer import Run

#: Nesting of the record's JSON at most (a record written by mlviz nests about 10 deep).
MAX_DEPTH = 32
_INT64 = 2**63


def _kind(value: Any) -> str:
    """What a JSON or decoded value is, in a message: 'a string', 'a 2D float array'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}D {value.dtype.name} array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


def check_depth(path: Path, meta: Any) -> None:
    """:class:`RecordError` if ``meta`` nests deeper than :data:`MAX_DEPTH` (no recursion)."""
    stack = [(meta, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RecordError(f"{path} is damaged: its JSON nests more than {MAX_DEPTH} deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


class Reader:
    """Decodes a record's values, checking each; errors name the file and the value."""

    def __init__(self, path: Path, archive: RecordArchive) -> None:
        self.path, self.archive = path, archive
        self._arrays: dict[str, np.ndarray] = {}

    def fail(self, where: str, what: str) -> RecordError:
        """The error for the value at ``where`` (a path such as ``snapshots[2].labels``)."""
        where = where.replace("'", "")
        shown = where if where in ("the record", "record.json") else f"'{where}'"
        return RecordError(f"{self.path} is damaged: {shown} {what}")

    # Plain JSON values ---------------------------------------------------------------

    def field(self, meta: Any, key: str, where: str = "") -> Any:
        if not isinstance(meta, dict):
            raise self.fail(where or "the record", f"must be a mapping, not {_kind(meta)}")
        if key not in meta:
            raise self.fail(f"'{where}{key}'", "is missing")
        return meta[key]

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"must be a string, not {_kind(value)}")
        return value

    def integer(self, value: Any, where: str, low: int = -_INT64) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"must be a whole number, not {_kind(value)}")
        if low > -_INT64 and value < low:
            raise self.fail(where, f"must be at least {low}, not {value}")
        if not low <= value < _INT64:
            shown = f"{value}" if abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
            raise self.fail(where, f"is out of range ({shown})")
        return value

    def number(self, value: Any, where: str, finite: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"must be a number, not {_kind(value)}")
        try:
            result = float(value)
        except OverflowError:
            raise self.fail(where, "is out of range") from None
        if finite and not math.isfinite(result):
            raise self.fail(where, f"must be finite, not {value}")
        return result

    def mapping(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.fail(where, f"must be a mapping, not {_kind(value)}")
        return value

    def listing(self, value: Any, where: str) -> list:
        if not isinstance(value, list):
            raise self.fail(where, f"must be a list, not {_kind(value)}")
        return value

    # Encoded values (docs/records.rst) -----------------------------------------------

    def decode(self, value: Any, where: str) -> Any:
        """The value an encoded value stands for; arrays are read from the archive."""
        if isinstance(value, list):
            return [self.decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            if len(value) == 1:
                (tag, inner), = value.items()
                if tag == "$array":
                    return self.array_at(self.string(inner, f"{where}['$array']"))
                if tag == "$tuple":
                    return tuple(self.decode(self.listing(inner, where), where))
                if tag == "$dict":
                    return {k: self.decode(v, f"{where}.{k}")
                            for k, v in self.mapping(inner, where).items()}
            raise self.fail(where, "is not an encoded value (an '$array', '$tuple' or "
                            "'$dict' mapping)")
        return value

    def array_at(self, key: str) -> np.ndarray:
        if key not in self._arrays:
            array = self.archive[key]
            array.flags.writeable = False
            self._arrays[key] = array
        return self._arrays[key]

    def array(self, value: Any, where: str, kinds: str = "biuf", ndim: int | None = None,
              finite: bool = False, length: int | None = None) -> np.ndarray:
        """An encoded array, of one of ``kinds``, ``ndim`` dimensions, finite if asked."""
        array = self.decode(value, where)
        if not isinstance(array, np.ndarray):
            raise self.fail(where, f"must be an array, not {_kind(array)}")
        if array.dtype.kind not in kinds:
            raise self.fail(where, f"must hold {_KINDS[kinds]}, not {array.dtype.name}")
        if ndim is not None and array.ndim != ndim:
            raise self.fail(where, f"must be a {ndim}D array, not of shape {array.shape}")
        if length is not None and len(array) != length:
            raise self.fail(where, f"has {len(array)} entries for {length}")
        if finite and array.dtype.kind in "fc" and not np.isfinite(array).all():
            raise self.fail(where, "holds NaN or infinite values")
        return array


_KINDS = {"biuf": "booleans or numbers", "iu": "whole numbers", "iuf": "numbers",
          "biufUS": "booleans, numbers or strings", "biufcUS": "booleans, numbers or strings"}


def read_meta(reader: Reader, meta: Any) -> dict:
    """The top of a record, its types checked: ``meta`` itself, ready to use."""
    meta = reader.mapping(meta, "record.json")
    reader.string(reader.field(meta, "algorithm"), "'algorithm'")
    if "plugin" in meta:
        reader.string(meta["plugin"], "'plugin'")
    reader.number(reader.field(meta, "fps"), "'fps'", finite=True)
    if meta["fps"] <= 0:
        raise reader.fail("'fps'", f"must be positive, not {meta['fps']}")
    if "versions" in meta:
        reader.mapping(meta["versions"], "'versions'")
    if "seed" in meta:
        reader.integer(meta["seed"], "'seed'")
    return meta


def read_run(reader: Reader, meta: dict, algorithm, prefix: str = "") -> tuple:
    """(config, run, schedule, source) of one run's record, every value checked."""
    from .config import Config
    from .dataset import Dataset

    decoded = reader.decode(reader.field(meta, "config", prefix), f"'{prefix}config'")
    overrides = reader.mapping(decoded, f"'{prefix}config'")
    try:
        config: Config = algorithm.config.from_overrides(overrides)
    except (TypeError, ValueError) as exc:  # ConfigError, or a plugin's own validate
        raise reader.fail(f"{prefix}config", f"is refused by the installed {algorithm.name}: "
                          f"{type(exc).__name__}: {exc}") from None
    fields = _read_dataset(reader, reader.field(meta, "dataset", prefix), f"{prefix}dataset")
    source = reader.string(fields.pop("source", ""), f"'{prefix}dataset.source'")
    try:
        dataset = Dataset(**fields)
    except (TypeError, ValueError) as exc:
        raise reader.fail(f"{prefix}dataset", str(exc)) from None
    history = reader.mapping(reader.field(meta, "run", prefix), f"'{prefix}run'")
    epochs = reader.array(reader.field(history, "epochs", f"{prefix}run."),
                          f"'{prefix}run.epochs'", "iu", ndim=1)
    if not len(epochs) or np.any(np.diff(epochs) <= 0):
        raise reader.fail(f"'{prefix}run.epochs'", "must be one or more epochs, increasing")
    losses = reader.array(reader.field(history, "losses", f"{prefix}run."),
                          f"'{prefix}run.losses'", "iuf", ndim=1, length=len(epochs))
    traces = {}
    for name, value in reader.mapping(history.get("traces", {}),
                                      f"'{prefix}run.traces'").items():
        where = f"'{prefix}run.traces.{name}'"
        traces[name] = trace = reader.array(value, where, "biufcUS")
        if trace.ndim == 0 or len(trace) != len(epochs):
            raise reader.fail(where, f"has shape {trace.shape}, not one row for each of the "
                              f"{len(epochs)} epochs")
    stopped = reader.string(history.get("stopped", ""), f"{prefix}run.stopped")
    ranges = {}
    for name, bounds in reader.mapping(history.get("ranges", {}),
                                       f"'{prefix}run.ranges'").items():
        where = f"'{prefix}run.ranges.{name}'"
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise reader.fail(where, f"must be a [lowest, highest] pair, not {_kind(bounds)}")
        ranges[name] = (reader.number(bounds[0], where), reader.number(bounds[1], where))
    trained = reader.integer(history.get("trained", 0), f"'{prefix}run.trained'", low=0)
    snapshots = _read_snapshots(reader, meta, algorithm, prefix, dataset, epochs, losses,
                                traces, ranges)
    try:
        run = Run(config=config, dataset=dataset, snapshots=snapshots, epochs=epochs,
                  losses=losses, traces=traces, stopped=stopped, ranges=ranges,
                  trained=trained if trained > len(epochs) else 0)
    except ContractError as exc:  # e.g. a trace without one row an epoch
        raise reader.fail(f"'{prefix}run'", str(exc)) from None
    return config, run, _read_schedule(reader, meta.get("schedule"), prefix), source


def _read_dataset(reader: Reader, meta: Any, where: str) -> dict[str, Any]:
    meta = reader.mapping(meta, f"'{where}'")
    X = reader.array(reader.field(meta, "X", f"{where}."), f"'{where}.X'", "biuf", ndim=2,
                     finite=True)
    if not len(X):
        raise reader.fail(f"'{where}.X'", "holds no rows")
    _check_magnitude(reader, X, f"{where}.X")
    y = reader.decode(meta.get("y"), f"'{where}.y'")
    if y is not None:
        y = reader.array(meta["y"], f"'{where}.y'", "biufUS", ndim=1, finite=True,
                         length=len(X))
    if y is not None and y.dtype.kind in "iuf":
        _check_magnitude(reader, y, f"{where}.y")
    names = reader.listing(meta.get("feature_names", []), f"'{where}.feature_names'")
    for i, name in enumerate(names):
        reader.string(name, f"'{where}.feature_names[{i}]'")
    if names and len(names) != X.shape[1]:
        raise reader.fail(f"'{where}.feature_names'", f"names {len(names)} features of "
                          f"{X.shape[1]}")
    extra = reader.decode(meta.get("extra", {"$dict": {}}), f"'{where}.extra'")
    fields = {"X": X, "y": y, "feature_names": tuple(names),
              "extra": reader.mapping(extra, f"'{where}.extra'")}
    for key in ("target_name", "name", "description", "source"):
        if key in meta:
            fields[key] = reader.string(meta[key], f"'{where}.{key}'")
    return fields


def _check_magnitude(reader: Reader, values: np.ndarray, where: str) -> None:
    """The data's values within the bounds user data has (:mod:`mlviz.limits`)."""
    try:
        check_magnitude(values, where)
    except DataError as exc:
        raise reader.fail(where, str(exc).removeprefix(f"{where}: ")) from None


def _read_schedule(reader: Reader, meta: Any, prefix: str) -> FrameSchedule | None:
    if meta is None:
        return None
    where = f"'{prefix}schedule'"
    meta = reader.mapping(meta, where)
    steps = []
    for pair in reader.listing(meta.get("steps", []), f"{where}.steps"):
        if not isinstance(pair, list) or len(pair) != 2:
            raise reader.fail(f"{where}.steps", "must be [up_to_epoch, step] pairs")
        steps.append((reader.integer(pair[0], f"{where}.steps"),
                      reader.integer(pair[1], f"{where}.steps", low=1)))
    late = reader.integer(meta.get("late_step", 1), f"{where}.late_step", low=1)
    budget = meta.get("budget")
    if budget is not None:
        budget = reader.integer(budget, f"{where}.budget", low=1)
    return FrameSchedule(tuple(steps), late, budget)


def _read_snapshots(reader: Reader, meta: dict, algorithm, prefix: str, dataset,
                    epochs: np.ndarray, losses: np.ndarray, traces: dict,
                    ranges: dict) -> tuple[Snapshot, ...]:
    where = reader.listing(reader.field(meta, "snapshot_class", prefix),
                           f"'{prefix}snapshot_class'")
    if len(where) != 2 or not all(isinstance(part, str) for part in where):
        raise reader.fail(f"'{prefix}snapshot_class'", "must be [module, qualname]")
    cls = snapshot_class(where, algorithm, reader.path)
    entries = reader.listing(reader.field(meta, "snapshots", prefix), f"'{prefix}snapshots'")
    if not entries:
        raise RecordError(f"{reader.path} holds no snapshot to draw")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    required = {name for name, f in fields.items()
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation that does not resolve: types are not checked
        hints = {}
    signatures: dict[str, tuple[str, Any]] = {}
    snapshots: list[Snapshot] = []
    for i, entry in enumerate(entries):
        at = f"'{prefix}snapshots[{i}]'"
        entry = reader.mapping(entry, at)
        unknown = sorted(set(entry) - set(fields))
        if unknown:
            raise reader.fail(at, f"has the field '{unknown[0]}', which {cls.__name__} has not")
        missing = sorted(required - set(entry))
        if missing:
            raise reader.fail(at, f"lacks the field '{missing[0]}'")
        values = {}
        for name, encoded in entry.items():
            field_at = f"'{prefix}snapshots[{i}].{name}'"
            value = reader.decode(encoded, field_at)
            _check_type(reader, value, hints.get(name), fields[name], field_at)
            signature = _signature(value)
            if signature is not None:
                first = signatures.setdefault(name, signature)
                if first != signature:
                    raise reader.fail(field_at, f"is {_kind(value)}, unlike the same field "
                                      "in the snapshots before it")
            values[name] = value
        values["epoch"] = reader.integer(values["epoch"], f"{at}.epoch", low=0)
        if snapshots and values["epoch"] <= snapshots[-1].epoch:
            raise reader.fail(f"{at}.epoch", f"is {values['epoch']}, after epoch "
                              f"{snapshots[-1].epoch}: epochs must increase")
        reader.number(values["loss"], f"{at}.loss")
        reader.mapping(values.get("params", {}), f"{at}.params")
        for key, param in values.get("params", {}).items():
            if not isinstance(param, np.ndarray) or param.dtype.kind not in "biufc":
                raise reader.fail(f"{at}.params['{key}']",
                                  f"must be a numeric array, not {_kind(param)}")
        try:
            snapshot = cls(**values)
        except MlvizError:
            raise
        except Exception as exc:  # the class's own checks in __post_init__
            raise reader.fail(at, f"is refused by {cls.__name__}: {exc}") from None
        _check_history(reader, snapshot, at, epochs, losses, traces, ranges)
        try:
            snapshot.validate(dataset)
        except MlvizError:
            raise
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise reader.fail(at, f"cannot be drawn: {exc}") from None
        snapshots.append(snapshot)
    return tuple(snapshots)


def _signature(value: Any) -> tuple[str, Any] | None:
    """What must stay the same of a field through a run (``None``: anything goes)."""
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
        return "array", (value.ndim, "i" if kind == "u" else kind)
    if isinstance(value, bool):
        return "bool", None
    if isinstance(value, (int, float)) or value is None:
        return None  # a float field may hold an int; None may stand for "not yet"
    return type(value).__name__, None


def _check_type(reader: Reader, value: Any, hint: Any, field: dataclasses.Field,
                where: str) -> None:
    """``value`` against a field's annotation, where it is a plain type mlviz knows."""
    if hint is None:
        return
    options = set(typing.get_args(hint)) if _is_union(hint) else {hint}
    if value is None:
        if type(None) in options or field.default is None:
            return
        raise reader.fail(where, "must not be null")
    options.discard(type(None))
    known = {int, float, bool, str, np.ndarray}
    plain = {typing.get_origin(o) or o for o in options}
    if not plain <= known | {Mapping, dict, typing.Mapping}:
        return  # Any, tuples, classes of its own: not checked here
    if isinstance(value, np.ndarray) and value.ndim == 0 and np.ndarray not in plain:
        value = value.item()  # a NumPy scalar kept as a 0D array: its number
    if isinstance(value, bool):
        ok = bool in plain
    elif isinstance(value, int):
        ok = bool(plain & {int, float})
    elif isinstance(value, float):  # a whole number written as a float passes for int
        ok = float in plain or (int in plain and value.is_integer())
    elif isinstance(value, np.ndarray):
        ok = np.ndarray in plain
    elif isinstance(value, str):
        ok = str in plain
    else:
        ok = isinstance(value, Mapping) and bool(plain & {Mapping, dict, typing.Mapping})
    if not ok:
        wanted = " or ".join(sorted({_NAMES.get(o, "a mapping") for o in plain}))
        raise reader.fail(where, f"must be {wanted}, not {_kind(value)}")


_NAMES = {int: "a whole number", float: "a number", bool: "a boolean", str: "a string",
          np.ndarray: "an array"}


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _check_history(reader: Reader, snapshot: Snapshot, at: str, epochs: np.ndarray,
                   losses: np.ndarray, traces: dict, ranges: dict) -> None:
    """A snapshot agrees with the run's history: its traced values have the trace's shape
    (and equal the trace at its epoch), its other numbers lie within the recorded ranges."""
    index = int(np.searchsorted(epochs, snapshot.epoch))
    found = index < len(epochs) and epochs[index] == snapshot.epoch
    if not found and snapshot.epoch > epochs[-1]:
        raise reader.fail(f"{at}.epoch", f"is {snapshot.epoch}, after the last trained "
                          f"epoch {int(epochs[-1])}")
    if found and math.isfinite(snapshot.loss) and snapshot.loss != losses[index]:
        raise reader.fail(f"{at}.loss", f"is {snapshot.loss:g} but the run's loss at epoch "
                          f"{snapshot.epoch} is {losses[index]:g}")
    for name, trace in traces.items():
        if not snapshot.has(name):
            continue
        value = np.asarray(Snapshot.value(snapshot, name))
        if value.shape != trace.shape[1:]:
            raise reader.fail(f"{at}.{name}", f"has shape {value.shape}, but the trace "
                              f"'{name}' has {trace.shape[1:]} at each epoch")
        if found and len(trace) == len(epochs) and not _same(value, trace[index]):
            raise reader.fail(f"{at}.{name}", f"differs from the trace '{name}' at epoch "
                              f"{snapshot.epoch}")
    for name, (low, high) in ranges.items():
        if name in traces or not snapshot.has(name):
            continue
        value = Snapshot.value(snapshot, name)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)):
            continue
        values = np.asarray(value)
        if values.dtype.kind not in "iuf" or not values.size:
            continue
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
        if finite.size and (finite.min() < low or finite.max() > high):
            raise reader.fail(f"{at}.{name}", f"has values from {finite.min():g} to "
                              f"{finite.max():g}, outside the range the run recorded "
                              f"({low:g} to {high:g})")


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        try:
            return bool(np.array_equal(a.astype(float), b.astype(float), equal_nan=True))
        except (TypeError, ValueError):
            return False
    return bool(np.array_equal(a, b))


def snapshot_class(where: list[str], algorithm, path: Path) -> type[Snapshot]:
    """The snapshot class a record names, imported only from the algorithm's own package."""
    module_name, qualname = where
    packages = {getattr(f, "__module__", "").partition(".")[0]
                for f in (algorithm.trainer, algorithm.scene, algorithm.dataset)} | {"mlviz"}
    if module_name.partition(".")[0] not in packages:
        raise RecordError(
            f"{path}: the record's snapshot class {module_name}.{qualname} is not part of the "
            f"plugin of {algorithm.name}"
        )
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        raise RecordError(
            f"{path}: the installed plugin of {algorithm.name} has no "
            f"{module_name}.{qualname}: the "
            "record was written with another version of it"
        ) from None
    if not (isinstance(found, type) and issubclass(found, Snapshot)):
        raise RecordError(f"{path}: {module_name}.{qualname} is not a Snapshot class")
    return found
