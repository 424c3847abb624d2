"""The Sphinx site: it builds without a warning, and its reference pages are complete."""

from __future__ import annotations

import html
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest

import mlviz
from mlviz import hookspecs
from mlviz.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = ("mlviz.panels", "mlviz.theme", "mlviz.colorvision", "mlviz.style",
                  "mlviz.testing", "mlviz.torchutil",
                  "mlviz.landscape", "mlviz.datasets", "mlviz.sweep", "mlviz.story",
                  "mlviz.compat")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The documentation built as ``make docs`` builds it: warnings are errors. As there, a
    gallery is rendered into the site first (here a stand-in ``gallery.json``: rendering
    every algorithm takes minutes)."""
    pytest.importorskip("sphinx", reason="sphinx is a test dependency (pip install -e .[test])")
    out = tmp_path_factory.mktemp("html")
    (out / "gallery").mkdir()
    (out / "gallery" / "gallery.json").write_text(json.dumps(GALLERY))
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         "-d", str(out / ".doctrees"), "docs", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, f"the docs build failed:\n{result.stderr[-4000:]}"
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    return out


GALLERY = {"seconds": 3.0, "warnings": [], "entries": [
    {"name": "kmeans", "summary": "k-means", "plugin": "kmeans (mlviz 0.2.0)",
     "command": "mlviz render kmeans -o kmeans.webp", "stem": "kmeans", "seconds": 2.5,
     "frames": 75, "size": [960, 540], "error": None, "details": "",
     "bytes": {".webp": 1_000_000, ".gif": 1_400_000, ".mp4": 800_000, ".png": 90_000}},
    {"name": "broken", "summary": "fails", "plugin": "broken (broken 1.0)",
     "command": "mlviz render broken -o broken.webp", "stem": "broken", "error": "boom"},
]}


def text_of(page: Path) -> str:
    """The visible text of an HTML page, whitespace collapsed."""
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page.read_text(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", body)).split())


def spec_hooks() -> list[str]:
    """Every hook pluggy finds in hookspecs.py (independently of the docs extension)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return sorted(name for name in vars(pm.hook) if name.startswith("mlviz_"))


def test_make_docs_runs_the_documented_command():
    makefile = (REPO / "Makefile").read_text()
    target = re.search(r"^docs:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert target, "the Makefile has no docs target"
    assert "-m sphinx -W -b html docs docs/_build/html" in target.group(1)
    assert "mlviz gallery docs/_build/html/gallery" in target.group(1)


def test_site_has_every_page(site):
    for page in ("index", "quickstart", "cli", "api", "hooks", "gallery", "plugins"):
        assert (site / f"{page}.html").is_file(), page


def test_every_hook_is_documented(site):
    hooks = spec_hooks()
    assert "mlviz_algorithms" in hooks and "mlviz_panels" in hooks
    page = (site / "hooks.html").read_text()
    text = text_of(site / "hooks.html")
    for name in hooks:
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and len(doc.split()) >= 5, f"hook {name} has no real docstring"
        assert f'id="mlviz.hookspecs.{name}"' in page, f"hook {name} is missing from the page"
        first_sentence = " ".join(doc.split("\n\n")[0].split())
        assert first_sentence.replace("``", "").replace(":class:", "").replace("`", "")[:40] \
            in text, f"the docstring of {name} is not on the page"


def test_api_reference_documents_exactly_the_public_api(site):
    page = (site / "api.html").read_text()
    for name in mlviz.__all__:
        getattr(mlviz, name)  # every listed name exists
        assert f'id="mlviz.{name}"' in page, f"mlviz.{name} is not in the API reference"
    documented = set(re.findall(r'id="mlviz\.([A-Za-z_]+)"', page))
    assert documented - set(mlviz.__all__) <= {"panels", "style", "testing"}
    for module in PUBLIC_MODULES:
        assert f'id="module-{module}"' in page
    assert 'id="mlviz.panels.LossCurvePanel"' in page
    assert 'id="mlviz.testing.panel_figure"' in page and 'id="mlviz.testing.scene_figure"' in page
    for name in ("STYLE", "CATEGORICAL", "NEGATIVE", "POSITIVE", "LOSS"):
        assert f'id="mlviz.style.{name}"' in page


def test_public_api_is_sorted_and_unique():
    assert list(mlviz.__all__) == sorted(set(mlviz.__all__))


def test_cli_reference_covers_every_command_and_option(site):
    text = text_of(site / "cli.html")
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) >= {"render", "list", "info", "gallery"}
    for name, sub in commands.items():
        assert f"mlviz {name}" in text
        for action in sub._actions:
            for option in action.option_strings:
                assert option in text, f"mlviz {name} {option} is not documented"
            if action.help:
                assert " ".join(action.help.split())[:30] in text


def test_quickstart_gives_the_readme_commands(site):
    readme = (REPO / "README.md").read_text()
    text = text_of(site / "quickstart.html")
    for command in ("make demo", "make test"):
        assert command in readme and command in text
    assert "python -m sphinx -W -b html docs docs/_build/html" in text


def test_gallery_page_shows_every_example_script(site):
    text = text_of(site / "gallery.html")
    scripts = sorted(p.name for p in (REPO / "gallery").glob("*.py"))
    assert len(scripts) >= 13
    for script in scripts:
        assert f"gallery/{script}" in text
    assert "mlviz gallery out/" in text and "kmeans" in text
    assert 'href="gallery/index.html"' in (site / "gallery.html").read_text()


def test_gallery_page_embeds_the_rendered_gallery_and_lists_the_formats(site):
    page = (site / "gallery.html").read_text()
    assert '<img src="gallery/kmeans.png" width="960" height="540"' in page
    assert 'data-anim="gallery/kmeans.webp"' in page and 'href="gallery/kmeans.mp4"' in page
    assert 'class="card failed" id="broken"' in page and "boom" in page
    text = text_of(site / "gallery.html")
    for suffix in (".gif", ".mp4", ".webp", ".apng", ".png"):
        assert f"{suffix} " in text, suffix
    assert "core-writers (mlviz" in text


def test_plugin_guide_walks_through_the_example(site):
    text = text_of(site / "plugins.html")
    for needle in ("[project.entry-points.mlviz]", 'knn = "mlviz_knn.plugin"',
                   "def mlviz_algorithms", "def mlviz_panels", "class KnnConfig(Config)",
                   "def validate(self)", "class KnnSnapshot(Snapshot)", "class KnnTrainer",
                   "def run(self, dataset", "class ErrorCurvePanel(Panel)",
                   "def setup(self, ax, run)", "def update(self, snapshot)",
                   "class ErrorBarsPanel(RedrawPanel)", "@pytest.mark.mpl_image_compare",
                   "from mlviz.testing import", "--mpl-generate-path"):
        assert needle in text, needle
