"""What a new user meets in the first hour: how mlviz is started and found."""

from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_runs_the_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mlviz", "list"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "kmeans" in done.stdout.split()


def test_a_folder_named_mlviz_beside_a_script_does_not_shadow_the_package(tmp_path):
    clone = tmp_path / "mlviz"  # a clone of the repository: no __init__.py at its top
    (clone / "src").mkdir(parents=True)
    (clone / "README.md").write_text("# mlviz\n")
    script = tmp_path / "make_gif.py"
    script.write_text("import mlviz\nprint(callable(mlviz.render), callable(mlviz.prepare))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_an_abbreviated_option_is_an_error_not_a_guess(run_cli):
    result = run_cli("render", "kmeans", "--frame", "3", "-q")
    assert result.returncode == 2
    assert "unrecognized arguments: --frame 3" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_mistyped_hyperparameter_suggests_the_one_meant():
    from mlviz.config import similar_keys

    assert similar_keys("learning_rate", ["seed", "lr", "epochs"]) == ["lr"]
    assert similar_keys("k", ["seed", "k_max", "k_min", "n_init"]) == ["k_max", "k_min"]
    assert similar_keys("epoch", ["seed", "lr", "epochs"]) == ["epochs"]
    assert similar_keys("zzz", ["seed", "lr"]) == []


def test_the_command_line_names_the_suggestion(run_cli):
    result = run_cli("render", "linear-regression", "--set", "learning_rate=0.1")
    assert result.returncode == 2 and "did you mean 'lr'?" in result.stderr
