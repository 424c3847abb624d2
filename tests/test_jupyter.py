"""docs/jupyter.ipynb runs in a real kernel and shows what it says: the player for a
prepared run (text/html), a figure as image/png, a record loaded back, progress bars."""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from pathlib import Path

import pytest
from PIL import Image

import mlviz
from mlviz.api import frame_captions

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "docs" / "jupyter.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook executed top to bottom by nbclient, in a fresh folder, with a kernel
    that runs this very Python (a kernelspec in a temporary JUPYTER_PATH)."""
    nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")
    pytest.importorskip("ipykernel", reason="the test extra installs ipykernel")
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / "mlviz-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mlviz test", "language": "python"}))
    work = tmp_path_factory.mktemp("notebook")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(home))
        patch.setenv("MPLBACKEND", "Agg")
        client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="mlviz-test",
                                         resources={"metadata": {"path": str(work)}})
        client.execute()
    return notebook, work


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
