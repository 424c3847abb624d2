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
