"""Shared fixtures for the mlviz test suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _private_command_cache(tmp_path_factory):
    """``mlviz list``/``info`` in subprocesses cache their answers: in a folder of the test
    session's own, never the user's ``~/.cache/mlviz``."""
    previous = os.environ.get("MLVIZ_CACHE_DIR")
    os.environ["MLVIZ_CACHE_DIR"] = str(tmp_path_factory.mktemp("mlviz-cache"))
    yield
    if previous is None:
        os.environ.pop("MLVIZ_CACHE_DIR", None)
    else:
        os.environ["MLVIZ_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _fresh_session():
    """Each test starts from a session that loads the installed plugins afresh (a test that
    installs a plugin, or replaces ``load_registry``, must not leak it into the next)."""
    from mlviz import session

    session.reset()
    yield
    session.reset()


@pytest.fixture
def run_cli(tmp_path):
    """Run ``python -m mlviz.cli ARGS`` in a subprocess (cwd: a fresh temporary folder)."""

    def run(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120):
        full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "mlviz.cli", *args], cwd=cwd or tmp_path, env=full_env,
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )

    return run


def pip_install(source: Path, tmp_path_factory) -> Path:
    """``source`` (a plugin's folder) pip-installed, without network or dependencies, into a
    fresh folder for ``PYTHONPATH``; the copy it is built from keeps the repo clean."""
    import shutil

    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    copy = build / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "--target", str(target), str(copy)],
        capture_output=True, text=True, timeout=300, cwd=build,
        env={**os.environ, "PIP_NO_CACHE_DIR": "1", "TMPDIR": str(build)},
    )
    assert result.returncode == 0, result.stderr
    return target


def run_with(site: Path, *args: str, cwd: Path, module: str | None = "mlviz.cli",
             timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m MODULE ARGS`` (``python ARGS`` without a module) with ``site`` on
    ``PYTHONPATH`` (an installed plugin)."""
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, *(["-m", module] if module else []), *args]
    return subprocess.run(command, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
