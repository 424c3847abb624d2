"""The watched-run scripts of gallery/ run as written and make what they say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from test_watch import watched_model_installed  # noqa: E402,F401 - the entry point, autouse

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_moons_script_records_and_renders_a_gif_and_a_poster(tmp_path):
    from PIL import Image

    import mlviz

    result = subprocess.run([sys.executable, str(REPO / "gallery" / "watch_moons.py"),
                             str(tmp_path)], capture_output=True, text=True, timeout=900,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    gif = Image.open(tmp_path / "watch-moons.gif")
    assert gif.n_frames >= 20 and gif.size == (1280, 720)
    assert Image.open(tmp_path / "watch-moons.png").size == (1280, 720)
    prepared = mlviz.load_run(tmp_path / "watch-moons.npz")
    assert prepared.algorithm.name == "watched-model" and len(prepared.run.epochs) == 80


def test_the_scripts_say_how_to_run_them_and_show_their_picture():
    for name in ("watch_moons", "watch_digits"):
        text = (REPO / "gallery" / f"{name}.py").read_text()
        assert f"Run: python gallery/{name}.py" in text
        assert f".. image:: _static/{name}.png" in text
        assert (REPO / "docs" / "_static" / f"{name}.png").stat().st_size > 20_000
