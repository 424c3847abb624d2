"""The command line, in subprocesses: outputs, messages, exit codes, nothing half-written."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image


def test_render_writes_kmeans_gif_in_the_current_folder(run_cli, tmp_path):
    result = run_cli("render", "kmeans", "--set", "k_max=3", "--set", "max_iter=3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote kmeans.gif (")
    with Image.open(tmp_path / "kmeans.gif") as gif:
        assert gif.size == (1280, 720) and gif.n_frames >= 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kmeans.gif"]


def test_render_options(run_cli, tmp_path):
    result = run_cli("render", "kmeans", "-o", "small.gif", "--frames", "4", "--fps", "10",
                     "--dpi", "50", "--seed", "7", "--set", "k_max=4", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "[" not in result.stderr  # quiet: no path, no bar
    with Image.open(tmp_path / "small.gif") as gif:
        assert gif.n_frames == 4 and gif.size == (640, 360)
        assert gif.info["duration"] == 100


def test_png_poster_and_mp4(run_cli, tmp_path):
    assert run_cli("render", "kmeans", "-o", "p.png", "--set", "k_max=2").returncode == 0
    assert run_cli("render", "kmeans", "-o", "m.mp4", "--set", "k_max=2", "-q").returncode == 0
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert (tmp_path / "m.mp4").stat().st_size > 1000


def test_same_seed_same_animation(run_cli, tmp_path):
    for name in ("a.gif", "b.gif"):
        run_cli("render", "kmeans", "-o", name, "--seed", "3", "--set", "k_max=3", "-q")
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["render", "kmeens"], "unknown algorithm 'kmeens'. Did you mean 'kmeans'?"),
        (["info", "pcaa"], "unknown algorithm 'pcaa'"),
        (["render", "kmeans", "--set", "kmax=3"], "unknown hyperparameter 'kmax' (did you mean 'k_max'?); valid keys: seed, k_max"),
        (["render", "kmeans", "--set", "k_max=0"], "k_max=0 is out of range: must be ≥ 1"),
        (["render", "kmeans", "--set", "k_max=three"], "k_max expects an integer, got 'three'"),
        (["render", "kmeans", "--set", "init=best"], "init='best' is not allowed; choose one of: k-means++, random"),
        (["render", "kmeans", "--set", "k_max"], "--set expects KEY=VALUE, got 'k_max'"),
        (["render", "kmeans", "-o", "nowhere/k.gif"], "output folder does not exist: nowhere"),
        (["render", "kmeans", "-o", "k.avi"], "unknown output type '.avi': use one of .apng, .gif"),
    ],
)
def test_errors_are_one_line_without_traceback(run_cli, tmp_path, args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if not line.startswith("mlviz: warning:")]
    assert len(errors) == 1 and errors[0].startswith("mlviz: error: "), result.stderr
    assert message in errors[0]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "data file not found"),
        ("x,y\n1,2\n3,oops\n", "line 3: 'oops' is not a number"),
        ("x,y\n1,2\n3,nan\n", "line 3: missing, NaN or infinite value"),
        ("x,y\n1,2\n3,\n", "line 3: '' is not a number"),
        ("1,2,3\n4,5,6\n", "has 3 columns (x1, x2, x3); kmeans uses 2 feature columns: "
                            "choose them with --columns NAME,NAME"),
        ("x,y\n1,2\n3,4\n5,6\n", "has 3 points, fewer than k_max=12 clusters"),
        ("", "is empty"),
    ],
)
def test_bad_data_files(run_cli, tmp_path, content, message):
    data = tmp_path / "points.csv"
    if content is not None:
        data.write_text(content)
    result = run_cli("render", "kmeans", "--data", str(data))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "kmeans.gif").exists()


def test_users_csv_is_clustered(run_cli, tmp_path):
    rows = "\n".join(f"{x},{y}" for x, y in [(0, 0), (1, 0), (0, 1), (10, 10), (11, 10), (10, 11)])
    (tmp_path / "pts.csv").write_text("width,height\n" + rows + "\n")
    result = run_cli("render", "kmeans", "--data", "pts.csv", "--set", "k_max=3", "-o", "u.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "u.png").exists()


def test_list_and_info(run_cli):
    listed = run_cli("list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    line = next(entry for entry in lines if entry.split()[0] == "kmeans")
    assert "k-means clustering" in line and "[" not in line  # no plugin repeated per line
    assert lines[-1].startswith("built in: mlviz 0.2.0; others name their plugin")
    info = run_cli("info", "kmeans")
    assert info.returncode == 0
    for text in ("k_max", "int", "12", "clusters are fitted for K", "[1 to 12]",
                 "k-means++ | random", "kmeans-elbow", "kmeans-clusters", "default dataset"):
        assert text in info.stdout


def test_help_for_every_option(run_cli):
    result = run_cli("render", "--help")
    for option in ("--output", "--fps", "--frames", "--seed", "--dpi", "--set", "--data", "--quiet"):
        assert option in result.stdout
    assert run_cli("--help").returncode == 0


def test_bad_option_values_are_argparse_errors(run_cli):
    result = run_cli("render", "kmeans", "--frames", "0")
    assert result.returncode == 2 and "must be at least 1" in result.stderr


def test_help_and_list_do_not_import_matplotlib_or_torch():
    code = (
        "import sys, contextlib, io\n"
        "from mlviz.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    main(['list']); main(['info', 'kmeans'])\n"
        "print(sorted(m for m in ('matplotlib', 'torch', 'PIL') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_torch_is_a_one_line_error(run_cli, tmp_path):
    """On an install without torch, a torch-based algorithm says what to install."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class BlockTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'torch':\n"
        "            raise ModuleNotFoundError(f\"No module named '{name}'\", name=name)\n"
        "sys.meta_path.insert(0, BlockTorch())\n"
    )
    result = run_cli("render", "optimizers", "-o", "o.gif", env={"PYTHONPATH": str(blocker)})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "mlviz: error: optimizers needs torch, which is not installed" in result.stderr
    assert "pip install -c constraints.txt -e '.[torch]'" in result.stderr  # the README's
    assert not (tmp_path / "o.gif").exists()


def test_info_and_help_text_is_whole():
    """info: each panel's first paragraph whole, one --data line; --help names algorithms."""
    code = (
        "import sys, contextlib, io\n"
        "from mlviz.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['render', '--help'])\n"
        "for name in sys.argv[1:]:\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        print('=== ' + name); main(['info', name])\n"
        "print(out.getvalue())\n"
        "print(sorted(m for m in ('matplotlib', 'torch', 'PIL') if m in sys.modules))\n"
    )
    from mlviz import load_registry

    names = sorted(load_registry().algorithms)
    out = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True,
                         check=True).stdout
    help_text, *infos = out.split("=== ")
    assert " ".join(help_text.split("algorithms:")[1].split()).startswith(", ".join(names))
    for info in infos:
        assert info.count("\n--data") == 1, info  # once, from data_help or the reason
    pca = " ".join(infos[names.index("pca")].split())
    assert ("pca-axes: The data with its principal axes (arrows of 2 standard deviations) and "
            "the span of the kept components (a line, then a plane).") in pca
    assert out.strip().splitlines()[-1] == "[]"
