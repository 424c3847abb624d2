"""What a quiet ``mlviz render`` imports: only what draws and writes its animation (every
module costs the start-up, which no number of workers shortens)."""

from __future__ import annotations

import subprocess
import sys


def test_a_quiet_render_imports_no_progress_bars_or_optional_libraries(tmp_path):
    code = (
        "import sys\n"
        "from mlviz.cli import main\n"
        f"status = main(['render', 'kmeans', '--frames', '2', '--dpi', '20', '-q', '-j', '1',"
        f" '-o', {str(tmp_path / 'k.gif')!r}])\n"
        "heavy = ('tqdm', 'asyncio', 'torch', 'pandas', 'jinja2',"
        " 'scipy', 'sklearn')\n"
        "print(status, sorted(m for m in heavy if m in sys.modules))\n"
        "import matplotlib.lines\n"
        "print(len(matplotlib.lines.Line2D.set.__doc__))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"MPLBACKEND": "Agg", **_env()})
    status, doc = out.stdout.strip().splitlines()
    assert status == "0 []", out.stderr
    assert (tmp_path / "k.gif").stat().st_size > 0
    # matplotlib's property tables were not written (0.1 s): the docstring is its head only
    assert int(doc) < 100


def test_artist_docstrings_already_written_are_left_alone():
    import matplotlib.artist
    import matplotlib.lines

    from mlviz.renderer import skip_artist_docstrings

    kwdoc = matplotlib.artist.kwdoc
    skip_artist_docstrings()
    assert matplotlib.artist.kwdoc is kwdoc
    assert "antialiased" in matplotlib.lines.Line2D.set.__doc__


def test_a_disabled_bar_takes_the_calls_of_a_tqdm_bar():
    from mlviz.progress import SilentBar, bar

    with bar(3, desc="drawing", unit="frame", enabled=False) as silent:
        assert isinstance(silent, SilentBar)
        silent.update()
        silent.update(2)
        silent.set_description("encoding x.gif")
        silent.set_postfix(loss=1.0)
    assert (silent.n, silent.total, silent.desc) == (3, 3, "encoding x.gif")


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
