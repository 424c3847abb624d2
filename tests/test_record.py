"""Run records: save, load, render again without training, and every bad file in one line."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest

import mlviz
from mlviz import Config, Dataset, FrameSchedule, Snapshot, train
from mlviz.errors import RecordError
from mlviz.record import FORMAT_VERSION, META, load_run, save_run
from mlviz.testing import runs_equal


@pytest.fixture(scope="module")
def kmeans():
    return mlviz.prepare("kmeans", k_max=4, frames=9)


@pytest.fixture(scope="module")
def saved(kmeans, tmp_path_factory):
    path = tmp_path_factory.mktemp("record") / "run.npz"
    save_run(kmeans, path)
    return path


def test_a_record_is_plain_npz_with_one_json_member(saved, kmeans):
    with np.load(saved, allow_pickle=False) as archive:
        meta = json.loads(str(archive[META][()]))
        arrays = {name: archive[name] for name in archive.files}  # no pickle needed anywhere
    assert meta["format"] == "mlviz-run" and meta["format_version"] == FORMAT_VERSION
    assert meta["algorithm"] == "kmeans" and meta["plugin"].startswith("kmeans (mlviz ")
    assert meta["config"]["$dict"]["k_max"] == 4 and meta["seed"] == 0
    assert set(meta["versions"]) == {"mlviz", "numpy", "torch", "python"}
    assert meta["versions"]["numpy"] == np.__version__
    assert meta["schedule"]["budget"] == 9
    assert len(meta["snapshots"]) == kmeans.run.n_frames == 9
    assert all(a.dtype != object for a in arrays.values())
    np.testing.assert_array_equal(arrays["dataset/X"], kmeans.run.dataset.X)


def test_round_trip_gives_the_same_run_and_the_same_frames(saved, kmeans):
    loaded = load_run(saved)
    same, why = runs_equal(kmeans.run, loaded.run)
    assert same, why
    assert loaded.config == kmeans.config and loaded.fps == kmeans.fps
    assert [s.epoch for s in loaded.run.snapshots] == [s.epoch for s in kmeans.run.snapshots]
    assert type(loaded.run.snapshots[0]) is type(kmeans.run.snapshots[0])
    for a, b in zip(kmeans.renderer(dpi=40).frames(), loaded.renderer(dpi=40).frames()):
        np.testing.assert_array_equal(a, b)


def test_fewer_frames_from_a_record_are_picked_from_its_snapshots(saved):
    loaded = load_run(saved)
    three = loaded.with_frames(3)
    assert three.run.n_frames == 3
    assert three.run.snapshots[-1] is loaded.run.snapshots[-1]
    assert loaded.with_frames(50) is loaded and loaded.run.n_frames == 9
    np.testing.assert_array_equal(three.run.losses, loaded.run.losses)  # history is whole


def test_a_thinned_run_keeps_its_trained_epoch_count_through_a_record(tmp_path, monkeypatch):
    from mlviz import limits
    monkeypatch.setattr(limits, "MAX_TRACE_ROWS", 4)
    thinned = mlviz.prepare("kmeans", k_max=4)
    assert len(thinned.run.epochs) < thinned.run.n_epochs  # the history was thinned
    save_run(thinned, tmp_path / "thin.npz")
    loaded = load_run(tmp_path / "thin.npz")
    assert loaded.run.n_epochs == thinned.run.n_epochs
    assert runs_equal(thinned.run, loaded.run)[0]
    assert loaded.run.trace_range("loss") == thinned.run.trace_range("loss")


def test_prepared_runs_pickle(kmeans):
    again = pickle.loads(pickle.dumps(kmeans))
    assert runs_equal(again.run, kmeans.run)[0]
    with pytest.raises(TypeError):
        again.run.snapshots[0].params["centroids"] = None  # still read-only


def _rewrite(source, target, change):
    """Copy a record, letting ``change(meta, arrays)`` edit it."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays.pop(META)[()]))
    change(meta, arrays)
    np.savez(target, **arrays, **{META: np.array(json.dumps(meta))})
    return target


@pytest.mark.parametrize("damage, message", [
    ("missing", "run record not found"),
    ("truncated", "is not a run record (or is truncated)"),
    ("text", "is not a run record"),
    ("foreign npz", "has no record.json"),
    ("pickled", "holds a pickled array"),
    ("newer", "written by a newer mlviz (record format 99"),
    ("not installed", "'no-such-algorithm' from plugin elsewhere (x 1.0), which is not installed"),
    ("snapshot elsewhere", "is not part of the plugin of kmeans"),
])
def test_bad_records_are_one_line_errors(saved, tmp_path, damage, message):
    path = tmp_path / "bad.npz"
    if damage == "truncated":
        path.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    elif damage == "text":
        path.write_text("epoch,loss\n0,1.0\n")
    elif damage == "foreign npz":
        np.savez(path, x=np.arange(3))
    elif damage == "pickled":
        def change(meta, arrays):
            arrays["dataset/X"] = np.array([{"evil": 1}], dtype=object)
        _rewrite(saved, path, change)
    elif damage == "newer":
        _rewrite(saved, path, lambda meta, arrays: meta.update(format_version=99))
    elif damage == "not installed":
        _rewrite(saved, path, lambda meta, arrays: meta.update(
            algorithm="no-such-algorithm", plugin="elsewhere (x 1.0)"))
    elif damage == "snapshot elsewhere":
        _rewrite(saved, path, lambda meta, arrays: meta.update(snapshot_class=["os", "path"]))
    with pytest.raises(RecordError) as info:
        load_run(path)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_records_need_the_npz_suffix_and_leave_nothing_on_failure(kmeans, tmp_path):
    with pytest.raises(mlviz.MlvizError, match="is an .npz file"):
        save_run(kmeans, tmp_path / "run.gif")

    weird = Dataset(np.zeros((3, 2)), extra={"callback": print})
    run = train(_OneEpoch(), weird, Config(), FrameSchedule.every())
    prepared = mlviz.Prepared(kmeans.algorithm, kmeans.config, run, kmeans.scene, 5.0)
    with pytest.raises(mlviz.MlvizError, match="cannot save dataset/extra/callback"):
        save_run(prepared, tmp_path / "odd.npz")
    assert list(tmp_path.iterdir()) == []


class _OneEpoch:
    def run(self, dataset):
        yield Snapshot(epoch=0, loss=1.0)


def test_record_zip_members_are_compressed(saved):
    with zipfile.ZipFile(saved) as archive:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())


def test_cli_train_then_render_without_training(run_cli, tmp_path):
    trained = run_cli("train", "kmeans", "-o", "run.npz", "--set", "k_max=3", "--frames", "6")
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.startswith("wrote run.npz (") and "6 frames to draw" in trained.stdout
    direct = run_cli("render", "kmeans", "-o", "direct.gif", "--set", "k_max=3",
                     "--frames", "6", "--quiet")
    again = run_cli("render", "run.npz", "-o", "again.gif", "--quiet")
    assert direct.returncode == 0 and again.returncode == 0, again.stderr
    from mlviz.testing import decoded_frames

    a, b = decoded_frames(tmp_path / "direct.gif"), decoded_frames(tmp_path / "again.gif")
    assert len(a) == len(b) == 6
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    fewer = run_cli("render", "run.npz", "-o", "fewer.png", "--frames", "2")
    assert fewer.returncode == 0 and "1 frame" in fewer.stdout


def test_cli_refuses_to_change_a_recorded_run(run_cli, saved):
    result = run_cli("render", str(saved), "-o", "x.gif", "--set", "k_max=3", "--seed", "4")
    assert result.returncode == 2
    assert result.stderr.strip() == ("mlviz: error: --seed and --set cannot change a recorded "
                                     "run; train it again with 'mlviz train'")


def test_a_failed_save_keeps_the_old_record_and_leaves_nothing(kmeans, saved, tmp_path,
                                                               monkeypatch):
    import errno

    target = tmp_path / "run.npz"
    target.write_bytes(saved.read_bytes())

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full_disk)
    with pytest.raises(mlviz.MlvizError) as info:
        save_run(kmeans, target)
    assert str(info.value) == (f"cannot write {target}: No space left on device; "
                               "the existing file is unchanged")
    assert target.read_bytes() == saved.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]
