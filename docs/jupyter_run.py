"""Run docs/jupyter.ipynb and keep its outputs in it: the docs show them as stored.

Usage: python docs/jupyter_run.py   (after a change that alters what the notebook shows;
tests/test_jupyter.py fails while the stored outputs differ from a fresh run's)

The notebook runs top to bottom in a fresh folder (the files it writes are left there),
in a kernel that runs this Python, by nbclient. The stored copy keeps what a reader sees:
progress bars as a terminal leaves them (mlviz's clear themselves when done), and no
timings or run metadata. The docs build does not run it (``nb_execution_mode = "off"`` in
docs/conf.py): tests/test_docs.py builds the site in the test suite, and running the
notebook there would repeat, on every run, the execution tests/test_jupyter.py makes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

NOTEBOOK = Path(__file__).resolve().parent / "jupyter.ipynb"
#: The largest the stored notebook may be (the docs page carries all of it).
MAX_BYTES = 3 * 2**20


def execute(path: Path = NOTEBOOK, work: Path | None = None, timeout: int = 300) -> Any:
    """The notebook at ``path`` executed top to bottom by nbclient in ``work`` (a new
    temporary folder by default), in a kernel that runs this very Python (a kernelspec in
    a temporary ``JUPYTER_PATH``); returns the nbformat notebook, outputs included."""
    import nbclient
    import nbformat

    home = Path(tempfile.mkdtemp(prefix="mlviz-jupyter-"))
    spec = home / "kernels" / "mlviz-docs"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mlviz docs", "language": "python"}))
    work = Path(tempfile.mkdtemp(prefix="mlviz-notebook-")) if work is None else work
    notebook = nbformat.read(path, as_version=4)
    saved = {name: os.environ.get(name) for name in ("JUPYTER_PATH", "MPLBACKEND")}
    os.environ.update(JUPYTER_PATH=str(home), MPLBACKEND="Agg")
    try:
        nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="mlviz-docs",
                                resources={"metadata": {"path": str(work)}}).execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return notebook


def as_shown(text: str) -> str:
    """Stream text as a terminal leaves it: a carriage return goes back to the start of
    the line, and what follows writes over it (a progress bar's last state, or nothing
    where the bar cleared itself)."""
    lines = []
    for line in text.split("\n"):
        shown = ""
        for part in line.split("\r"):
            shown = part + shown[len(part):]
        lines.append(shown.rstrip())
    return "\n".join(lines)


def tidy(notebook: Any) -> Any:
    """``notebook`` as stored: each run of stream outputs merged and shown as a terminal
    leaves it (left out if blank), no execution timings or kernel metadata."""
    import nbformat

    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                       "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept: list[Any] = []
        for output in cell.outputs:
            if output.output_type == "stream" and kept and \
                    kept[-1].output_type == "stream" and kept[-1].name == output.name:
                kept[-1].text += output.text
            else:
                kept.append(output)
        cell.outputs = []
        for output in kept:
            if output.output_type == "stream":
                text = as_shown(output.text)
                if not text.strip():
                    continue
                output = nbformat.v4.new_output("stream", name=output.name,
                                                text=text.strip("\n") + "\n")
            cell.outputs.append(output)
    return notebook


def main() -> int:
    import nbformat

    notebook = tidy(execute())
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                print(f"{NOTEBOOK.name}: a cell failed:\n" + "\n".join(output.traceback),
                      file=sys.stderr)
                return 1
    text = nbformat.writes(notebook) + "\n"
    if len(text.encode()) > MAX_BYTES:
        print(f"{NOTEBOOK.name} would be {len(text.encode()) / 2**20:.1f} MB with its "
              f"outputs, over {MAX_BYTES / 2**20:.0f} MB: draw fewer or smaller frames in it",
              file=sys.stderr)
        return 1
    NOTEBOOK.write_text(text, encoding="utf-8")
    print(f"wrote {NOTEBOOK} ({len(text.encode()) / 2**20:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
