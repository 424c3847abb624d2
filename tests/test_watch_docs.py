"""The examples of docs/watch.rst run as written (shortened) and their records render."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from test_watch import watched_model_installed  # noqa: E402,F401 - the entry point, autouse

DOC = Path(__file__).resolve().parents[1] / "docs" / "watch.rst"


def examples() -> list[str]:
    """The python code blocks of the page that save a record (the complete examples)."""
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", DOC.read_text())
    code = [re.sub(r"^   ", "", block, flags=re.M) for block in blocks]
    return [c for c in code if "import mlviz" in c]


def test_the_page_has_the_two_examples():
    found = examples()
    assert len(found) == 2
    assert "make_moons" in found[0] and "momentum=0.9" in found[0]
    assert "load_digits" in found[1] and "DataLoader" in found[1]


@pytest.mark.slow
@pytest.mark.parametrize("index, record", [(0, "moons.npz"), (1, "digits.npz")])
def test_each_example_runs_and_its_record_renders(index, record, tmp_path, run_cli):
    code = examples()[index]
    code = code.replace("range(80)", "range(12)").replace("range(15)", "range(3)")
    code = code.replace("mlviz.watch(model, data=(X, y), loss=loss_fn)",
                        "mlviz.watch(model, data=(X, y), loss=loss_fn, resolution=9)")
    code = code.replace("eval_size=512,", "eval_size=256, resolution=9,")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    result = run_cli("render", record, "-o", "poster.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "poster.png").stat().st_size > 10_000
