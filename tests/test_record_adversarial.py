"""Hostile run records: every one refused by ``mlviz render`` with exit 2 and one line
naming the file, before anything is drawn; zip bombs refused in little memory; pickles
never loaded; a record given to ``--data`` named for what it is."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import mlviz
from mlviz import Algorithm, Config, Dataset, Scene, Snapshot, param
from mlviz.cli import main
from mlviz.errors import RecordError
from mlviz.plugins import Registry, load_registry
from mlviz.record import META, save_run
from mlviz.recordfile import MAX_RECORD_BYTES
from mlviz.testing import runs_equal

NAME = "bad.npz"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("adversarial") / "run.npz"
    save_run(mlviz.prepare("kmeans", k_max=4, frames=6), path)
    return path


def _load(source: Path) -> tuple[dict, dict]:
    with np.load(source, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return json.loads(str(arrays.pop(META)[()])), arrays


def _write(target: Path, meta_text: str, arrays: dict) -> Path:
    np.savez(target, **arrays, **{META: np.array(meta_text)})
    return target


def _edit(change):
    """A case: ``change(meta, arrays)`` edits a copy of the good record."""
    def build(source: Path, target: Path) -> Path:
        meta, arrays = _load(source)
        change(meta, arrays)
        return _write(target, json.dumps(meta), arrays)
    return build


def _edit_text(change):
    """A case: ``change(text)`` edits the record's JSON as text."""
    def build(source: Path, target: Path) -> Path:
        meta, arrays = _load(source)
        return _write(target, change(json.dumps(meta)), arrays)
    return build


def _set(*keys_value):
    *keys, value = keys_value

    def change(meta, arrays):
        for key in keys[:-1]:
            meta = meta[key]
        meta[keys[-1]] = value
    return _edit(change)


def _array(key, change):
    def edit(meta, arrays):
        arrays[key] = change(arrays[key])
    return _edit(edit)


def _every(field, change):
    """Apply ``change`` to ``field``'s array in every snapshot."""
    def edit(meta, arrays):
        for key in [k for k in arrays if k.startswith("snapshot/") and k.endswith(f"/{field}")]:
            arrays[key] = change(arrays[key])
    return _edit(edit)


def _with(array, index, value):
    array = array.copy()
    array[index] = value
    return array


def _npy_renamed(source: Path, target: Path) -> Path:
    with open(target, "wb") as out:
        np.save(out, np.arange(10.0))
    return target


def _labels_out_of_range_and_ranges(meta, arrays):
    """Labels out of range in every snapshot, and the recorded range widened to match:
    only the k-means snapshot's own check (Snapshot.validate) can tell."""
    for key in [k for k in arrays if k.endswith("/labels")]:
        arrays[key] = _with(arrays[key], 0, 7)
    meta["run"]["ranges"]["labels"] = [0.0, 7.0]


def _drop_epoch(meta, arrays):
    del meta["snapshots"][0]["epoch"]


def _drop_labels(meta, arrays):
    del meta["snapshots"][1]["labels"]


def _shorten_trace(meta, arrays):
    arrays["trace/k"] = arrays["trace/k"][:-1]


def _decreasing(meta, arrays):
    arrays["run/epochs"] = arrays["run/epochs"][::-1].copy()


def _trace_differs(meta, arrays):
    arrays["trace/k"] = arrays["trace/k"] + 1


CASES = {
    # (how the record is damaged, part of the message)
    "npy renamed to npz": (_npy_renamed, "is a single NumPy array (.npy), not a run record"),
    "deeply nested JSON": (_edit_text(lambda t: t.replace('"plugin": "', '"plugin": '
                                                          + "[" * 100_000 + '"', 1)
                                      .replace('", "versions"', '"' + "]" * 100_000
                                               + ', "versions"', 1)), "nests too deep"),
    "nested JSON under the recursion limit": (
        _edit_text(lambda t: t.replace('"plugin": ', '"plugin": ' + "[" * 200, 1)
                   .replace(', "versions"', "]" * 200 + ', "versions"', 1)),
        "nests more than 32 deep"),
    "a 5000-digit number": (_edit_text(lambda t: t.replace('"seed": 0', '"seed": 1'
                                                           + "0" * 5000)),
                            "record.json holds a number of too many digits"),
    "a 40-digit epoch": (_edit_text(lambda t: t.replace('"epoch": 0,', '"epoch": 1'
                                                        + "0" * 40 + ",", 1)),
                         "snapshots[0].epoch' is out of range"),
    "fps 1e999": (_edit_text(lambda t: t.replace('"fps": 5.0', '"fps": 1e999')),
                  "'fps' must be finite"),
    "algorithm as a list": (_set("algorithm", ["kmeans"]), "'algorithm' must be a string"),
    "fps as a string": (_set("fps", "5"), "'fps' must be a number, not a string"),
    "fps negative": (_set("fps", -5), "'fps' must be positive"),
    "format_version true": (_set("format_version", True), "'format_version' must be"),
    "format as a list": (_set("format", ["mlviz-run"]), "is not an mlviz run record"),
    "snapshots a mapping": (_set("snapshots", {"0": {}}), "'snapshots' must be a list"),
    "snapshots a number": (_set("snapshots", 3), "'snapshots' must be a list"),
    "snapshots empty": (_set("snapshots", []), "holds no snapshot to draw"),
    "snapshot a string": (_edit(lambda m, a: m["snapshots"].__setitem__(0, "x")),
                          "'snapshots[0]' must be a mapping"),
    "snapshot without epoch": (_edit(_drop_epoch), "lacks the field 'epoch'"),
    "snapshot without labels": (_edit(_drop_labels), "'snapshots[1]' cannot be drawn: its labels are missing"),
    "snapshot with a field too many": (
        _edit(lambda m, a: m["snapshots"][0].update(bogus=1)), "has the field 'bogus'"),
    "loss as a string": (_edit(lambda m, a: m["snapshots"][0].update(loss="low")),
                         "'snapshots[0].loss' must be a number, not a string"),
    "k as a string": (_edit(lambda m, a: m["snapshots"][0].update(k="1")),
                      "'snapshots[0].k' must be a whole number, not a string"),
    "converged as a number": (_edit(lambda m, a: m["snapshots"][0].update(converged=[1])),
                              "'snapshots[0].converged' must be a boolean, not a list"),
    "labels as a list": (_edit(lambda m, a: m["snapshots"][0].update(labels=[0, 1])),
                         "'snapshots[0].labels' must be an array, not a list"),
    "unknown encoding": (_edit(lambda m, a: m["snapshots"][0].update(labels={"$x": 1})),
                         "is not an encoded value"),
    "array that is not there": (
        _edit(lambda m, a: m["snapshots"][0].update(labels={"$array": "nowhere"})),
        "the array 'nowhere' is missing"),
    "NaN in the data": (_array("dataset/X", lambda x: _with(x, (0, 0), np.nan)),
                        "'dataset.X' holds NaN or infinite values"),
    "infinity in the targets": (_array("dataset/y", lambda y: _with(y.astype(float), 0, np.inf)),
                                "'dataset.y' holds NaN or infinite values"),
    "NaN in the epochs": (_array("run/epochs", lambda e: _with(e.astype(float), 0, np.nan)),
                          "'run.epochs' must hold whole numbers, not float64"),
    "NaN in the centroids": (_array("snapshot/0/centroids", lambda c: _with(c, 0, np.nan)),
                             "centroids hold NaN"),
    "NaN labels in every snapshot": (_every("labels", lambda x: _with(x.astype(float), 0, np.nan)),
                                     "labels must be 150 whole numbers"),
    "data too large to compute with": (_array("dataset/X", lambda x: x * 1e300),
                                       "is too large to compute with (|values| must be at most 1e+50)"),
    "data of one dimension": (_array("dataset/X", lambda x: x[:, 0].copy()),
                              "'dataset.X' must be a 2D array"),
    "data of three dimensions": (_array("dataset/X", lambda x: x[:, :, None].copy()),
                                 "'dataset.X' must be a 2D array"),
    "labels with a dimension too many": (_every("labels", lambda x: x[:, None].copy()),
                                         "labels must be 150 whole numbers"),
    "centroids with a dimension too few": (_array("snapshot/2/centroids",
                                                  lambda c: c.ravel().copy()),
                                           "unlike the same field in the snapshots before it"),
    "trace with a dimension too many": (_array("trace/params.centroids", lambda t: t[..., None]),
                                        "but the trace 'params.centroids' has"),
    "targets too few": (_array("dataset/y", lambda y: y[:-1].copy()), "'dataset.y' has 149"),
    "a label out of range": (_array("snapshot/3/labels", lambda x: _with(x, 0, 99)),
                             "outside the range the run recorded"),
    "a negative label": (_array("snapshot/3/labels", lambda x: _with(x, 0, -1)),
                         "outside the range the run recorded"),
    "labels out of range, ranges edited too": (_edit(_labels_out_of_range_and_ranges),
                                               "labels must lie in 0"),
    "a trace one row short": (_edit(_shorten_trace), "'run.traces.k' has shape (14,), not one row for each of the 15 epochs"),
    "epochs decreasing": (_edit(_decreasing), "'run.epochs' must be one or more epochs, "
                                              "increasing"),
    "a trace that differs from the snapshots": (_edit(_trace_differs),
                                                "differs from the trace 'k'"),
    "a config value of the wrong type": (
        _edit(lambda m, a: m["config"]["$dict"].update(k_max="four")),
        "'config' is refused by the installed kmeans: ConfigError: k_max expects an integer"),
    "feature names not strings": (_set("dataset", "feature_names", [1, 2]),
                                  "feature_names[0]' must be a string"),
    "data of strings": (_array("dataset/X", lambda x: x.astype(str)),
                        "'dataset.X' must hold booleans or numbers"),
    "snapshot class not a pair": (_set("snapshot_class", "os.system"),
                                  "'snapshot_class' must be a list"),
    "stopped as a number": (_edit(lambda m, a: m["run"].update(stopped=3)), "'run.stopped' must be a string, not a number"),
    "schedule budget 0": (_edit(lambda m, a: m["schedule"].update(budget=0)),
                          "'schedule.budget' must be at least 1, not 0"),
    "ranges not pairs": (_edit(lambda m, a: m["run"]["ranges"].update(labels=3)),
                         "must be a [lowest, highest] pair"),
    "record.json not a string": (
        lambda source, target: np.savez(target, **{META: np.arange(3)}) or target,
        "record.json is not a string"),
}


def _render(tmp_path: Path, capsys, *args: str) -> tuple[int, str]:
    code = main(["render", *args])
    out = capsys.readouterr()
    return code, out.err + out.out


@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_record_is_exit_2_one_line_naming_it(saved, tmp_path, capsys, monkeypatch,
                                                      case):
    build, message = CASES[case]
    monkeypatch.chdir(tmp_path)
    build(saved, tmp_path / NAME)
    code, text = _render(tmp_path, capsys, NAME, "-o", "out.gif")
    assert code == 2, text
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mlviz: error: {NAME}"), text
    assert message in lines[0], text
    assert "Traceback" not in text and "bug in mlviz" not in text and "plugin" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME]  # no output, no partial


def test_the_good_record_renders_after_the_same_copy(saved, tmp_path, capsys, monkeypatch):
    """The cases' copy of the record, unchanged, is drawn: each refusal is the damage's."""
    monkeypatch.chdir(tmp_path)
    _edit(lambda meta, arrays: None)(saved, tmp_path / NAME)
    code, text = _render(tmp_path, capsys, NAME, "-o", "out.png")
    assert code == 0, text
    assert (tmp_path / "out.png").stat().st_size > 0


class _Marker:
    """Unpickling it creates the file ``path`` (what a hostile pickle could do)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


@pytest.mark.parametrize("member", ["dataset/X", "snapshot/0/labels", META, "unused"])
def test_a_pickle_payload_is_never_unpickled(saved, tmp_path, capsys, monkeypatch, member):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "marker"
    meta, arrays = _load(saved)
    payload = np.empty(1, dtype=object)
    payload[0] = _Marker(marker)
    meta_text = json.dumps(meta)
    if member == META:
        with zipfile.ZipFile(tmp_path / NAME, "w") as archive:
            for key, value in arrays.items():
                with archive.open(f"{key}.npy", "w") as out:
                    np.lib.format.write_array(out, value)
            with archive.open(f"{META}.npy", "w") as out:
                np.lib.format.write_array(out, payload, allow_pickle=True)
    else:
        arrays[member] = payload
        np.savez(tmp_path / NAME, **arrays, **{META: np.array(meta_text)})
        with pytest.raises(ValueError):  # the payload is real: numpy refuses it too
            np.load(tmp_path / NAME, allow_pickle=False)[member]
    code, text = _render(tmp_path, capsys, NAME, "-o", "out.gif")
    if member == "unused":  # never read: the record is drawn, the payload untouched
        assert code == 0, text
    else:
        assert code == 2, text
        assert text.strip() == (f"mlviz: error: {NAME} holds a pickled array ('{member}'); "
                                "mlviz never loads pickles")
    assert not marker.exists()


# Zip bombs ---------------------------------------------------------------------------------

def _npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    out = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False,
                                              "shape": shape})
    return out.getvalue()


def _bomb(path: Path, inflated: int) -> Path:
    """A record whose ``dataset/X`` inflates to ``inflated`` bytes of zeros (written as a
    stream: the test never holds it)."""
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(f"{META}.npy", _member(np.array('{"format": "mlviz-run"}')))
        with archive.open("dataset/X.npy", "w", force_zip64=True) as out:
            header = _npy_header((inflated // 8,))
            out.write(header)
            left = inflated - len(header)
            while left > 0:
                out.write(chunk[:left])
                left -= len(chunk)
    return path


def _member(array: np.ndarray) -> bytes:
    out = __import__("io").BytesIO()
    np.lib.format.write_array(out, array)
    return out.getvalue()


def test_a_zip_bomb_is_refused_from_its_declared_size(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _bomb(tmp_path / NAME, MAX_RECORD_BYTES + (64 << 20))
    assert (tmp_path / NAME).stat().st_size < MAX_RECORD_BYTES // 100
    code, text = _render(tmp_path, capsys, NAME, "-o", "out.gif")
    assert code == 2
    assert text.strip() == (
        f"mlviz: error: {NAME} inflates to more than 512 MB (its member 'dataset/X' alone to "
        "576 MB); mlviz reads run records of at most 512 MB inflated")
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME]


def test_a_zip_bomb_is_refused_in_little_memory(tmp_path):
    """``mlviz render bomb.npz`` in a child process: its peak memory (ru_maxrss of the
    children of a fresh process) stays far below what the member would inflate to."""
    bomb = _bomb(tmp_path / "bomb.npz", 1 << 30)
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run([sys.executable, '-m', 'mlviz', 'render', 'bomb.npz', '-o', "
        "'x.gif'], capture_output=True, text=True)\n"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(r.stderr.strip())\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    first, message = result.stdout.splitlines()[:2]
    code, peak_kb = map(int, first.split())
    assert code == 2 and message.startswith("mlviz: error: bomb.npz inflates to more than")
    assert peak_kb < 400 * 1024, f"peak {peak_kb / 1024:.0f} MB"
    assert not (tmp_path / "x.gif").exists() and bomb.exists()


def test_an_array_header_that_lies_is_refused_before_allocating(saved, tmp_path, capsys,
                                                               monkeypatch):
    """A small member whose .npy header claims 8 GB: refused from the header, nothing
    allocated (np.empty of 8 GB would be refused by the budget anyway)."""
    monkeypatch.chdir(tmp_path)
    meta, arrays = _load(saved)
    with zipfile.ZipFile(tmp_path / NAME, "w") as archive:
        for key, value in arrays.items():
            if key != "dataset/X":
                archive.writestr(f"{key}.npy", _member(value))
        archive.writestr("dataset/X.npy", _npy_header((1 << 29, 2)) + bytes(4096))
        archive.writestr(f"{META}.npy", _member(np.array(json.dumps(meta))))
    code, text = _render(tmp_path, capsys, NAME, "-o", "out.gif")
    assert code == 2
    assert "the array 'dataset/X' claims shape (536870912, 2) (8,192 MB) but its member " \
           "holds 4,096 bytes" in text


def test_a_member_that_inflates_past_its_declared_size_is_cut_there(saved, tmp_path, capsys,
                                                                  monkeypatch):
    """The zip's table says 4 KB, the stream inflates to 64 MB: reading stops at 4 KB and
    the record is refused (the CRC of what was read does not match)."""
    monkeypatch.chdir(tmp_path)
    meta, arrays = _load(saved)
    header = _npy_header((496,))
    assert len(header) + 496 * 8 == 4096
    with zipfile.ZipFile(tmp_path / NAME, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in arrays.items():
            if key != "dataset/X":
                archive.writestr(f"{key}.npy", _member(value))
        archive.writestr("dataset/X.npy", header + bytes(64 << 20))
        archive.writestr(f"{META}.npy", _member(np.array(json.dumps(meta))))
    data = bytearray((tmp_path / NAME).read_bytes())
    entry = data.index(b"PK\x01\x02")
    while True:  # the central directory entry of dataset/X.npy: say 4 KB inflated
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46:entry + 46 + name_length] == b"dataset/X.npy":
            struct.pack_into("<L", data, entry + 24, 4096)
            break
        entry = data.index(b"PK\x01\x02", entry + 4)
    (tmp_path / NAME).write_bytes(bytes(data))
    code, text = _render(tmp_path, capsys, NAME, "-o", "out.gif")
    assert code == 2
    assert text.strip() == (f"mlviz: error: {NAME} is truncated or damaged: Bad CRC-32 for "
                            "file 'dataset/X.npy'")


# --data given a record or another binary file ---------------------------------------------

@pytest.mark.parametrize("name, content, message", [
    ("run.npz", None, "run.npz is a run record, not a CSV file: --data takes a CSV file of "
                      "UTF-8 text (a run record is rendered with 'mlviz render run.npz')"),
    ("points.npy", b"\x93NUMPY\x01\x00", "points.npy is a NumPy array file (.npy), not a CSV "
                                         "file"),
    ("latin1.csv", "x,y\n1,2\ncaf\xe9,3\n".encode("latin-1"),
     "latin1.csv is not UTF-8 text (it holds the byte 0xe9): --data takes a CSV file of "
     "UTF-8 text; save it as UTF-8"),
    ("utf16.csv", "x,y\n1,2\n".encode("utf-16"), "utf16.csv is UTF-16 text"),
    ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.csv is a binary file, not "
                                                          "a CSV file"),
])
def test_data_that_is_no_csv_is_one_line(saved, tmp_path, capsys, monkeypatch, name, content,
                                         message):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / name
    target.write_bytes(saved.read_bytes() if content is None else content)
    code, text = _render(tmp_path, capsys, "kmeans", "--data", name, "-o", "out.gif")
    assert code == 2
    assert text.strip() == f"mlviz: error: {message}" or text.strip().startswith(
        f"mlviz: error: {message}"), text
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


# A plugin of mlviz 0.1's style: loose annotations, values of every kind ------------------

@dataclass(frozen=True)
class LooseConfig(Config):
    epochs: int = param(4, "epochs", min=1, max=100)


@dataclass(frozen=True)
class LooseSnapshot(Snapshot):
    traces: ClassVar[tuple[str, ...]] = ("phase", "size")

    size: int = 0  # written as a float: 2.0
    rate: float = 0.0  # a 0D array, as np.asarray(x).mean() may give
    phase: str = "warm-up"  # a traced string
    picture: np.ndarray = None  # annotated without None, left None in the first snapshot


class LooseTrainer:
    def __init__(self, config: LooseConfig) -> None:
        self.config = config

    def run(self, dataset):
        for epoch in range(self.config.epochs):
            loss = float("nan") if epoch == 1 else 1.0 / (epoch + 1)
            yield LooseSnapshot(epoch=epoch, loss=loss,
                                size=float(epoch), rate=np.array(0.5 * epoch),
                                phase="warm-up" if epoch < 2 else "steady",
                                picture=None if epoch == 0 else np.full((2, 2), np.nan))


def _loose_scene(config):
    from mlviz.panels import MetricCurvePanel

    return Scene([MetricCurvePanel("loss")], title="Loose")


LOOSE = Algorithm(name="loose", summary="loose", config=LooseConfig, trainer=LooseTrainer,
                  dataset=lambda config: Dataset(np.zeros((3, 2))), scene=_loose_scene)


def test_a_loose_plugins_record_loads_back_the_same(tmp_path):
    """What a valid record may hold is not refused: integral floats in int fields, 0D
    arrays in float fields, string traces, NaN losses and arrays, None for an array."""
    registry = Registry(algorithms={"loose": LOOSE}, writers=load_registry().writers)
    prepared = mlviz.prepare(LOOSE, registry=registry)
    path = save_run(prepared, tmp_path / "loose.npz")
    loaded = mlviz.load_run(path, registry=registry)
    same, why = runs_equal(prepared.run, loaded.run)
    assert same, why
    assert loaded.run.traces["phase"].dtype.kind == "U"
    assert loaded.run.snapshots[0].picture is None

    meta, arrays = _load(path)  # and a damaged copy of it is still refused
    arrays["trace/phase"] = arrays["trace/phase"][::-1].copy()
    _write(tmp_path / NAME, json.dumps(meta), arrays)
    with pytest.raises(RecordError, match=r"'snapshots\[0\].phase' differs from the trace"):
        mlviz.load_run(tmp_path / NAME, registry=registry)
