"""``mlviz list`` and ``mlviz info``, answered from the cache: the same output, without
importing numpy or any plugin, and a fresh answer whenever a plugin changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

PLUGIN = '''
from mlviz import Algorithm, Config, Dataset, Scene, Snapshot, hookimpl
from mlviz.panels import LossCurvePanel

SUMMARY = "{summary}"


class Trainer:
    def __init__(self, config):
        self.config = config

    def run(self, dataset):
        yield Snapshot(epoch=0, loss=1.0)


@hookimpl
def mlviz_algorithms():
    return [Algorithm(name="cached-demo", summary=SUMMARY, config=Config, trainer=Trainer,
                      dataset=lambda c: Dataset([[0.0]]),
                      scene=lambda c: Scene([LossCurvePanel()]))]
'''


def install(site: Path, summary: str, version: str = "0.1") -> None:
    (site / "cached_demo_plugin.py").write_text(textwrap.dedent(PLUGIN.format(summary=summary)))
    for old in site.glob("mlviz_cached_demo-*.dist-info"):
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    info = site / f"mlviz_cached_demo-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: mlviz-cached-demo\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("[mlviz]\ncached-demo = cached_demo_plugin\n")


@pytest.fixture
def env(tmp_path) -> dict:
    site = tmp_path / "site"
    site.mkdir()
    return {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(site),
            "MLVIZ_CACHE_DIR": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}


def mlviz(env: dict, *args: str) -> subprocess.CompletedProcess:
    """``python -X importtime -m mlviz.cli ARGS``; the imports are in ``.imports``."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "mlviz.cli", *args],
                            env=env, cwd=Path(env["MLVIZ_CACHE_DIR"]).parent,
                            capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    lines = result.stderr.splitlines()
    result.imports = {line.split("|")[-1].strip() for line in lines
                      if line.startswith("import time:")}
    result.stderr = "\n".join(line for line in lines if not line.startswith("import time:"))
    return result


@pytest.mark.slow
def test_list_and_info_are_answered_from_the_cache_until_a_plugin_changes(env):
    site = Path(env["PYTHONPATH"])
    install(site, "first summary")
    first = mlviz(env, "list")
    assert first.returncode == 0 and "numpy" in first.imports
    assert "cached-demo" in first.stdout and "first summary" in first.stdout
    again = mlviz(env, "list")
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, first.stderr)
    assert "numpy" not in again.imports and "mlviz.plugins" not in again.imports
    assert not any(name.startswith("mlviz_") for name in again.imports)

    info = mlviz(env, "info", "cached-demo")
    assert info.returncode == 0 and "first summary" in info.stdout
    cached_info = mlviz(env, "info", "cached-demo")
    assert cached_info.stdout == info.stdout and "numpy" not in cached_info.imports

    time.sleep(0.01)
    install(site, "second, longer summary")  # edited in place: same version
    edited = mlviz(env, "list")
    assert "second, longer summary" in edited.stdout and "numpy" in edited.imports
    assert "second, longer summary" in mlviz(env, "info", "cached-demo").stdout

    for old in site.iterdir():  # uninstalled
        if old.is_dir():
            for file in old.iterdir():
                file.unlink()
            old.rmdir()
        else:
            old.unlink()
    gone = mlviz(env, "list")
    assert gone.returncode == 0 and "cached-demo" not in gone.stdout
    assert "kmeans" in gone.stdout


@pytest.mark.slow
def test_warnings_are_replayed_and_failures_never_cached(env, tmp_path):
    site = Path(env["PYTHONPATH"])
    (site / "broken_plugin.py").write_text("raise ImportError('no such thing')\n")
    info = site / "mlviz_broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlviz-broken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mlviz]\nbroken = broken_plugin\n")
    warning = ("mlviz: warning: plugin broken (mlviz-broken 0.1) failed to import: "
               "ImportError: no such thing")
    for _ in range(2):
        listed = mlviz(env, "list")
        assert listed.returncode == 0 and listed.stderr == warning
    assert "numpy" not in listed.imports  # the second answer came from the cache
    for _ in range(2):
        unknown = mlviz(env, "info", "kmean")
        assert unknown.returncode == 2 and "Did you mean 'kmeans'" in unknown.stderr
        assert "numpy" in unknown.imports  # run in full each time

    cache = Path(env["MLVIZ_CACHE_DIR"]) / "commands-v1.json"
    stored = json.loads(cache.read_text())
    assert all("info kmean" not in answers for answers in stored["fingerprints"].values())
    cache.write_text("{not json")  # a corrupt cache is no cache
    assert mlviz(env, "list").stdout == listed.stdout
    assert json.loads(cache.read_text())["version"] == 1
    off = mlviz({**env, "MLVIZ_NO_CACHE": "1"}, "list")
    assert off.stdout == listed.stdout and "numpy" in off.imports
    assert sorted(p.name for p in cache.parent.iterdir()) == ["commands-v1.json"]


def test_leaving_a_plugin_out_changes_the_fingerprint(monkeypatch):
    from mlviz.cache import fingerprint

    monkeypatch.delenv("MLVIZ_DISABLE_PLUGINS", raising=False)
    everything = fingerprint()
    monkeypatch.setenv("MLVIZ_DISABLE_PLUGINS", "kmeans")
    assert fingerprint() != everything  # `mlviz list` must not replay kmeans from the cache
