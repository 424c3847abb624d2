"""Reliability, adversarially: full disks, signals, broken plugins, extreme options and data.

mlviz promises: bad input gets one error line, a non-zero exit, no traceback; nothing is
half-written and an existing output is left untouched; a broken plugin costs one warning.

Real processes and real signals where it matters: renders run as ``python -m mlviz.cli``
subprocesses, stopped with SIGTERM, SIGHUP or SIGKILL once their temporary file exists. A
full disk is a real tmpfs filled to the brim when this machine lets the test mount one (it
must run as root); otherwise those tests are skipped, and the ``injected`` tests (which
always run) fake ENOSPC: ``os.fsync`` failing, and an "ffmpeg" that exits with an error.
Broken plugins are throwaway distributions written into a temporary site folder.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlviz import Config, ConfigError, DataError, read_csv
from mlviz.cli import main
from mlviz.limits import MAX_SEED, check_frame_size
from mlviz.writers import open_writer

HINT = "(set MLVIZ_TRACEBACK=1 or pass --traceback to see where)"
QUICK_KMEANS = ("--set", "k_max=2", "--set", "max_iter=2")


def cli(*args: str, cwd: Path, env: dict | None = None, **popen) -> subprocess.Popen:
    """Start ``python -m mlviz.cli ARGS`` (stdout and stderr piped, text)."""
    full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen([sys.executable, "-m", "mlviz.cli", *args], cwd=cwd, env=full_env,
                            stdin=subprocess.DEVNULL, text=True, **options)


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out or "", err or ""


def the_error(stderr: str) -> str:
    """The single error line of ``stderr`` (warnings aside); fails on anything else."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines()
             if line.strip() and not line.startswith("mlviz: warning:")]
    assert len(lines) == 1, stderr
    return lines[0]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def wait_for_part(folder: Path, stem: str, process: subprocess.Popen,
                  timeout: float = 90) -> Path:
    """The temporary file of the render writing ``folder/stem.*``, once it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts = list(folder.glob(f".{stem}.mlviz-{process.pid}-*.part.*"))
        if parts:
            return parts[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    raise AssertionError(f"no temporary file for {stem} after {timeout} s")


# Full disk ---------------------------------------------------------------------------------

@pytest.fixture
def full_disk(tmp_path):
    """A real, tiny tmpfs (skipped where it cannot be mounted); fill it with ``fill()``."""
    folder = tmp_path / "full"
    folder.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root: see the injected full-disk tests instead")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): see the injected "
                    "full-disk tests instead")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> None:
    """Write into ``folder`` until its file system is full."""
    with open(folder / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"x" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


@pytest.mark.parametrize("suffix", [".mp4", ".gif", ".png"])
def test_full_disk_tmpfs_fails_in_one_line_and_keeps_the_old_file(full_disk, capsys, suffix):
    target = full_disk / f"out{suffix}"
    target.write_bytes(b"previous")
    fill(full_disk)
    status = main(["render", "kmeans", *QUICK_KMEANS, "--dpi", "50", "-o", str(target)])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    line = the_error(err)
    assert line.startswith(f"mlviz: error: cannot write {target}: ")
    assert "No space left on device" in line and line.endswith("the existing file is unchanged")
    assert target.read_bytes() == b"previous"
    assert listing(full_disk) == ["filler", target.name]


def frames(n: int = 3) -> list[np.ndarray]:
    out = []
    for i in range(n):
        frame = np.full((48, 64, 3), 255, np.uint8)
        frame[10:20, 4 * i: 4 * i + 10] = (200, 30, 30)
        out.append(frame)
    return out


@pytest.mark.parametrize("suffix", [".gif", ".mp4", ".png"])
def test_full_disk_injected_at_fsync_keeps_the_old_file(tmp_path, monkeypatch, suffix):
    """ENOSPC as delayed-allocation file systems report it: when the data is flushed."""

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"previous")
    monkeypatch.setattr(os, "fsync", no_space)
    writer = open_writer(target, fps=5)
    for frame in frames():
        writer.write(frame)
    with pytest.raises(OSError, match="cannot write .*No space left on device; the existing "
                                      "file is unchanged"):
        writer.close()
    assert target.read_bytes() == b"previous" and listing(tmp_path) == [target.name]


def test_a_failing_ffmpeg_fails_the_mp4_and_keeps_the_old_file(tmp_path, monkeypatch):
    """The encoder's exit status is checked: an "ffmpeg" that reads everything, then fails
    the way a full disk makes it fail, must not replace the old video."""
    import imageio_ffmpeg

    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\ncat > /dev/null\n"
                    "echo '[out#0/mp4 @ 0x5] Error writing trailer: No space left on device' >&2\n"
                    "echo '[out#0/mp4 @ 0x5] Nothing was written into output file' >&2\n"
                    "exit 228\n")
    fake.chmod(0o755)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(fake))
    target = tmp_path / "out.mp4"
    target.write_bytes(b"previous")
    writer = open_writer(target, fps=5)
    for frame in frames():
        writer.write(frame)
    with pytest.raises(OSError) as failure:
        writer.close()
    assert str(failure.value) == (f"cannot write {target}: ffmpeg failed (exit status 228): No "
                                  "space left on device; the existing file is unchanged")
    assert target.read_bytes() == b"previous" and listing(tmp_path) == ["bin", "out.mp4"]


# Signals -----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("signum, suffix", [(signal.SIGTERM, ".gif"), (signal.SIGHUP, ".mp4")])
def test_sigterm_and_sighup_clean_up_like_ctrl_c(tmp_path, signum, suffix):
    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"previous")
    process = cli("render", "kmeans", "-o", target.name, "-q", cwd=tmp_path)
    wait_for_part(tmp_path, "out", process)
    process.send_signal(signum)
    status, out, err = finish(process)
    assert status == 128 + signum, err
    name = signal.Signals(signum).name
    assert the_error(err) == f"mlviz: stopped by {name}; nothing was written"
    assert target.read_bytes() == b"previous" and listing(tmp_path) == [target.name]


def test_an_interrupt_between_opening_a_writer_and_using_it_leaves_nothing(tmp_path):
    """A signal can land after the temporary file exists but before the ``with`` block."""
    code = ("from mlviz.writers import open_writer\n"
            "writer = open_writer('out.gif')\n"
            "raise KeyboardInterrupt\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "KeyboardInterrupt" in result.stderr
    assert listing(tmp_path) == []


@pytest.mark.slow
def test_sigkill_leftovers_go_with_the_next_render_but_a_live_render_is_never_touched(tmp_path):
    """A SIGKILLed render leaves its temporary file; the next render in the folder removes
    it (and one of a dead process), but not the file of a render that is still running
    (here: stopped with SIGSTOP), nor one named after a live process, nor other files."""
    live = cli("render", "kmeans", *QUICK_KMEANS, "-o", "live.gif", "-q", cwd=tmp_path)
    live_part = wait_for_part(tmp_path, "live", live)
    live.send_signal(signal.SIGSTOP)
    try:
        assert live_part.exists()
        killed = cli("render", "kmeans", *QUICK_KMEANS, "-o", "killed.mp4", "-q", cwd=tmp_path)
        killed_part = wait_for_part(tmp_path, "killed", killed)
        killed.kill()
        assert finish(killed)[0] == -signal.SIGKILL
        assert killed_part.exists()
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        dead = tmp_path / f".dead.mlviz-{gone.pid}-0123abcd.part.gif"
        alive = tmp_path / f".alive.mlviz-{live.pid}-0123abcd.part.gif"  # unlocked, owner alive
        other = tmp_path / ".other.part.gif"
        for path in (dead, alive, other):
            path.write_bytes(b"x")
        with open_writer(tmp_path / "next.png") as writer:  # the next render's writer
            writer.write(frames(1)[0])
        assert not killed_part.exists() and not dead.exists()
        assert live_part.exists() and alive.exists() and other.exists()
    finally:
        live.send_signal(signal.SIGCONT)
    status, _, err = finish(live)
    assert status == 0, err
    with Image.open(tmp_path / "live.gif") as gif:
        assert gif.n_frames >= 2
    assert listing(tmp_path) == sorted([alive.name, other.name, "live.gif", "next.png"])


# Plugins -----------------------------------------------------------------------------------

FLAKY = '''
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlviz import Algorithm, Config, Dataset, Panel, Scene, Snapshot, hookimpl, param
from mlviz.panels import LossCurvePanel


@dataclass(frozen=True)
class FlakyConfig(Config):
    steps: int = param(4, "epochs", min=1)


class FlakyTrainer:
    mode = "fine"

    def __init__(self, config):
        self.config = config

    def run(self, dataset):
        for epoch in range(self.config.steps):
            if epoch == 2 and self.mode == "raise":
                raise ValueError("boom")
            if epoch == 2 and self.mode == "exit":
                sys.exit(3)
            if epoch == 2 and self.mode == "dict":
                yield {"epoch": epoch}
            if self.mode == "nothing":
                return
            if epoch == 2 and self.mode == "slow":
                Path("training.marker").touch()
                time.sleep(60)
            yield Snapshot(epoch=epoch, loss=1.0 / (epoch + 1))


def trainer(mode):
    return type(f"{mode.title()}Trainer", (FlakyTrainer,), {"mode": mode})


class BrokenPanel(Panel):
    """Raises in update."""

    name = "flaky-broken"

    def setup(self, ax, run):
        self.line, = ax.plot([0, 1], [0, 1])

    def update(self, snapshot):
        raise RuntimeError("panel broke")


def data(config):
    return Dataset(np.zeros((3, 1)))


def bad_data(config):
    return 1 / 0


def scene(config):
    return Scene([LossCurvePanel()])


def bad_scene(config):
    raise KeyError("no scene")


def flaky(name, mode="fine", dataset=data, scene=scene):
    return Algorithm(name=name, summary=f"fails: {name}", config=FlakyConfig,
                     trainer=trainer(mode), dataset=dataset, scene=scene)


@hookimpl
def mlviz_algorithms():
    return [flaky("flaky-raise", "raise"), flaky("flaky-exit", "exit"),
            flaky("flaky-dict", "dict"), flaky("flaky-nothing", "nothing"),
            flaky("flaky-slow", "slow"), flaky("flaky-panel", scene=lambda c: Scene([BrokenPanel()])),
            flaky("flaky-scene", scene=bad_scene), flaky("flaky-dataset", dataset=bad_data)]


@hookimpl
def mlviz_panels():
    return [BrokenPanel]
'''

ESCAPES = '''
import dataclasses
from mlviz import Algorithm, Config, Scene, hookimpl
from mlviz.panels import LossCurvePanel


def algorithm(name, summary):
    return Algorithm(name=name, summary=summary, config=Config, trainer=None,
                     dataset=None, scene=lambda c: Scene([LossCurvePanel()]))


@hookimpl
def mlviz_algorithms():
    sneaky = algorithm("sneaky", "ok")
    object.__setattr__(sneaky, "name", "../x")  # past Algorithm's own check
    return [algorithm("escapes", "\\x1b[31mred\\x1b[0m \\x1b]0;pwned\\x07summary\\nforged: line"),
            sneaky]
'''

#: Throwaway distributions: (distribution, entry point, module source).
DISTRIBUTIONS = {
    "mlviz-flaky": ("flaky", FLAKY),
    "mlviz-exits": ("exits", "import sys\nsys.exit(3)\n"),
    "mlviz-multiline": ("multiline", "raise ImportError('first line\\nsecond line')\n"),
    "mlviz-escapes": ("escapes", ESCAPES),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A site folder holding the throwaway distributions (modules ``rel_<name>_plugin``)."""
    folder = tmp_path_factory.mktemp("site")
    for dist, (entry, source) in DISTRIBUTIONS.items():
        module = f"rel_{entry}_plugin"
        (folder / f"{module}.py").write_text(textwrap.dedent(source))
        info = folder / f"{dist.replace('-', '_')}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[mlviz]\n{entry} = {module}\n")
    return folder


@pytest.fixture
def with_site(site, monkeypatch, tmp_path):
    """The throwaway plugins installed for in-process ``main()``; cwd: an empty folder."""
    monkeypatch.syspath_prepend(str(site))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_broken_plugins_cost_one_warning_line_each(site, tmp_path):
    status, out, err = finish(cli("list", cwd=tmp_path, env={"PYTHONPATH": str(site)}))
    assert status == 0, err
    warnings = err.splitlines()
    assert warnings == [
        "mlviz: warning: plugin exits (mlviz-exits 0.1) failed to import: SystemExit: 3",
        "mlviz: warning: plugin multiline (mlviz-multiline 0.1) failed to import: ImportError: "
        "first line second line",
        "mlviz: warning: plugin escapes (mlviz-escapes 0.1) registers the invalid algorithm "
        "name '../x' (lowercase letters, digits and '-' only); ignored",
    ]
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert "kmeans" in names and "escapes" in names and "flaky-raise" in names
    assert not any(".." in name or "/" in name for name in names)
    line = next(line for line in out.splitlines() if line.startswith("escapes "))
    assert "red summary forged: line  [escapes (mlviz-escapes 0.1)]" in line
    assert all(char.isprintable() for char in out.replace("\n", ""))
    assert listing(tmp_path) == []


@pytest.mark.slow
def test_sigterm_while_training_stops_where_ctrl_c_would_draw_what_was_trained(site, tmp_path):
    process = cli("render", "flaky-slow", "-o", "out.gif", cwd=tmp_path,
                  env={"PYTHONPATH": str(site)})
    deadline = time.monotonic() + 60
    while not (tmp_path / "training.marker").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    status, _, err = finish(process, timeout=30)
    assert status == 128 + signal.SIGTERM
    assert the_error(err) == "mlviz: stopped by SIGTERM; nothing was written"
    assert listing(tmp_path) == ["training.marker"]


def test_plugin_text_in_the_gallery_page_is_sanitized(with_site):
    from concurrent.futures import Future

    from mlviz import load_registry
    from mlviz.gallery import Job, _outcome, render_index
    from mlviz.registry import PluginWarning

    with pytest.warns(PluginWarning) as caught:  # Python users see each warning too
        registry = load_registry()
    shown = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert shown == registry.warnings  # (other warnings, e.g. a ResourceWarning, aside)
    assert registry.algorithms["escapes"].summary == "red summary forged: line"
    failed = Future()
    failed.set_exception(RuntimeError("\x1b[2Jwiped\nforged line"))
    entry = _outcome(failed, Job("escapes", "escapes"), registry, with_site)
    assert entry.error == "RuntimeError: wiped forged line"
    page = render_index([entry], registry.warnings, 1.0)
    assert "wiped forged line" in page and "\x1b" not in page and "\x07" not in page


RUNTIME_FAILURES = [
    ("flaky-raise", "its trainer: ValueError: boom"),
    ("flaky-exit", "its trainer: SystemExit: 3"),
    ("flaky-dict", "its trainer: ContractError: the trainer yielded a dict, not a Snapshot"),
    ("flaky-nothing", "its trainer: ContractError: the trainer yielded no snapshot"),
    ("flaky-panel", "its panel flaky-broken: RuntimeError: panel broke"),
    ("flaky-scene", "its scene: KeyError: 'no scene'"),
    ("flaky-dataset", "its dataset: ZeroDivisionError: division by zero"),
]


@pytest.mark.parametrize("name, failure", RUNTIME_FAILURES)
@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_a_plugin_failing_at_run_time_is_one_line_naming_it(with_site, capsys, name, failure,
                                                             suffix):
    status = main(["render", name, "-o", f"out{suffix}", "-q"])
    err = capsys.readouterr().err
    assert status == 1
    assert the_error(err) == f"mlviz: error: plugin flaky (mlviz-flaky 0.1) failed in {failure} {HINT}"
    assert listing(with_site) == []


def test_a_scene_failing_in_info_is_one_line_naming_the_plugin(with_site, capsys):
    assert main(["info", "flaky-scene"]) == 1
    assert the_error(capsys.readouterr().err) == (
        f"mlviz: error: plugin flaky (mlviz-flaky 0.1) failed in its scene: KeyError: 'no scene' "
        f"{HINT}")


TRAINER_BOOM = ("mlviz: error: plugin flaky (mlviz-flaky 0.1) failed in its trainer: "
                f"ValueError: boom {HINT}")


def test_a_real_process_shows_the_traceback_on_request(site, tmp_path):
    status, _, err = finish(cli("--traceback", "render", "flaky-raise", "-o", "a.gif",
                                cwd=tmp_path, env={"PYTHONPATH": str(site)}))
    assert status == 1 and "Traceback (most recent call last):" in err
    assert 'rel_flaky_plugin.py", line' in err and 'raise ValueError("boom")' in err
    assert err.splitlines()[-1] == TRAINER_BOOM
    assert listing(tmp_path) == []


def test_the_traceback_variable_shows_it_too(with_site, capsys, monkeypatch):
    monkeypatch.setenv("MLVIZ_TRACEBACK", "1")
    assert main(["render", "flaky-raise", "-o", "a.gif"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last):" in err and "ValueError: boom" in err
    assert err.splitlines()[-1] == TRAINER_BOOM


def test_a_bug_in_mlviz_itself_is_one_line_too(with_site, capsys, monkeypatch):
    import mlviz.cli

    def broken(registry):
        raise RuntimeError("oops")

    monkeypatch.setattr(mlviz.cli, "_list", broken)
    assert main(["list"]) == 1
    assert the_error(capsys.readouterr().err) == (
        f"mlviz: error: internal error: RuntimeError: oops; this is a bug in mlviz {HINT}")


def test_a_closed_pipe_ends_info_quietly(tmp_path):
    """``mlviz info kmeans | head -1``, with the reader gone before mlviz writes."""
    read, write = os.pipe()
    os.close(read)
    try:
        process = cli("info", "kmeans", cwd=tmp_path, stdout=write)
    finally:
        os.close(write)
    status, _, err = finish(process)
    assert status == 128 + signal.SIGPIPE
    assert err == ""


# Bounds ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--dpi", "100000"], "dpi 100000 is out of range: use 10 to 800"),
    (["--dpi", "5000", "-o", "big.png"], "dpi 5000 is out of range: use 10 to 800"),
    (["--dpi", "1e-6"], "dpi 1e-06 is out of range: use 10 to 800"),
    (["--dpi", "0.5"], "dpi 0.5 is out of range: use 10 to 800"),
    (["--fps", "0.001"], "fps 0.001 is out of range for GIF: GIF frames last whole hundredths "
                         "of a second, so use 0.002 to 50 fps"),
    (["--fps", "60"], "fps 60 is out of range for GIF"),
    (["--fps", "1000", "-o", "fast.mp4"], "fps 1000 is out of range for MP4: use 0.01 to 240"),
    (["--set", "seed=18446744073709551616"], "seed=18446744073709551616 is out of range: "
                                             "must be ≤ 4294967295"),
    (["--set", "n_points=100000"], "n_points=100000 is out of range: must be ≤ 5000"),
    (["-o", "n" * 252 + ".png"], "output file name is 256 bytes long; this folder allows at "
                                 "most 255"),
])
def test_out_of_bounds_options_are_refused_up_front(tmp_path, monkeypatch, capsys, args,
                                                    message):
    monkeypatch.chdir(tmp_path)
    assert main(["render", "kmeans", *args]) == 2
    line = the_error(capsys.readouterr().err)
    assert line.startswith(f"mlviz: error: {message}")
    assert listing(tmp_path) == []


def test_a_seed_too_large_for_torch_is_an_argument_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["render", "parabola", "--seed", "18446744073709551616"])
    assert stop.value.code == 2
    assert the_error(capsys.readouterr().err) == (
        "mlviz render: error: argument --seed: must be at most 4294967295, got "
        "18446744073709551616 (see 'mlviz render --help')")


@pytest.mark.slow
def test_the_largest_seed_works_in_numpy_and_torch():
    torch = pytest.importorskip("torch")
    assert Config(seed=MAX_SEED).seed == MAX_SEED
    with pytest.raises(ConfigError, match="seed=4294967296 is out of range"):
        Config(seed=MAX_SEED + 1)
    np.random.default_rng(MAX_SEED + 1)  # a trainer may add one (perceptron does)
    np.random.RandomState(MAX_SEED)
    torch.Generator().manual_seed(MAX_SEED)
    torch.manual_seed(0)


def test_frame_size_is_checked_for_the_scene_actually_drawn():
    assert check_frame_size((9.6, 5.4), 800) == (7680, 4320)
    with pytest.raises(ValueError, match=r"dpi 800 gives 10240x5760 frames .* at most 8192 "
                                         r"pixels a side and 40 Mpx a frame: use dpi 640 or less"):
        check_frame_size((12.8, 7.2), 800)
    with pytest.raises(ValueError, match="use dpi 527 or less"):
        check_frame_size((12.0, 12.0), 600)  # within 8192 a side, but 51.8 Mpx


@pytest.mark.parametrize("fps, duration", [(50, 20), (30, 30), (4, 250), (0.002, 500_000)])
def test_gif_frame_rates_are_kept_not_capped(tmp_path, fps, duration):
    path = tmp_path / "rate.gif"
    with open_writer(path, fps=fps) as writer:
        for frame in frames(2):
            writer.write(frame)
    with Image.open(path) as gif:
        assert gif.info["duration"] == duration


def test_the_longest_file_name_renders(tmp_path, monkeypatch, capsys):
    """251 characters is fine: the temporary name is shortened, not the output's."""
    monkeypatch.chdir(tmp_path)
    name = "n" * 247 + ".png"
    assert main(["render", "kmeans", *QUICK_KMEANS, "-o", name, "-q"]) == 0, \
        capsys.readouterr().err
    assert listing(tmp_path) == [name]


# Data --------------------------------------------------------------------------------------

EXTREME = [
    ("kmeans", "1e308,2\n-1e308,3\n" + "1,1\n" * 20, "1e+308 is too large"),
    ("pca", "x,y,z\n1,2,3\n1e308,-1e308,1\n4,5,6\n", "line 3: 1e+308 is too large"),
    ("logistic-regression", "1,2,0\n-1e308,1e308,1\n", "line 2: -1e+308 is too large"),
    ("linear-regression", "1,2\n1e308,3\n", "line 2: 1e+308 is too large"),
    ("linear-regression", "1e-308,1e-308\n2e-308,3e-308\n", "line 1: 1e-308 is too small"),
]


@pytest.mark.parametrize("algorithm, content, message", EXTREME)
def test_numerically_extreme_data_is_refused_in_one_line(tmp_path, monkeypatch, capsys,
                                                         algorithm, content, message):
    monkeypatch.chdir(tmp_path)
    Path("extreme.csv").write_text(content)
    assert main(["render", algorithm, "--data", "extreme.csv", "--set", "seed=1"]) == 2
    line = the_error(capsys.readouterr().err)
    assert line.startswith("mlviz: error: extreme.csv, line ") and message in line
    assert line.endswith("to compute with (|values| must be at most 1e+50); rescale the data") \
        or line.endswith("(|values| must be 0 or at least 1e-50); rescale the data")
    assert listing(tmp_path) == ["extreme.csv"]


def test_read_csv_parses_exactly_and_names_the_file_line(tmp_path):
    values = np.random.default_rng(0).normal(size=(300, 3)) * 10.0 ** np.arange(-3, 3 * 3, 4)
    rows = "\n".join(",".join(repr(float(v)) for v in row) for row in values)
    path = tmp_path / "exact.csv"
    path.write_text("a,b,c\n\n" + rows.replace("\n", "\n\n", 1) + "\n")
    parsed, names = read_csv(path, columns=3)
    assert names == ("a", "b", "c") and np.array_equal(parsed, values)
    path.write_text("x,y\n\n1,2\n  \n3,oops\n")
    with pytest.raises(DataError, match=r"line 5: 'oops' is not a number"):
        read_csv(path)
    path.write_text("x,y\n1,2\n\n3,4,5\n")
    with pytest.raises(DataError, match=r"line 4: 3 values; expected 2"):
        read_csv(path)
    path.write_text("x,y\n" + "1,2\n" * 11)
    with pytest.raises(DataError, match="has 11 data rows; mlviz reads at most 10"):
        read_csv(path, max_rows=10)


def test_a_large_data_file_is_evenly_sampled_to_the_drawn_maximum(tmp_path, monkeypatch,
                                                                  capsys):
    monkeypatch.chdir(tmp_path)
    points = np.random.default_rng(1).normal(size=(20_000, 3)) * (3.0, 1.0, 0.2)
    np.savetxt("many.csv", points, delimiter=",", header="a,b,c", comments="", fmt="%.6g")
    assert main(["render", "pca", "--data", "many.csv", "-o", "poster.png", "-q"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "mlviz: warning: many.csv has 20,000 rows; pca draws at most 5,000 points, so an "
        "even sample of them is used"]
    assert listing(tmp_path) == ["many.csv", "poster.png"]


@pytest.mark.slow
def test_a_million_row_file_renders_a_poster_quickly(tmp_path, monkeypatch, capsys):
    """The issue's case: 1,000,000 rows took pca 197 s and 4.9 GB for one poster."""
    monkeypatch.chdir(tmp_path)
    line = np.random.default_rng(2).normal(size=(1000, 3)).round(3)
    text = "\n".join(",".join(map(str, row)) for row in line) + "\n"
    Path("million.csv").write_text("a,b,c\n" + text * 1000)
    start = time.perf_counter()
    assert main(["render", "pca", "--data", "million.csv", "-o", "poster.png", "-q"]) == 0
    assert time.perf_counter() - start < 40
    assert "1,000,000 rows; pca draws at most 5,000" in capsys.readouterr().err


def test_a_step_marked_as_consuming_a_plugin_blames_the_plugin():
    """A failure in a function marked with ``plugin_step`` (no plugin frame in the
    traceback) names the algorithm's plugin and the part, whatever the function is called."""
    from dataclasses import replace

    from mlviz import Algorithm, Config, Scene
    from mlviz.errors import plugin_step
    from mlviz.failure import blame, describe
    from mlviz.panels import LossCurvePanel
    from mlviz.registry import Registry

    algorithm = replace(Algorithm(name="toy", summary="s", config=Config, trainer=lambda c: None,
                                  dataset=lambda c: None, scene=lambda c: Scene([LossCurvePanel()])),
                        plugin="toy (toy-dist 1.0)")

    @plugin_step("trainer")
    def consume_snapshots(items):
        return [item.epoch for item in items]  # a trainer that yielded ints

    def unmarked(items):
        return [item.epoch for item in items]

    for function, expected in ((consume_snapshots, ("toy (toy-dist 1.0)", "trainer")),
                               (unmarked, None)):
        try:
            function([1, 2])
        except AttributeError as exc:
            assert blame(exc, Registry(), algorithm) == expected
            if expected:
                assert describe(exc, Registry(), algorithm)[0].startswith(
                    "plugin toy (toy-dist 1.0) failed in its trainer: AttributeError")
