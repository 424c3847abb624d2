"""Signals, as a terminal, ``timeout`` or CI sends them: the exit status is 128 + the
signal, the one line says what is left, and nothing half-written is (no hidden temporary
file either).

Real processes: ``python -m mlviz.cli`` in a session of its own, stopped once a temporary
file of its output exists (it is drawing). A terminal's Ctrl-C and CI's SIGTERM go to the
whole process group, the workers included; ``timeout`` and ``kill`` send to one process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import pytest
from PIL import Image

from mlviz.failure import run_command

PART = ".mlviz-"  # in every temporary file's name (mlviz.writers.atomic)


def start(*args: str, cwd: Path) -> subprocess.Popen:
    """``python -m mlviz.cli ARGS`` in a new session (its own process group)."""
    import mlviz

    source = str(Path(mlviz.__file__).parents[1])  # the mlviz under test
    path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path}
    return subprocess.Popen([sys.executable, "-m", "mlviz.cli", *args], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_drawing(folder: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    """Return once a temporary output file exists in ``folder`` (the command draws)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if folder.is_dir() and any(PART in name for name in os.listdir(folder)):
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)
    raise AssertionError(f"nothing was being drawn after {timeout} s")


def children_of(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return False


def every_file(folder: Path) -> list[str]:
    """Every name in ``folder``, hidden ones included."""
    return sorted(os.listdir(folder))


# --- the gallery under SIGTERM --------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("to", ["group", "parent"])
def test_a_gallery_stopped_by_sigterm_leaves_no_temporary_file(tmp_path, to):
    """SIGTERM while both workers draw: to the whole process group (``timeout`` with
    ``--foreground``, CI), or to the gallery's process alone (``kill``, ``timeout``), which
    stops its workers. Exit 143, a true line, no worker left, and no file besides what was
    there and what is complete."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    process = start("gallery", "out", "--only", "kmeans", "pca", "--frames", "40",
                    "--formats", "gif", "--no-cache", cwd=tmp_path)
    wait_drawing(out, process)
    workers = children_of(process.pid)
    if to == "group":
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == ("mlviz: stopped by SIGTERM; finished animations are "
                                    "kept, no partial file was left")
    left = every_file(out)
    assert not [name for name in left if name.startswith(".")], left
    finished = {name.rpartition(".")[0] for name in left if name.endswith(".gif")}
    complete = {f"{stem}{suffix}" for stem in finished for suffix in (".gif", ".png")}
    assert set(left) == {"notes.txt", *complete}
    for stem in finished:  # an algorithm that ended before the signal: complete
        with Image.open(out / f"{stem}.gif") as gif:
            assert gif.n_frames > 1
    assert workers
    deadline = time.monotonic() + 10  # multiprocessing's resource tracker ends on its own
    while [pid for pid in workers if running(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if running(pid)]


# --- two Ctrl-C -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_two_quick_ctrl_c_exit_130_and_leave_nothing(tmp_path, jobs):
    """Ctrl-C twice, 50 ms apart, to the process group while it draws (its workers too,
    with --jobs 2): the second cannot cut the clean-up short or kill the process."""
    (tmp_path / "out.gif").write_bytes(b"previous")
    process = start("render", "kmeans", "-o", "out.gif", "-q", "--jobs", jobs, cwd=tmp_path)
    wait_drawing(tmp_path, process)
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.05)
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:  # pragma: no cover - already gone: nothing to test twice
        pass
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGINT, err
    assert err.strip() == "mlviz: interrupted; nothing was written"
    assert every_file(tmp_path) == ["out.gif"]
    assert (tmp_path / "out.gif").read_bytes() == b"previous"


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)  # the handler runs here, if any runs


def test_a_ctrl_c_during_the_clean_up_of_another_is_ignored(capsys):
    """Deterministic: the second Ctrl-C lands in the ``finally`` of the first."""
    cleaned = []

    def command(registry, args) -> int:
        try:
            _ctrl_c()
            raise AssertionError("the first Ctrl-C did not stop the command")
        finally:
            _ctrl_c()  # the second one: ignored, the clean-up goes on
            cleaned.append(True)

    assert run_command(command, Namespace()) == 130
    assert cleaned == [True]
    assert capsys.readouterr().err == "\nmlviz: interrupted; nothing was written\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_a_ctrl_c_caught_on_purpose_leaves_the_next_one_working(capsys):
    """Ctrl-C that stops training (caught: the command goes on drawing) is no clean-up:
    the next Ctrl-C still interrupts."""
    reached = []

    def command(registry, args) -> int:
        try:
            _ctrl_c()
        except KeyboardInterrupt:
            reached.append("caught")
        _ctrl_c()
        reached.append("not interrupted")
        return 0

    assert run_command(command, Namespace()) == 130
    assert reached == ["caught"]


def test_a_ctrl_c_while_the_process_exits_does_not_kill_it(tmp_path):
    """Once stopped, the command line ignores Ctrl-C to its exit: a Ctrl-C arriving as it
    exits (here: from an exit handler) does not turn exit status 130 into death by SIGINT."""
    code = (
        "import atexit, os, signal, sys, time\n"
        "from argparse import Namespace\n"
        "from mlviz.failure import run_command\n"
        "def late():\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(0.2)\n"
        "atexit.register(late)\n"
        "def command(registry, args):\n"
        "    raise KeyboardInterrupt\n"
        "sys.exit(run_command(command, Namespace(), exiting=True))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "mlviz: interrupted; nothing was written"


def test_sigterm_during_the_clean_up_of_a_ctrl_c_is_ignored(capsys):
    def command(registry, args) -> int:
        try:
            _ctrl_c()
        finally:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)
        return 0

    assert run_command(command, Namespace()) == 130
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_stop_signal_python_could_not_raise_is_raised_at_the_next_frame(monkeypatch):
    """A gallery worker's SIGTERM that lands in a weakref callback of an import is
    "ignored" by Python: it is not printed as a traceback but raised at the next frame."""
    import types

    from mlviz import gallery
    from mlviz.errors import Terminated

    monkeypatch.setattr(gallery, "_PENDING", [])
    monkeypatch.setitem(gallery._WORKER, "rendering", True)
    written = []
    tee = gallery._Tee([types.SimpleNamespace(write=written.append)])
    tee.write(1)
    printed = []
    monkeypatch.setattr(sys, "__unraisablehook__", printed.append)
    gallery._unraisable(types.SimpleNamespace(exc_value=Terminated(signal.SIGTERM)))
    assert printed == []  # not shown: kept for the next frame
    with pytest.raises(Terminated) as stopped:
        tee.write(2)
    assert stopped.value.signum == signal.SIGTERM and written == [1]
    other = types.SimpleNamespace(exc_value=ValueError("a real problem"))
    gallery._unraisable(other)
    assert printed == [other]  # anything else is shown as Python shows it
