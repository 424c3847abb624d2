"""Plugins written for mlviz 0.1 keep working: the knn example exactly as it was then
(tests/compat/mlviz-knn-0.1), installed like a user would."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import pip_install, run_with
from PIL import Image

OLD_KNN = Path(__file__).parent / "compat" / "mlviz-knn-0.1"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return pip_install(OLD_KNN, tmp_path_factory)


def test_a_01_plugin_lists_and_renders_without_warnings(site, tmp_path):
    listed = run_with(site, "list", cwd=tmp_path)
    assert listed.returncode == 0 and "[knn (mlviz-knn 0.1.0)]" in listed.stdout
    assert listed.stderr == ""
    result = run_with(site, "render", "knn", "-o", "knn.gif", "--set", "k_max=5",
                      "--set", "n_points=60", "--quiet", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert Image.open(tmp_path / "knn.gif").n_frames == 5


def test_a_01_plugin_records_and_renders_again(site, tmp_path):
    trained = run_with(site, "train", "knn", "-o", "knn.npz", "--set", "k_max=4",
                       "--set", "n_points=60", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    again = run_with(site, "render", "knn.npz", "-o", "knn.png", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert Image.open(tmp_path / "knn.png").size == (960, 540)


def test_the_conformance_check_tells_a_01_author_what_to_change(site, tmp_path):
    code = ("from mlviz.testing import check_algorithm\n"
            "try:\n    check_algorithm('knn', k_max=6, n_points=90)\n"
            "except AssertionError as exc:\n    print(exc)\n")
    result = run_with(site, "-c", code, cwd=tmp_path, module=None).stdout
    assert "poster-independent-of-frames" in result and "from run traces" in result
