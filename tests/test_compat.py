"""Plugins written for mlviz 0.1 keep working: the knn example exactly as it was then
(tests/compat/mlviz-knn-0.1) and a Gaussian-mixture plugin written from the 0.1 docs
(tests/compat/mlviz-gmm-0.1), installed like a user would; the old forms they use warn
with a DeprecationWarning that names the replacement."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import pip_install, run_with

OLD_KNN = Path(__file__).parent / "compat" / "mlviz-knn-0.1"
OLD_GMM = Path(__file__).parent / "compat" / "mlviz-gmm-0.1"
#: mlviz 0.1's categorical colours.
OLD_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
               "#e377c2", "#bcbd22", "#17becf", "#000075", "#800000", "#f032e6")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return pip_install(OLD_KNN, tmp_path_factory)


def test_a_01_plugin_lists_and_renders_without_warnings(site, tmp_path):
    listed = run_with(site, "list", cwd=tmp_path)
    assert listed.returncode == 0 and "[knn (mlviz-knn 0.1.0)]" in listed.stdout
    # The only warning: its pin excludes this mlviz (one line, naming it).
    assert listed.stderr.count("\n") == 1
    assert listed.stderr.startswith("mlviz: warning: plugin mlviz-knn 0.1.0 declares "
                                    "mlviz<0.2,>=0.1, which excludes the running mlviz ")
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


# --- mlviz 0.1's constants and LossCurvePanel attributes, in this process ---------------

def test_the_01_style_constants_are_01s_and_warn_naming_the_replacement():
    import mlviz.style

    with pytest.warns(DeprecationWarning, match=r"mlviz.style.CATEGORICAL is deprecated "
                                                r"since mlviz 0.2 .* use self.theme.color\(i\)"):
        from mlviz.style import CATEGORICAL
    assert CATEGORICAL == OLD_COLOURS
    with pytest.warns(DeprecationWarning, match="use self.theme.loss"):
        assert mlviz.style.LOSS == "#c0392b"
    with pytest.warns(DeprecationWarning, match="use self.theme.negative"):
        assert mlviz.style.NEGATIVE == "#2166ac"
    with pytest.warns(DeprecationWarning, match="use self.theme.positive"):
        assert mlviz.style.POSITIVE == "#d6604d"
    with pytest.warns(DeprecationWarning, match="Theme.rc"):
        assert mlviz.style.STYLE["axes.edgecolor"] == "#444444"
    with pytest.raises(AttributeError, match="no attribute 'PALETTE'"):
        mlviz.style.PALETTE  # noqa: B018


def test_loss_curve_label_is_a_str_and_moves_the_readout_the_01_way():
    import mlviz
    from mlviz.panels import LossCurvePanel
    from mlviz.testing import panel_figure

    panel = LossCurvePanel(ylabel="nll")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert panel.label == "nll" and panel.label.upper() == "NLL"
        assert f"{panel.label}!" == "nll!" and isinstance(panel.label, str)
    with pytest.warns(DeprecationWarning, match="use LossCurvePanel.label"):
        assert panel.ylabel == "nll"

    class Moved(LossCurvePanel):
        def setup(self, ax, run):
            super().setup(ax, run)
            self.label.set_position((0.5, 0.4))

    run = mlviz.prepare("parabola", epochs=20).run
    with pytest.warns(DeprecationWarning, match="the readout text is LossCurvePanel.readout: "
                                                "use panel.readout.set_position"):
        fig = panel_figure(Moved(), run)
    readout = next(t for t in fig.axes[0].texts if t.get_text().startswith("epoch"))
    assert readout.get_position() == (0.5, 0.4)
    assert (readout.get_horizontalalignment(), readout.get_verticalalignment()) == \
        ("right", "top")  # aligned as in 0.1, where the plugin expects it
    with pytest.raises(AttributeError, match="'str' object has no attribute 'nothing'"):
        Moved().label.nothing  # noqa: B018


@pytest.fixture
def gmm(monkeypatch):
    """The 0.1 Gaussian-mixture plugin imported from its source (its old forms warn)."""
    monkeypatch.syspath_prepend(str(OLD_GMM / "src"))
    with pytest.warns(DeprecationWarning, match="mlviz.style.CATEGORICAL"):
        from mlviz_gmm.plugin import GMM
    yield GMM
    for name in [m for m in sys.modules if m.split(".")[0] == "mlviz_gmm"]:
        del sys.modules[name]


def test_the_01_gmm_plugin_draws_twelve_01_colours_and_its_moved_readout(gmm):
    import mlviz
    from mlviz.testing import scene_figure

    prepared = mlviz.prepare(gmm, n_components=12, n_points=240, epochs=6)
    with pytest.warns(DeprecationWarning, match="use panel.readout.set_position"):
        fig = scene_figure(prepared.scene, prepared.run)
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].reshape(-1, 3)
    for colour in ("#000075", "#800000", "#f032e6"):  # colours 10 to 12, gone in 0.2
        rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        assert np.all(pixels == rgb, axis=1).sum() > 20, colour
    readout = next(t for t in fig.axes[1].texts if t.get_text().startswith("epoch"))
    assert readout.get_position() == (0.97, 0.6)


def test_the_themes_check_finds_its_white_caption_box_in_the_dark_theme(gmm):
    from mlviz.testing import algorithm_checks

    checks = dict(algorithm_checks(gmm, n_components=3, n_points=60, epochs=4))
    with pytest.warns(DeprecationWarning), \
            pytest.raises(AssertionError, match=r"themes: with --theme dark, text 'EM step 3' "
                                                r"on a box of #.*: contrast 1\.\d"):
        checks["gaussian-mixture:themes"]()


@pytest.fixture(scope="module")
def gmm_site(tmp_path_factory):
    return pip_install(OLD_GMM, tmp_path_factory)


def test_the_01_gmm_plugin_renders_twelve_components_and_warns_its_author(gmm_site, tmp_path):
    args = ("render", "gaussian-mixture", "-o", "gmm.gif", "--set", "n_components=12",
            "--set", "n_points=240", "--set", "epochs=4", "--quiet")
    result = run_with(gmm_site, *args, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert Image.open(tmp_path / "gmm.gif").n_frames == 4
    os.environ["PYTHONWARNINGS"] = "default::DeprecationWarning"
    try:
        shown = run_with(gmm_site, *args, cwd=tmp_path)
    finally:
        del os.environ["PYTHONWARNINGS"]
    assert shown.returncode == 0
    assert "mlviz.style.CATEGORICAL is deprecated since mlviz 0.2" in shown.stderr
    assert "use self.theme.color(i)" in shown.stderr
    assert "use panel.readout.set_position" in shown.stderr


def test_list_names_the_plugins_pinned_to_an_older_mlviz(gmm_site, site, tmp_path):
    both = os.pathsep.join([str(gmm_site), str(site)])
    listed = run_with(Path(both), "list", cwd=tmp_path)
    assert listed.returncode == 0
    lines = listed.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("mlviz: warning: plugin ") for line in lines)
    assert any("mlviz-gmm 0.1.0 declares mlviz<0.2,>=0.1" in line for line in lines)
    assert any("mlviz-knn 0.1.0" in line for line in lines)
