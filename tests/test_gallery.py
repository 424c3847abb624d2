"""``mlviz gallery``: planning, the page, failures, atomic outputs, and the page in Chromium."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlviz import ConfigError, MlvizError, load_registry
from mlviz.gallery import (
    PLAYER_STYLE,
    Entry,
    Job,
    _previous_seconds,
    load_entries,
    parse_formats,
    plan_jobs,
    render_embed,
    render_index,
)
from mlviz.writers import DEFAULT_HOLD

REPO = Path(__file__).resolve().parents[1]

# A third-party plugin whose animation breaks on its third frame: the gallery must report
# it and still render the rest, and must leave no partial file behind.
BROKEN_PLUGIN = '''
from dataclasses import dataclass

import numpy as np

from mlviz import Algorithm, Config, Dataset, Panel, Scene, Snapshot, hookimpl


@dataclass(frozen=True)
class BrokenConfig(Config):
    pass


class BrokenTrainer:
    def __init__(self, config):
        self.config = config

    def run(self, dataset):
        for epoch in range(5):
            yield Snapshot(epoch=epoch, loss=1.0 / (epoch + 1))


class ExplodingPanel(Panel):
    name = "exploding"

    def setup(self, ax, run):
        (self.line,) = ax.plot([], [])

    def update(self, snapshot):
        if snapshot.epoch == 2:
            raise RuntimeError("panel exploded at epoch 2")
        self.line.set_data([0, snapshot.epoch], [0, snapshot.loss])
        return [self.line]


@hookimpl
def mlviz_algorithms():
    return [Algorithm(
        name="broken-demo", summary="fails on its third frame <on purpose>",
        config=BrokenConfig, trainer=BrokenTrainer,
        dataset=lambda config: Dataset(np.zeros((3, 1))),
        scene=lambda config: Scene([ExplodingPanel()]),
    )]
'''


def install_broken_plugin(site: Path) -> None:
    """A minimal installed distribution: a module plus dist-info with an entry point."""
    (site / "broken_demo.py").write_text(BROKEN_PLUGIN)
    info = site / "broken_demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-demo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[mlviz]\nbroken-demo = broken_demo\n")


def run_mlviz(*args: str, cwd: Path, pythonpath: Path | None = None, timeout: float = 180):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath),
                                                          env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "mlviz.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One small gallery: kmeans (3 clusters, 6 frames, GIF, MP4 and WebP) and the broken
    plugin."""
    root = tmp_path_factory.mktemp("gallery")
    site = root / "site"
    site.mkdir()
    install_broken_plugin(site)
    out = root / "out"
    result = run_mlviz("gallery", str(out), "--only", "kmeans", "broken-demo", "--frames", "6",
                       "--set", "kmeans:k_max=3", "--formats", "gif,mp4,WebP", cwd=root,
                       pythonpath=site)
    return root, out, result


# --- planning and the page (no rendering) ------------------------------------------------

def test_plan_validates_names_and_settings_before_rendering():
    registry = load_registry()
    with pytest.raises(MlvizError, match="Did you mean 'kmeans'"):
        plan_jobs(registry, only=["kmean"])
    with pytest.raises(MlvizError, match="NAME:KEY=VALUE"):
        plan_jobs(registry, settings=["k_max=3"])
    with pytest.raises(ConfigError, match="k_max"):
        plan_jobs(registry, settings=["kmeans:k_max=99"])
    with pytest.raises(ConfigError, match="unknown hyperparameter"):
        plan_jobs(registry, settings=["kmeans:colour=red"])
    jobs = plan_jobs(registry, only=["kmeans"], settings=["kmeans:init=random"], frames=9)
    assert [(j.name, j.settings, j.frames) for j in jobs] == [("kmeans", ("init=random",), 9)]


def test_plan_covers_every_registered_algorithm_in_registry_order():
    registry = load_registry()
    assert [j.name for j in plan_jobs(registry)] == [
        name for name, algorithm in registry.algorithms.items() if not algorithm.record_only]


def test_command_is_a_shell_command_line():
    job = Job("my-algo", "my-algo", ("title=two words",), 12)
    assert job.command == "mlviz render my-algo -o my-algo.gif --frames 12 --set 'title=two words'"
    assert Job("a", "a", formats=(".webp", ".gif")).command == "mlviz render a -o a.webp"


def test_formats_are_registered_animation_writers():
    registry = load_registry()
    assert parse_formats("webp, GIF,.mp4,png,webp", registry) == (".webp", ".gif", ".mp4")
    assert parse_formats([".apng"], registry) == (".apng",)
    with pytest.raises(MlvizError, match=r"unknown gallery format 'avi': use one or more of "
                                         r"apng, gif, .*mp4, webp"):
        parse_formats("gif,avi", registry)
    with pytest.raises(MlvizError, match="at least one animation format"):
        parse_formats("png", registry)
    jobs = plan_jobs(registry, only=["pca"], formats="mp4,webp")
    assert jobs[0].formats == (".mp4", ".webp")


def test_cards_play_the_first_format_and_embed_under_a_prefix():
    entry = Entry("a", "s", "a (dist 1.0)", "mlviz render a -o a.webp", "a", seconds=1,
                  frames=3, bytes={".webp": 3000, ".mp4": 2000, ".png": 1000})
    page = render_index([entry], [], 1.0)
    assert 'data-anim="a.webp"' in page and 'data-poster="a.png"' in page
    # The play control follows the poster inside the button (a bar under it, not over it).
    assert re.search(r'<button class="player"[^>]*>\s*<img [^>]*>\s*'
                     r'<span class="play" aria-hidden="true"></span>\s*</button>', page)
    assert "position: absolute" not in PLAYER_STYLE
    assert '<a href="a.mp4">MP4</a> 2 KB' in page


def test_the_gallery_embeds_in_another_page(built, tmp_path):
    _, out, _ = built
    assert render_embed(tmp_path, "gallery/") is None  # nothing built there
    fragment = render_embed(out, "gallery/")
    assert 'data-anim="gallery/kmeans.gif"' in fragment
    assert 'src="gallery/kmeans.png"' in fragment and 'href="gallery/kmeans.webp"' in fragment
    assert "panel exploded at epoch 2" in fragment  # failures are shown there too
    assert fragment.startswith("<style>") and fragment.rstrip().endswith("</script>")
    entries = load_entries(out)
    assert [e.name for e in entries] == ["kmeans", "broken-demo"]
    assert list(entries[0].bytes) == [".gif", ".mp4", ".webp", ".png"]


def test_page_escapes_text_and_shows_failures():
    ok = Entry("a", "x < y & z", "a (dist 1.0)", "mlviz render a -o a.gif", "a",
               seconds=1.25, frames=7, bytes={".gif": 2048, ".mp4": 1024, ".png": 512})
    bad = Entry("b", "breaks", "b (dist 1.0)", "mlviz render b -o b.gif", "b",
                error="RuntimeError: <boom>", details="Traceback ...")
    page = render_index([ok, bad], ["plugin c failed to import: <oops>"], 3.0)
    assert "x &lt; y &amp; z" in page and "<boom>" not in page and "&lt;boom&gt;" in page
    assert 'src="a.png"' in page and 'data-anim="a.gif"' in page
    assert "rendered in 1.2 s · 7 frames" in page
    assert 'class="card failed" id="b"' in page and 'src="b.png"' not in page
    assert "plugin c failed to import: &lt;oops&gt;" in page
    assert "1 algorithm rendered in 3.0 s, 1 failed" in page


def test_the_summary_counts_what_was_rendered_cached_and_failed():
    from mlviz.gallery_page import summary_text

    def entry(name, cached=False, error=None):
        return Entry(name, "s", "p", "c", name, seconds=9.0, frames=3, bytes={".gif": 1},
                     cached=cached, error=error)

    cached = [entry(f"a{i}", cached=True) for i in range(12)]
    assert summary_text(cached, 0.2) == "12 algorithms up to date (cached), nothing rendered"
    assert summary_text(cached[:1], 0.2) == "1 algorithm up to date (cached), nothing rendered"
    assert summary_text([entry("b"), *cached[:2]], 4.4) == \
        "1 algorithm rendered in 4.4 s, 2 up to date (cached)"
    assert summary_text([entry("b"), entry("c")], 61.0) == "2 algorithms rendered in 61 s"
    assert summary_text([entry("f", error="E: x"), *cached[:3]], 0.1) == \
        "3 algorithms up to date (cached), nothing rendered, 1 failed"
    assert summary_text([entry("f", error="E: x")], 5.0) == "nothing rendered, 1 failed"
    page = render_index(cached, [], 0.2)
    assert "12 algorithms up to date (cached), nothing rendered" in page
    assert "rendered in 0 s" not in page


def test_gallery_help_does_not_import_matplotlib():
    code = ("import sys\nfrom mlviz.cli import main\ntry:\n    main(['gallery', '--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('matplotlib', 'torch')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert "OUTDIR" in result.stdout and "--only" in result.stdout
    assert result.stdout.strip().endswith("[]")


def test_bad_gallery_arguments_fail_in_one_line(tmp_path):
    result = run_mlviz("gallery", str(tmp_path / "out"), "--only", "no-such-thing",
                       cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("mlviz: error: unknown algorithm")
    assert not (tmp_path / "out").exists()
    (tmp_path / "file").write_text("")
    result = run_mlviz("gallery", str(tmp_path / "file"), "--only", "kmeans", cwd=tmp_path)
    assert result.returncode == 2 and "not a folder" in result.stderr


# --- one real gallery build ---------------------------------------------------------------

def test_failure_is_reported_and_the_rest_renders(built):
    _, out, result = built
    assert result.returncode == 1, result.stderr
    assert "rendering 2 algorithms with 2 worker processes" in result.stderr
    assert re.search(r"\] kmeans: [\d.]+ s, 6 frames \(gif .*, mp4 .*, webp .*, png .*\)",
                     result.stderr)
    assert "] broken-demo: FAILED: RuntimeError: panel exploded at epoch 2" in result.stderr
    assert re.search(r"gallery: wrote .*index\.html: 1 algorithm rendered in [\d.]+ s, 1 failed\n",
                     result.stderr)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["gallery.json", "index.html", "kmeans.gif", "kmeans.mp4",
                     "kmeans.png", "kmeans.webp"]  # nothing partial
    page = (out / "index.html").read_text()
    assert 'class="card failed" id="broken-demo"' in page
    assert "panel exploded at epoch 2" in page and "traceback" in page
    assert "fails on its third frame &lt;on purpose&gt;" in page


def test_gallery_json_records_every_entry(built):
    _, out, _ = built
    data = json.loads((out / "gallery.json").read_text())
    kmeans, broken = data["entries"]
    assert kmeans["name"] == "kmeans" and kmeans["error"] is None and kmeans["frames"] == 6
    assert kmeans["bytes"][".gif"] == (out / "kmeans.gif").stat().st_size
    assert broken["name"] == "broken-demo" and "panel exploded" in broken["error"]
    # the next build starts the slowest first: only successful times count
    assert _previous_seconds(out) == {"kmeans": kmeans["seconds"]}
    assert _previous_seconds(out / "nowhere") == {}


def test_outputs_are_complete_and_consistent(built):
    _, out, _ = built
    with Image.open(out / "kmeans.gif") as gif:
        assert gif.n_frames == 6 and gif.size == (1280, 720)
        gif.seek(5)
        assert gif.info["duration"] == 1000 * DEFAULT_HOLD  # the last frame is held
        last = np.asarray(gif.convert("RGB"), dtype=int)
    with Image.open(out / "kmeans.webp") as webp:
        assert webp.n_frames == 6
        webp.seek(5)
        assert np.array_equal(np.asarray(webp.convert("RGB")), last)  # the GIF's pixels
    with Image.open(out / "kmeans.png") as png:
        poster = np.asarray(png.convert("RGB"), dtype=int)
    assert np.abs(last - poster).mean() < 2  # the poster is the last frame (GIF: 256 colours)
    umask = os.umask(0o022)
    os.umask(umask)
    for path in out.iterdir():  # published as a web page: not private temporary-file modes
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path.name
    mp4 = (out / "kmeans.mp4").read_bytes()
    assert mp4[4:8] == b"ftyp" and len(mp4) > 10_000
    page = (out / "index.html").read_text()
    assert "<h2>kmeans</h2>" in page and "k-means clustering" in page
    assert re.search(r"rendered in [\d.]+ s · 6 frames", page)


def test_the_command_in_the_page_reproduces_the_animation(built):
    root, out, _ = built
    page = (out / "index.html").read_text()
    command = re.search(r'id="kmeans">.*?<code>(.*?)</code>', page, re.S).group(1)
    assert command == "mlviz render kmeans -o kmeans.gif --frames 6 --set k_max=3"
    again = root / "again"
    again.mkdir()
    result = run_mlviz(*command.split()[1:], "--quiet", cwd=again)
    assert result.returncode == 0, result.stderr

    def frames(path):
        with Image.open(path) as image:
            return [np.asarray(image.seek(i) or image.convert("RGB"))
                    for i in range(image.n_frames)]

    pairs = zip(frames(again / "kmeans.gif"), frames(out / "kmeans.gif"), strict=True)
    assert all(np.array_equal(a, b) for a, b in pairs)


# --- the page in a real browser ---------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]

# Loads the gallery in a frame and checks every poster; then, for each card, hovers (the
# animation must load and play), leaves (back to the poster) and clicks (plays again).
# The results end up in #result for --dump-dom.
CHECK_PAGE = """<!DOCTYPE html><html><body><pre id="result">pending</pre>
<iframe id="page" src="index.html" width="1400" height="900"></iframe>
<script>
function settled(img) {
  return new Promise((resolve) => {
    if (img.complete) return resolve();
    img.addEventListener("load", resolve, {once: true});
    img.addEventListener("error", resolve, {once: true});
  });
}
window.addEventListener("load", async () => {
  const doc = document.getElementById("page").contentDocument;
  const posters = [...doc.images].map((img) => ({src: img.getAttribute("src"),
                                                 complete: img.complete, width: img.naturalWidth}));
  const animations = [];
  const mouse = (type) => new PointerEvent(type, {pointerType: "mouse"});
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  };
  const controls = [...doc.querySelectorAll("button.player")].map((button) => ({
    poster: box(button.querySelector("img")), play: box(button.querySelector(".play")),
    label: getComputedStyle(button.querySelector(".play"), "::after").content}));
  for (const button of doc.querySelectorAll("button.player")) {
    const img = button.querySelector("img");
    const state = () => ({src: img.getAttribute("src"), width: img.naturalWidth,
                          playing: button.classList.contains("playing")});
    button.dispatchEvent(mouse("pointerenter"));
    await settled(img);
    const hover = state();
    button.dispatchEvent(mouse("pointerleave"));
    await settled(img);
    const left = state();
    button.click();
    await settled(img);
    animations.push({hover, left, click: state()});
  }
  document.getElementById("result").textContent = JSON.stringify({posters, animations,
                                                                  controls});
});
</script></body></html>
"""


def find_chromium() -> str:
    """The chromium binary, installed with apt-get if missing; skip where that is impossible."""
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed, and apt-get (as root) is not available to "
                    "install it: the gallery page was not checked in a browser")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
                             capture_output=True, text=True, env=env, timeout=900)
    if install.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, timeout=600)
        install = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends",
                                  "chromium"], capture_output=True, text=True, env=env,
                                 timeout=900)
    if shutil.which("chromium") is None:
        pytest.skip("chromium could not be installed with apt-get: "
                    + (install.stderr.strip().splitlines() or ["no output"])[-1])
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def served(built):
    """OUTDIR served over HTTP on 127.0.0.1 (an ephemeral port) for the test's duration."""
    _, out, _ = built
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def test_every_link_of_the_page_is_served(served):
    out, url = served
    page = (out / "index.html").read_text()
    targets = set(re.findall(r'(?:src|href|data-anim|data-poster)="([^"#:]+)"', page))
    assert targets == {"kmeans.png", "kmeans.gif", "kmeans.mp4", "kmeans.webp"}
    for target in targets:
        with urllib.request.urlopen(f"{url}/{target}", timeout=10) as response:
            assert response.status == 200
            assert response.read() == (out / target).read_bytes()


def test_page_in_headless_chromium(served):
    chromium = find_chromium()
    out, url = served
    (out / "check.html").write_text(CHECK_PAGE)
    try:
        with tempfile.TemporaryDirectory() as profile:
            result = subprocess.run(
                [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                 "--virtual-time-budget=15000", "--dump-dom", f"{url}/check.html"],
                capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
            )
    finally:
        (out / "check.html").unlink()
    found = re.search(r'<pre id="result">(.*?)</pre>', result.stdout, re.S)
    assert found, f"chromium gave no result (exit {result.returncode}): {result.stderr[-2000:]}"
    report = json.loads(found.group(1))
    assert report["posters"] == [{"src": "kmeans.png", "complete": True, "width": 1280}]
    gif = {"src": "kmeans.gif", "width": 1280, "playing": True}
    poster = {"src": "kmeans.png", "width": 1280, "playing": False}
    assert report["animations"] == [{"hover": gif, "left": poster, "click": gif}]
    # The play control is a bar of its own under the poster: it covers no part of the picture.
    [control] = report["controls"]
    image, play = control["poster"], control["play"]
    assert image["right"] - image["left"] > 300 and play["bottom"] - play["top"] > 10
    assert play["top"] >= image["bottom"], control
    assert play["left"] >= image["left"] - 1 and play["right"] <= image["right"] + 1
    assert control["label"] == '"play"'


def test_the_readme_gif_is_small_held_and_made_by_the_command_beside_it():
    readme = (REPO / "README.md").read_text()
    image = re.search(r"!\[[^\]]+\]\((docs/_static/[\w.-]+\.gif)\)", readme).group(1)
    command = re.search(r"Made with `(mlviz render [^`]+)`", readme).group(1)
    assert f"-o {image}" in command
    path = REPO / image
    assert path.stat().st_size < 300 * 1024
    with Image.open(path) as gif:
        assert gif.n_frames > 10 and gif.info["loop"] == 0
        gif.seek(gif.n_frames - 1)
        assert gif.info["duration"] == 1000 * DEFAULT_HOLD


# --- batches: the render cache and a Dask cluster (issue 11) ---------------------------

def _key_inputs(name="kmeans", **overrides):
    from mlviz import batch

    algorithm = load_registry().get(name)
    config = algorithm.config.from_overrides(overrides)
    return batch, algorithm, config, algorithm.make_dataset(config)


def test_render_key_covers_algorithm_config_seed_data_settings_versions_and_code():
    batch, algorithm, config, data = _key_inputs()
    versions = {"numpy": "2.0", "torch": None}

    def key(algorithm=algorithm, config=config, data=data, settings=None, versions=versions,
            code="abc"):
        return batch.render_key(algorithm, config, data, settings=settings or {"frames": 4},
                                versions=versions, code=code)

    base = key()
    assert base == key() and len(base) == 64
    moved = data.X.copy()
    moved[0, 0] += 1e-9
    changed = {
        "algorithm": key(*_key_inputs("pca")[1:]),
        "hyperparameter": key(config=config.replace(k_max=5)),
        "seed": key(config=config.replace(seed=config.seed + 1)),
        "data": key(data=type(data)(moved, data.y, feature_names=data.feature_names)),
        "frames": key(settings={"frames": 5}),
        "versions": key(versions={"numpy": "2.1", "torch": None}),
        "code": key(code="abd"),
    }
    assert base not in changed.values() and len(set(changed.values())) == len(changed)
    # the same in a fresh interpreter (no hash randomisation, no object addresses)
    code = ("from mlviz import batch, load_registry\n"
            "a = load_registry().get('kmeans'); c = a.config()\n"
            "print(batch.render_key(a, c, a.make_dataset(c), settings={'frames': 4}, "
            "versions={'numpy': '2.0', 'torch': None}, code='abc'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()[-1]
    assert out == base


def test_code_digest_follows_the_source_of_a_plugin(tmp_path, monkeypatch):
    from mlviz import batch

    package = tmp_path / "my_plugin_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = batch.code_digest(["my_plugin_pkg"])
    assert batch.code_digest(["my_plugin_pkg"]) == first
    (package / "panels.py").write_text("Y = 2\n")
    second = batch.code_digest(["my_plugin_pkg"])
    (package / "panels.py").write_text("Y = 3\n")
    assert len({first, second, batch.code_digest(["my_plugin_pkg"])}) == 3
    assert batch.plugin_modules(load_registry().get("kmeans")) == ["mlviz", "mlviz_kmeans"]


def test_an_earlier_render_is_kept_only_while_key_and_files_match(tmp_path):
    from mlviz.gallery import _reuse

    registry = load_registry()
    job = Job("kmeans", "kmeans", (), 3, (".gif",))
    sizes = {".gif": 5, ".png": 7}
    for suffix, size in sizes.items():
        (tmp_path / f"kmeans{suffix}").write_bytes(b"x" * size)
    old = Entry("kmeans", "s", "p", "c", "kmeans", seconds=2.5, frames=3, bytes=sizes, key="K",
                worker="host:1")
    kept = _reuse(job, "K", [old], tmp_path, registry)
    assert kept.cached and kept.key == "K" and kept.seconds == 2.5 and kept.bytes == sizes
    assert kept.summary == registry.get("kmeans").summary
    assert _reuse(job, "other", [old], tmp_path, registry) is None  # anything changed
    assert _reuse(job, "", [old], tmp_path, registry) is None  # no key could be made
    failed = Entry("kmeans", "s", "p", "c", "kmeans", key="K", error="boom")
    assert _reuse(job, "K", [failed], tmp_path, registry) is None
    more = Job("kmeans", "kmeans", (), 3, (".gif", ".mp4"))
    assert _reuse(more, "K", [old], tmp_path, registry) is None  # a format it lacks
    (tmp_path / "kmeans.png").write_bytes(b"y" * 8)  # not the file it wrote
    assert _reuse(job, "K", [old], tmp_path, registry) is None
    (tmp_path / "kmeans.png").unlink()
    assert _reuse(job, "K", [old], tmp_path, registry) is None


@pytest.mark.slow
def test_a_rebuild_renders_only_what_changed(tmp_path):
    from mlviz.gallery import build_gallery

    out = tmp_path / "out"

    def build(*settings, cache=True):
        log = tmp_path / "log.txt"
        with open(log, "w") as stream:
            result = build_gallery(out, only=["kmeans", "pca"], frames=3, workers=2,
                                   settings=["kmeans:k_max=3", *settings], formats="gif",
                                   stream=stream, cache=cache)
        return {e.name: e for e in result.entries}, log.read_text()

    def stamps():
        return {p.name: p.stat().st_mtime_ns for p in out.iterdir()
                if p.suffix in (".gif", ".png")}

    first, log = build()
    assert not any(e.cached for e in first.values()) and all(e.key for e in first.values())
    assert re.search(r"index\.html: 2 algorithms rendered in [\d.]+ s\n", log)
    before = stamps()
    again, log = build()
    assert all(e.cached for e in again.values()) and stamps() == before
    assert "2 of 2 algorithms unchanged since the last build" in log
    # nothing was rendered, and the page and the last line say so
    summary = "2 algorithms up to date (cached), nothing rendered"
    assert log.endswith(f"index.html: {summary}\n") and "rendered in" not in log
    page = (out / "index.html").read_text()
    assert summary in page and "algorithms rendered in" not in page
    assert "] kmeans: unchanged (cached), 3 frames" in log and "rendering" not in log
    assert {n: e.key for n, e in again.items()} == {n: e.key for n, e in first.items()}
    seeded, log = build("pca:seed=4")  # one algorithm's seed changed: only it renders
    assert re.search(r"index\.html: 1 algorithm rendered in [\d.]+ s, 1 up to date \(cached\)\n",
                     log)
    assert seeded["kmeans"].cached and not seeded["pca"].cached
    assert seeded["pca"].key != first["pca"].key
    assert "rendering 1 algorithm with 1 worker process" in log
    assert stamps()["kmeans.gif"] == before["kmeans.gif"] != stamps()["pca.gif"]
    forced, log = build("pca:seed=4", cache=False)
    assert not any(e.cached for e in forced.values()) and "rendering 2 algorithms" in log
    assert json.loads((out / "gallery.json").read_text())["entries"][0]["key"] == \
        forced["kmeans"].key


def test_a_scheduler_needs_the_dask_extra_and_leaves_nothing(tmp_path, monkeypatch):
    from mlviz.gallery import build_gallery

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(MlvizError, match=r"pip install 'mlviz\[dask\]'") as caught:
        build_gallery(tmp_path / "out", only=["kmeans"], scheduler="tcp://127.0.0.1:1")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from mlviz import batch
    from mlviz.gallery import build_gallery

    monkeypatch.setattr(batch, "CONNECT_TIMEOUT_S", 0.5)
    with pytest.raises(MlvizError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:1"):
        build_gallery(tmp_path / "out", only=["kmeans"], scheduler="tcp://127.0.0.1:1")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address, wrong", [
    ("tcp://nonsense:::", "'nonsense:::' is not HOST:PORT"),
    ("foo", "the port is missing"),
    ("http://127.0.0.1:8786", "unknown scheme 'http://'"),
    ("tcp://10.0.0.5:0", "the port must be a number from 1 to 65535, not '0'"),
    ("tcp://10.0.0.5:port", "the port must be a number from 1 to 65535, not 'port'"),
    ("tcp://[::1", "an IPv6 address goes in brackets before the port"),
    ("tcp://[nope]:8786", "'nope' is not an IPv6 address"),
    ("tcp://bad host:8786", "expected tcp://HOST:PORT"),
    ("tcp://-x-:8786", "'-x-' is not a host name or IP address"),
])
def test_a_malformed_scheduler_address_is_one_line_exit_2_even_without_dask(
        tmp_path, monkeypatch, capsys, address, wrong):
    from mlviz.cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # checked before Dask is needed
    status = main(["gallery", str(tmp_path / "out"), "--only", "pca", "--scheduler", address])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"mlviz: error: not a Dask scheduler address: {address!r}: {wrong}")
    assert len(err.splitlines()) == 1 and not (tmp_path / "out").exists()


def test_well_formed_scheduler_addresses_are_taken_apart():
    from mlviz.batch import check_scheduler_address

    assert check_scheduler_address("tcp://10.0.0.5:8786") == ("tcp", "10.0.0.5", 8786)
    assert check_scheduler_address("scheduler.local:8786") == ("tcp", "scheduler.local", 8786)
    assert check_scheduler_address("TLS://[::1]:9000") == ("tls", "::1", 9000)
    assert check_scheduler_address("inproc://10.0.0.5/1234/1") == ("inproc", "", None)


class _NotAScheduler(threading.Thread):
    """A local TCP server that is no Dask scheduler: it writes bytes Dask cannot read
    (``garbage``) or answers as an HTTP server does (``http``)."""

    def __init__(self, kind: str) -> None:
        super().__init__(daemon=True)
        import socket

        self.kind = kind
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.start()

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn) -> None:
        try:
            if self.kind == "garbage":
                conn.sendall(b"\xff\x00garbage, not a Dask frame\r\n" * 64)
            else:  # an HTTP server waits for a request line that never ends
                conn.recv(65536)
            time.sleep(30)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.server.close()


@pytest.mark.parametrize("kind", ["garbage", "http"])
def test_something_else_at_the_scheduler_address_is_one_line_exit_2_in_seconds(tmp_path, kind):
    pytest.importorskip("distributed")
    server = _NotAScheduler(kind)
    try:
        began = time.monotonic()
        result = run_mlviz("gallery", "out", "--only", "pca", "--scheduler", server.address,
                           cwd=tmp_path, timeout=60)
        took = time.monotonic() - began
    finally:
        server.close()
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines == [f"mlviz: error: something listens at {server.address}, but it is no "
                     f"Dask scheduler{lines[0].rpartition('Dask scheduler')[2]}"], result.stderr
    assert "memory" not in result.stderr
    assert took < 20, took  # the CLI's start, and at most the connect timeout (5 s)
    assert not (tmp_path / "out").exists()


def test_a_client_failing_after_the_probe_is_closed_quietly(tmp_path):
    """Were the probe passed, a ``Client`` failing to start is closed at once: no
    ``Client.__del__`` traceback, no 20 s wait when it is collected."""
    pytest.importorskip("distributed")
    server = _NotAScheduler("garbage")
    code = ("import gc, sys, time\n"
            "from mlviz import batch\n"
            "from mlviz.errors import MlvizError\n"
            "batch._ask_identity = lambda scheduler, timeout: None\n"
            "began = time.monotonic()\n"
            "try:\n"
            f"    batch.connect({server.address!r}, timeout=2)\n"
            "except MlvizError as exc:\n"
            "    print(exc)\n"
            "    kept = exc  # to the end, as the command line keeps what it reports\n"
            "gc.collect()\n")
    try:
        began = time.monotonic()
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, timeout=60,
                                capture_output=True, text=True, stdin=subprocess.DEVNULL)
        took = time.monotonic() - began
    finally:
        server.close()
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.startswith(f"cannot use the Dask scheduler at {server.address}: ")
    assert took < 15, took  # not the 20 s of a client closing at exit


@pytest.mark.slow
def test_the_gallery_renders_on_a_local_dask_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    from mlviz.gallery import build_gallery

    out = tmp_path / "out"
    log = tmp_path / "log.txt"
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        with open(log, "w") as stream:
            result = build_gallery(out, only=["kmeans", "pca"], frames=3, formats="gif",
                                   settings=["kmeans:k_max=3"], stream=stream,
                                   scheduler=cluster.scheduler_address)
        worker_pids = set(client.run(os.getpid).values())
    text = log.read_text()
    assert f"with the Dask cluster at {cluster.scheduler_address} (2 workers)" in text
    assert not result.failed
    for entry in result.entries:  # rendered in the cluster's worker processes, not here
        host, pid = entry.worker.rsplit(":", 1)
        assert int(pid) in worker_pids and int(pid) != os.getpid()
    # the workers sent their files back; they were written here, complete, as a web page's
    umask = os.umask(0o022)
    os.umask(umask)
    assert sorted(p.name for p in out.iterdir()) == [
        "gallery.json", "index.html", "kmeans.gif", "kmeans.png", "pca.gif", "pca.png"]
    for entry in result.entries:
        for suffix, size in entry.bytes.items():
            path = out / f"{entry.stem}{suffix}"
            assert path.stat().st_size == size and path.stat().st_mode & 0o777 == 0o666 & ~umask
        with Image.open(out / f"{entry.stem}.gif") as gif:
            assert gif.n_frames == 3
    # what the cluster made is what this machine makes: the cache takes it as its own
    local = tmp_path / "local"
    with open(os.devnull, "w") as quiet:
        again = build_gallery(local, only=["kmeans"], frames=3, formats="gif",
                              settings=["kmeans:k_max=3"], stream=quiet)
    assert again.entries[0].key == result.entries[0].key
    assert (local / "kmeans.gif").read_bytes() == (out / "kmeans.gif").read_bytes()


def test_one_process_pool_for_every_worker_kind():
    import os

    from mlviz.processes import process_pool, start_method

    assert start_method() in ("fork", "spawn")
    with process_pool(2, method="spawn") as pool:
        pids = set(pool.map(_pid, range(4)))
    assert pids and os.getpid() not in pids


def _pid(_: int) -> int:
    import os

    return os.getpid()
