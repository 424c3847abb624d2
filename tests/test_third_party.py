"""The example third-party plugin, examples/mlviz-knn, installed with pip like a user would.

It is installed into a temporary folder (``pip install --target``) and used through
``PYTHONPATH`` in subprocesses, so the rest of the test suite never sees it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import mlviz
from conftest import pip_install, run_with
from mlviz import load_registry

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "mlviz-knn"
PUBLIC_MODULES = {"mlviz", "mlviz.panels", "mlviz.theme", "mlviz.style", "mlviz.testing"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """examples/mlviz-knn pip-installed into a fresh folder (no network, no dependencies)."""
    target = pip_install(EXAMPLE, tmp_path_factory)
    assert (target / "mlviz_knn" / "plugin.py").is_file()
    assert list(target.glob("mlviz_knn-0.2.0.dist-info/entry_points.txt"))
    return target


def run(site: Path, *args: str, cwd: Path, module: str = "mlviz.cli", timeout: float = 180):
    return run_with(site, *args, cwd=cwd, module=module, timeout=timeout)


def test_not_visible_without_the_install():
    assert "knn" not in load_registry().algorithms


def test_list_shows_it_with_its_distribution(site, tmp_path):
    result = run(site, "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(row for row in result.stdout.splitlines() if row.startswith("knn "))
    assert "k-nearest neighbours" in line and line.endswith("[knn (mlviz-knn 0.2.0)]")
    assert "kmeans" in result.stdout  # the built-in algorithms are still there
    assert "knn" not in result.stderr  # loaded without a warning


def test_info_lists_config_validation_data_and_panels(site, tmp_path):
    result = run(site, "info", "knn", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "plugin: knn (mlviz-knn 0.2.0)" in out
    for needle in ("k_max", "[1 to 200]", "metric", "[euclidean | manhattan]", "test_fraction",
                   "--data: three columns: two numeric features and a class number",
                   "knn-error:", "knn-regions:", "needs: field k, field train_error, trace k",
                   "frames: 4 per second"):
        assert needle in out, needle


def test_render(site, tmp_path):
    result = run(site, "render", "knn", "-o", "knn.gif", "--set", "k_max=5",
                 "--set", "n_points=60", "--set", "metric=manhattan", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote knn.gif (5 frames" in result.stdout
    gif = Image.open(tmp_path / "knn.gif")
    assert gif.n_frames == 5 and gif.size == (960, 540)


@pytest.mark.parametrize("args, message", [
    (["--set", "metric=cosine"], "metric='cosine' is not allowed"),
    (["--set", "k_max=100", "--set", "n_points=60"], "k_max=100 is more than the 42 training"),
])
def test_its_validation_gives_one_line_errors(site, tmp_path, args, message):
    result = run(site, "render", "knn", "-o", "bad.gif", *args, cwd=tmp_path)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("mlviz: error: ") and message in last
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_users_csv_file(site, tmp_path):
    rows = ["width,height,kind"] + [f"{i % 9},{(i * 7) % 11},{int(i % 9 > 4)}" for i in range(50)]
    (tmp_path / "points.csv").write_text("\n".join(rows) + "\n")
    result = run(site, "render", "knn", "-o", "mine.gif", "--data", "points.csv",
                 "--set", "k_max=4", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "mine.gif").n_frames == 4
    (tmp_path / "points.csv").write_text("1,2,0.5\n3,4,1\n")
    result = run(site, "render", "knn", "-o", "bad.gif", "--data", "points.csv",
                 "--set", "k_max=1", cwd=tmp_path)
    assert result.returncode == 2 and "class numbers" in result.stderr


def test_it_is_in_the_gallery(site, tmp_path):
    code = ("from mlviz import load_registry\nfrom mlviz.gallery import plan_jobs\n"
            "print(' '.join(j.name for j in plan_jobs(load_registry())))")
    env = {**os.environ, "PYTHONPATH": str(site)}
    names = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, timeout=60).stdout.split()
    assert "knn" in names and "kmeans" in names  # a full gallery would render it
    result = run(site, "gallery", "out", "--only", "knn", "--set", "knn:k_max=4",
                 "--set", "knn:n_points=60", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "] knn: " in result.stderr and "4 frames" in result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["gallery.json", "index.html", "knn.gif",
                                                      "knn.mp4", "knn.png"]
    page = (out / "index.html").read_text()
    assert "<h2>knn</h2>" in page and "plugin knn (mlviz-knn 0.2.0)" in page
    assert "mlviz render knn -o knn.gif --set k_max=4 --set n_points=60" in page


def imported_modules(path: Path) -> set[tuple[str, str]]:
    """(module, name) for every mlviz import in a file; name '' for ``import module``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {(node.module, alias.name) for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {(alias.name, "") for alias in node.names}
    return {(m, n) for m, n in found if m.split(".")[0] == "mlviz"}


def test_example_uses_only_the_public_api():
    files = sorted(EXAMPLE.rglob("*.py"))
    assert len(files) >= 5
    for path in files:
        for module, name in imported_modules(path):
            assert module in PUBLIC_MODULES, f"{path.name} imports private module {module}"
            if module == "mlviz" and name:
                assert name in mlviz.__all__, f"{path.name} imports private mlviz.{name}"
            if module == "mlviz.panels" and name:
                assert name in mlviz.panels.__all__


def test_its_own_test_suite_passes_with_pytest_mpl(site):
    result = run(site, "-p", "no:cacheprovider", "-q", cwd=EXAMPLE, module="pytest",
                 timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "passed" in result.stdout and "failed" not in result.stdout
    assert "skipped" not in result.stdout  # scikit-learn and pytest-mpl are installed here
