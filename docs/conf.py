"""Sphinx configuration of the mlviz documentation.

Build: ``make docs`` (or ``python -m sphinx -W -b html docs docs/_build/html``).
The reference pages are generated from the code by the directives in ``_ext/mlviz_docs.py``.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "mlviz"
author = "mlviz developers"
copyright = "2026, mlviz developers"


def _release() -> str:
    """The version in this checkout's pyproject.toml (an editable install's metadata keeps
    the version it was installed with), else the installed one."""
    try:
        import tomllib

        with open(HERE.parent / "pyproject.toml", "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except Exception:  # Python 3.10 (no tomllib), or no pyproject.toml next to docs/
        from importlib.metadata import PackageNotFoundError, version as _version

        try:
            return _version("mlviz")
        except PackageNotFoundError:
            return "unknown"


release = _release()
version = release

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "mlviz_docs", "myst_nb"]
# jupyter.ipynb is shown with the outputs stored in it (written by docs/jupyter_run.py), not
# run here: the test suite builds these docs (tests/test_docs.py) and already runs the
# notebook once (tests/test_jupyter.py, which also fails while the stored outputs are stale).
nb_execution_mode = "off"
exclude_patterns = ["_build"]
root_doc = "index"
smartquotes = False  # keep "--set" and quotes as typed

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True

html_theme = "alabaster"
html_title = f"mlviz {release}"
html_theme_options = {
    "description": "Watch classic machine learning learn.",
    "fixed_sidebar": True,
    "page_width": "1240px",  # room for 100-column code
}
# mlviz.css lets the content column use that width and keeps code blocks inside it.
html_static_path = ["_static"]
html_css_files = ["mlviz.css"]
