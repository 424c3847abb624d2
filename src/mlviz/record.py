"""Run records: a trained run saved to an ``.npz`` file and loaded back, without pickle.

A record holds everything needed to render the run again, to any format, without
training: the algorithm and its plugin, the config, the dataset, every trace, and the
snapshots chosen to be drawn. It is a NumPy ``.npz`` archive that
``numpy.load(path, allow_pickle=False)`` reads: one member ``record.json`` (a 0-d string
array holding JSON) and plain numeric arrays. See ``docs/records.rst`` for the format.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import MlvizError, RecordError
from .recordfile import MAX_META_BYTES, RecordArchive
from .schedule import FrameSchedule
from .trainer import Run

if TYPE_CHECKING:
    from .plugins import Registry
    from .prepared import Prepared

FORMAT = "mlviz-run"
FORMAT_VERSION = 1
#: A sweep's record (several runs in one file, :mod:`mlviz.sweep`): its own format.
SWEEP_FORMAT = "mlviz-sweep"
SWEEP_FORMAT_VERSION = 1
_VERSIONS = {FORMAT: FORMAT_VERSION, SWEEP_FORMAT: SWEEP_FORMAT_VERSION}
META = "record.json"
SUFFIX = ".npz"


def save_run(prepared: Prepared, path: str | Path) -> Path:
    """Write ``prepared``'s run to ``path`` (an ``.npz`` run record), atomically.

    A sweep (``prepared.sweep``) is saved as a sweep record: every run in one file
    (``format`` ``"mlviz-sweep"``, see ``docs/sweeps.rst``).
    """
    from .writers import atomic_output

    path = Path(path)
    check_record_path(path)
    arrays: dict[str, np.ndarray] = {}
    sweep = prepared.sweep
    meta: dict[str, Any] = {
        "format": FORMAT if sweep is None else SWEEP_FORMAT,
        "format_version": FORMAT_VERSION if sweep is None else SWEEP_FORMAT_VERSION,
        "algorithm": prepared.algorithm.name,
        "plugin": prepared.algorithm.plugin,
        "versions": _versions(),
        "fps": prepared.fps,
    }
    if sweep is None:
        meta.update(_run_meta(prepared.config, prepared.run, prepared.schedule,
                              prepared.source, arrays))
    else:
        meta.update(_sweep_meta(prepared, arrays))
    arrays[META] = np.array(json.dumps(meta, allow_nan=True))
    with atomic_output(path) as tmp, open(tmp, "wb") as out:
        members: dict[str, Any] = arrays
        np.savez_compressed(out, **members)
    return path


def _run_meta(config, run: Run, schedule: FrameSchedule | None, source: str,
              arrays: dict[str, np.ndarray], prefix: str = "",
              datasets: dict | None = None) -> dict[str, Any]:
    """The record of one run: its config, dataset, schedule, traces and snapshots; arrays
    go to ``arrays`` under keys starting with ``prefix``. ``datasets`` (a sweep's) maps
    datasets already written to their entry, so runs on the same data share it."""
    data = run.dataset
    snapshot_type = type(run.snapshots[0])
    key = _dataset_key(data)
    if datasets is not None and key in datasets:
        dataset = datasets[key]
    else:
        dataset = {
            "name": data.name, "description": data.description, "source": source,
            "feature_names": list(data.feature_names), "target_name": data.target_name,
            "X": _encode(data.X, arrays, f"{prefix}dataset/X"),
            "y": _encode(data.y, arrays, f"{prefix}dataset/y"),
            "extra": _encode(data.extra, arrays, f"{prefix}dataset/extra"),
        }
        if datasets is not None:
            datasets[key] = dataset
    return {
        "config": _encode(config.as_dict(), arrays, f"{prefix}config"),
        "seed": config.seed,
        "dataset": dataset,
        "schedule": None if schedule is None else {
            "steps": [list(step) for step in schedule.steps],
            "late_step": schedule.late_step, "budget": schedule.budget,
        },
        "run": {
            "epochs": _encode(run.epochs, arrays, f"{prefix}run/epochs"),
            "losses": _encode(run.losses, arrays, f"{prefix}run/losses"),
            "traces": {name: _encode(values, arrays, f"{prefix}trace/{name}")
                       for name, values in run.traces.items()},
            "stopped": run.stopped,
            "ranges": {name: list(bounds) for name, bounds in run.ranges.items()},
            **({"trained": run.trained} if run.trained > len(run.epochs) else {}),
        },
        "snapshot_class": [snapshot_type.__module__, snapshot_type.__qualname__],
        "snapshots": [
            {f.name: _encode(getattr(s, f.name), arrays, f"{prefix}snapshot/{i}/{f.name}")
             for f in dataclasses.fields(s) if f.init}
            for i, s in enumerate(run.snapshots)
        ],
    }


def _dataset_key(data) -> tuple:
    """What makes two datasets the same, for writing shared data once."""
    def content(values):
        return None if values is None else (np.shape(values), str(np.asarray(values).dtype),
                                            np.asarray(values).tobytes())

    return (data.name, data.description, tuple(data.feature_names), data.target_name,
            content(data.X), content(data.y), repr(sorted(data.extra)) if data.extra else "")


def _sweep_meta(prepared: Prepared, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The record of a sweep: its keys and values, how it is drawn, and every run."""
    sweep = prepared.sweep
    assert sweep is not None
    names = sweep.scenes[0].panel_names
    datasets: dict = {}
    return {
        "sweep": {
            "keys": list(sweep.keys),
            "values": [_encode(list(values), arrays, f"sweep/values/{k}")
                       for k, values in enumerate(sweep.values)],
            "overlay": [names[i] for i in prepared.overlay],
            "epochs": _encode(sweep.epochs, arrays, "sweep/epochs"),
        },
        "runs": [_run_meta(run.config, run, prepared.schedule, prepared.source, arrays,
                           f"runs/{r}/", datasets)
                 for r, run in enumerate(sweep.runs)],
    }


def load_run(path: str | Path, registry: Registry | None = None) -> Prepared:
    """Read a run record written by :func:`save_run`; ready to render, no training.

    A sweep record gives a prepared sweep (its ``sweep`` holds the runs). Raises
    :class:`~mlviz.errors.RecordError` (one line naming the file) for a missing, truncated,
    foreign or oversized file (:mod:`mlviz.recordfile`), a pickled array inside, a newer
    format, an algorithm that is not installed, or any value that is not what a record
    holds (:mod:`mlviz.recordcheck`).
    """
    from .optional import optional_dependencies
    from .prepared import Prepared, tell_story
    from .recordcheck import Reader, read_run
    from .session import registry as session_registry

    path = Path(path)
    with RecordArchive(path) as archive:
        meta = _meta(path, archive)
        registry = session_registry(registry)
        name = meta["algorithm"]
        if name not in registry.algorithms:
            raise RecordError(
                f"{path} is a run of '{name}' from plugin {meta.get('plugin') or 'unknown'}, "
                f"which is not installed here"
            )
        algorithm = registry.algorithms[name]
        reader = Reader(path, archive)
        try:
            if meta["format"] == SWEEP_FORMAT:
                return _load_sweep(reader, meta, algorithm)
            config, run, schedule, source = read_run(reader, meta, algorithm)
        except RecordError:
            raise
        except MlvizError as exc:  # the installed config or dataset refuses a value
            raise RecordError(f"{path} is damaged: {type(exc).__name__}: {exc}") from None
    with optional_dependencies(algorithm.name):
        scene = algorithm.make_scene(config, run.dataset)
        story = tell_story(algorithm, config, run)
    return Prepared(algorithm, config, run, scene, float(meta["fps"]), schedule=schedule,
                    source=source, story=story)


def _load_sweep(reader, meta: dict, algorithm) -> Prepared:
    """A sweep record as a prepared sweep, checked."""
    from .recordcheck import read_run
    from .sweep import Sweep, choose_overlay, prepared_sweep, sweep_scene

    spec = reader.mapping(reader.field(meta, "sweep"), "'sweep'")
    keys = tuple(reader.string(key, "'sweep.keys'")
                 for key in reader.listing(reader.field(spec, "keys", "sweep."), "'sweep.keys'"))
    raw_values = reader.listing(reader.field(spec, "values", "sweep."), "'sweep.values'")
    if len(raw_values) != len(keys):
        raise reader.fail("'sweep.values'", f"has {len(raw_values)} lists for {len(keys)} keys")
    values = tuple(
        tuple(algorithm.config.value_of(key, v)
              for v in reader.listing(reader.decode(raw, "'sweep.values'"), "'sweep.values'"))
        for key, raw in zip(keys, raw_values))
    runs_meta = reader.listing(reader.field(meta, "runs"), "'runs'")
    parts = [read_run(reader, reader.mapping(run_meta, f"'runs[{r}]'"), algorithm, f"runs[{r}].")
             for r, run_meta in enumerate(runs_meta)]
    runs = tuple(run for _, run, _, _ in parts)
    if not runs:
        raise reader.fail("'runs'", "holds no run")
    overlay = [reader.string(name, "'sweep.overlay'")
               for name in reader.listing(spec.get("overlay", []), "'sweep.overlay'")]
    sweep_epochs = reader.array(reader.field(spec, "epochs", "sweep."), "'sweep.epochs'", "iu")
    scenes = tuple(sweep_scene(algorithm, run.config, run.dataset) for run in runs)
    overlay_panels = choose_overlay(scenes[0], overlay)
    try:
        sweep = Sweep(keys, values, runs, sweep_epochs, scenes, overlay_panels)
    except ValueError as exc:
        raise reader.fail("'sweep'", str(exc)) from None
    base = _base_config(algorithm, keys, parts[0][0])
    return prepared_sweep(algorithm, base, sweep, float(meta["fps"]), schedule=parts[0][2],
                          source=parts[0][3])


def _base_config(algorithm, keys: tuple[str, ...], config):
    """The config of a sweep before its swept values: the first run's, with each swept key
    at its default."""
    defaults = algorithm.config()
    return config.replace(**{key: getattr(defaults, key) for key in keys})


def is_record(path: str | Path) -> bool:
    """Whether ``path`` names a run record (by its suffix): ``mlviz render`` takes either."""
    return Path(path).suffix.lower() == SUFFIX


def check_record_path(path: Path) -> None:
    """Fail early, with one line, if a record cannot be written to ``path``."""
    if path.suffix.lower() != SUFFIX:
        raise MlvizError(f"a run record is an {SUFFIX} file, got '{path.name}'")
    if not path.parent.is_dir():
        raise MlvizError(f"output folder does not exist: {path.parent}")
    if path.is_dir():
        raise MlvizError(f"output path is a folder: {path}")


def _versions() -> dict[str, str | None]:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {"mlviz": version("mlviz"), "numpy": np.__version__, "torch": version("torch"),
            "python": sys.version.split()[0]}


def _encode(value: Any, arrays: dict[str, np.ndarray], key: str) -> Any:
    """A JSON-able form of ``value``; arrays go to ``arrays[key]`` and are named by key."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise MlvizError(f"cannot save {key}: an array of Python objects needs pickle")
        arrays[key] = value
        return {"$array": key}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, arrays, f"{key}/{i}") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, arrays, f"{key}/{i}") for i, v in enumerate(value)]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {"$dict": {k: _encode(v, arrays, f"{key}/{k}") for k, v in value.items()}}
    raise MlvizError(
        f"cannot save {key}: a {type(value).__name__} is not a number, string, array, "
        "tuple, list or mapping"
    )


def _meta(path: Path, archive: RecordArchive) -> dict:
    """The record's JSON, its depth, format and top-level types checked."""
    from .recordcheck import Reader, check_depth, read_meta

    if META not in archive:
        raise RecordError(f"{path} is not an mlviz run record (it has no {META})")
    text = archive.read(META, limit=MAX_META_BYTES)
    if text.dtype.kind != "U" or text.shape != ():
        raise RecordError(f"{path} is damaged: {META} is not a string but {text.dtype.name} "
                          f"of shape {text.shape}")
    try:
        meta = json.loads(str(text[()]))
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path} is damaged: {META} is not JSON ({exc.msg})") from None
    except RecursionError:
        raise RecordError(f"{path} is damaged: {META} nests too deep") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        what = "holds a number of too many digits" if "digits" in str(exc) else str(exc)
        raise RecordError(f"{path} is damaged: {META} {what}") from None
    check_depth(path, meta)
    if not isinstance(meta, dict) or not isinstance(meta.get("format"), str) \
            or meta["format"] not in _VERSIONS:
        raise RecordError(f"{path} is not an mlviz run record")
    version = meta.get("format_version")
    newest = _VERSIONS[meta["format"]]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RecordError(f"{path} is damaged: 'format_version' must be a whole number from "
                          f"1, not {version!r:.40}")
    if version > newest:
        kind = "sweep record format" if meta["format"] == SWEEP_FORMAT else "record format"
        raise RecordError(
            f"{path} was written by a newer mlviz ({kind} {version}; this mlviz reads "
            f"format {newest} and older): upgrade mlviz to render it"
        )
    return read_meta(Reader(path, archive), meta)
