"""docs/jupyter.ipynb runs in a real kernel and shows what it says: the player for a
prepared run (text/html), a figure as image/png, a record loaded back, progress bars."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

import mlviz
from mlviz.api import frame_captions

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "docs" / "jupyter.ipynb"


def _runner():
    """docs/jupyter_run.py, which runs the notebook and stores its outputs in it."""
    spec = importlib.util.spec_from_file_location("jupyter_run", REPO / "docs" / "jupyter_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook executed top to bottom by nbclient, in a fresh folder, with a kernel
    that runs this very Python (as docs/jupyter_run.py runs it)."""
    pytest.importorskip("nbformat", reason="the test extra installs nbformat")
    pytest.importorskip("nbclient", reason="the test extra installs nbclient")
    pytest.importorskip("ipykernel", reason="the test extra installs ipykernel")
    work = tmp_path_factory.mktemp("notebook")
    return _runner().execute(NOTEBOOK, work), work


def outputs(cell) -> tuple[dict, str, str]:
    """A code cell's rich result (MIME type -> data), stdout and stderr."""
    data: dict = {}
    streams = {"stdout": "", "stderr": ""}
    for output in cell.outputs:
        assert output.output_type != "error", "".join(output.get("traceback", []))
        if output.output_type == "stream":
            streams[output.name] += output.text
        else:
            data.update(output.get("data", {}))
    return data, streams["stdout"], streams["stderr"]


def player_data(html: str) -> dict:
    assert html.startswith('<div class="mlviz-player"') and "<html" not in html
    assert 'class="mlviz-slider"' in html and 'class="mlviz-play"' in html
    found = re.search(r'class="mlviz-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


@pytest.mark.slow
def test_notebook_outputs(executed):
    notebook, work = executed
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(cells) == 4
    # A prepared run displays as the player, every frame with its caption.
    same = mlviz.prepare("kmeans", k_max=4, frames=12)  # what the notebook prepares
    epochs, frames = len(same.run.epochs), same.run.n_frames
    data, _, err = outputs(cells[0])
    assert data["text/plain"] == f"<Prepared kmeans: {epochs} epochs, {frames} frames at 5 fps>"
    player = player_data(data["text/html"])
    assert len(player["sequence"]) == frames and player["captions"] == frame_captions(same.run)
    assert player["captions"][-1].endswith(" · k 3 · converged yes · recap yes")  # the elbow
    assert "training kmeans" in err  # the training bar, as text without ipywidgets
    # A figure shows as a PNG image.
    data, _, _ = outputs(cells[1])
    image = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert image.format == "PNG" and image.size == (1280, 720)
    # A record saved and loaded displays again, thinned to 6 frames.
    data, out, _ = outputs(cells[2])
    assert out == f"{epochs} epochs recorded, {frames} frames to draw\n"
    assert len(player_data(data["text/html"])["sequence"]) == 6
    assert (work / "kmeans-run.npz").is_file()
    # render writes the page, with a drawing bar.
    data, _, err = outputs(cells[3])
    assert data["text/plain"] == "PosixPath('kmeans.html')"
    assert "drawing" in err and f"/{frames} [" in err
    page = (work / "kmeans.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("mlviz-player") > 1


# --- the outputs stored in the notebook, which the docs show ---------------------------------

def summary(cell) -> list:
    """What a code cell shows, less what may differ between runs or library versions (the
    images' bytes, the players' element ids): per output its kind and text, and of a
    player its frames' captions, chapters and timing."""
    shown = []
    for output in cell.outputs:
        if output.output_type == "stream":
            shown.append((output.name, output.text))
            continue
        data = output.get("data", {})
        entry = [output.output_type, sorted(data), data.get("text/plain")]
        if "text/html" in data:
            player = player_data(data["text/html"])
            entry.append({key: player[key] for key in ("captions", "chapters", "fps")})
            entry.append(len(player["sequence"]))
        shown.append(tuple(map(str, entry)))
    return shown


def test_the_notebook_holds_current_outputs_for_every_cell():
    """The docs show the notebook's stored outputs (docs/conf.py does not run it): each code
    cell has them, none failed, and they are what this mlviz prepares."""
    nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
    assert NOTEBOOK.stat().st_size < _runner().MAX_BYTES
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    for cell in cells:
        assert cell.outputs, f"no stored output for: {cell.source.splitlines()[0]}"
        assert all(output.output_type != "error" for output in cell.outputs)
    same = mlviz.prepare("kmeans", k_max=4, frames=12)  # what the first cell prepares
    frames, stale = same.run.n_frames, "stale: run python docs/jupyter_run.py"
    data, _, _ = outputs(cells[0])
    assert data["text/plain"] == repr(same), stale
    player = player_data(data["text/html"])
    assert len(player["sequence"]) == frames, stale
    assert player["captions"] == frame_captions(same.run), stale
    assert player["chapters"] == [list(c) for c in same.chapters()], stale
    data, _, _ = outputs(cells[1])
    assert Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).size == (1280, 720)
    data, out, _ = outputs(cells[2])
    assert out == f"{len(same.run.epochs)} epochs recorded, {frames} frames to draw\n", stale
    player = player_data(data["text/html"])
    assert player["captions"] == frame_captions(same.with_frames(6).run), stale
    assert outputs(cells[3])[0]["text/plain"] == "PosixPath('kmeans.html')"


@pytest.mark.slow
def test_the_stored_outputs_are_a_fresh_runs(executed):
    """What the docs show is what running the notebook now shows (as the runner stores
    it): run ``python docs/jupyter_run.py`` after a change that alters it."""
    nbformat = pytest.importorskip("nbformat")
    fresh = _runner().tidy(executed[0])
    stored = nbformat.read(NOTEBOOK, as_version=4)
    pairs = list(zip(*[[c for c in nb.cells if c.cell_type == "code"] for nb in (stored, fresh)]))
    assert len(pairs) == 4
    for old, new in pairs:
        assert summary(old) == summary(new), "stale: run python docs/jupyter_run.py"
