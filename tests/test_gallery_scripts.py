"""The scripts in gallery/: one per built-in algorithm, valid settings, and one that runs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from PIL import Image

from mlviz import load_registry

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "gallery").glob("*.py"))
# Keyword arguments of mlviz.render / mlviz.prepare that are not hyperparameters.
RENDER_OPTIONS = {"fps", "frames", "dpi", "data", "progress", "registry", "settings", "sweep",
                  "overlay"}


def builtin_algorithms() -> set[str]:
    """The algorithm names mlviz declares as entry points (the built-in plugins), less those
    that only draw records (``watched-model``: its examples are in docs/watch.rst)."""
    from mlviz import load_registry

    with open(REPO / "pyproject.toml", "rb") as handle:
        points = tomllib.load(handle)["project"]["entry-points"]["mlviz"]
    algorithms = load_registry().algorithms
    return {name for name, target in points.items()
            if not target.startswith("mlviz.") and not algorithms[name].record_only}


def api_calls(path: Path) -> list[tuple[str, dict]]:
    """(algorithm, literal keyword arguments) of every mlviz.render/prepare call in a script."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "mlviz"
                and node.func.attr == "watch"):  # a watched run: recorded, no settings
            calls.append(("watched-model", {}))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "mlviz"
                and node.func.attr in ("render", "prepare")):
            name = ast.literal_eval(node.args[0])
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            calls.append((name, kwargs))
    return calls


def test_one_script_per_builtin_algorithm():
    covered = {name for path in SCRIPTS for name, _ in api_calls(path)}
    assert builtin_algorithms() <= covered, builtin_algorithms() - covered
    for path in SCRIPTS:
        module = ast.parse(path.read_text())
        doc = ast.get_docstring(module)
        assert doc and f"Run: python gallery/{path.name}" in doc, path.name
        assert api_calls(path), f"{path.name} does not use the Python API"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_script_settings_are_valid(path):
    registry = load_registry()
    for name, kwargs in api_calls(path):
        if name not in registry.algorithms:
            pytest.skip(f"algorithm {name} is not installed here")
        config = registry.get(name).config
        hyper = {k: v for k, v in kwargs.items() if k not in RENDER_OPTIONS}
        config.from_overrides(hyper)  # raises ConfigError for an unknown or invalid setting
        assert set(kwargs) - set(hyper) <= RENDER_OPTIONS
        if "sweep" in kwargs:  # every swept value, with the rest, is a valid config too
            from mlviz.sweep import parse_sweep

            for key, values in parse_sweep(kwargs["sweep"], config):
                for value in values:
                    config.from_overrides({**hyper, key: value})


def test_custom_scene_script_runs(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "gallery" / "custom_scene.py"),
                             str(tmp_path)], capture_output=True, text=True, timeout=180,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    frames = int(result.stdout.split("(")[-1].split()[0])
    gif = Image.open(tmp_path / "kmeans-custom.gif")
    assert gif.n_frames == frames > 5 and gif.size == (960, 540)
