"""The HTML player: a self-contained page that plays a run, checked in headless Chromium;
its size limit; captions; and the progress bars that replaced the hand-written one."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import pty
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mlviz
from mlviz.api import frame_captions, write_animation
from mlviz.errors import LimitError
from mlviz.player import (
    MAX_BYTES,
    PAGE_BYTES,
    FrameStore,
    HtmlWriter,
    PlayerTooLarge,
    notebook_player,
)
from mlviz.progress import expected_snapshots, wanted
from mlviz.writers.player import check_planned, estimate_bytes
from test_gallery import CHROMIUM_FLAGS, find_chromium

FPS, HOLD = 10.0, 1.0


@pytest.fixture(scope="module")
def kmeans():
    """k-means drawn small: 12 frames at 40 dpi, and those frames as the renderer draws them."""
    prepared = mlviz.prepare("kmeans", k_max=4, frames=12)
    frames = list(prepared.renderer(dpi=40).frames())
    return prepared, frames


@pytest.fixture(scope="module")
def page(kmeans, tmp_path_factory):
    """The player page for ``kmeans``, written by ``mlviz.api.write_animation``."""
    prepared, _ = kmeans
    prepared = dataclasses.replace(prepared, fps=FPS)
    path = tmp_path_factory.mktemp("player") / "kmeans.html"
    count = write_animation(prepared, path, dpi=40, hold=HOLD)
    assert count == prepared.run.n_frames
    return path


def page_data(path: Path) -> dict:
    """The JSON the page's script reads."""
    found = re.search(r'<script type="application/json" class="mlviz-data">(.*?)</script>',
                      path.read_text(), re.S)
    assert found, "no player data in the page"
    return json.loads(found.group(1))


def decode(source: str, kind: str = "webp") -> np.ndarray:
    """A data URI (an ``<img>``'s WebP, a canvas's PNG) as an RGB array."""
    header, _, payload = source.partition(",")
    assert header == f"data:image/{kind};base64", header
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"))


def composed(data: dict, poster: str) -> list[np.ndarray]:
    """Every frame of the player's data, composed as its script composes them: a key
    frame, then each later frame's rectangle over the frame before (alpha 0: unchanged)."""
    sources = [poster if image is None else f"data:image/webp;base64,{image}"
               for image in data["images"]]
    pictures = [decode(source) for source in sources]
    rgba = [np.asarray(Image.open(io.BytesIO(base64.b64decode(source.partition(",")[2])))
                       .convert("RGBA")) for source in sources]
    out, canvas = [], None
    for key, *rectangles in data["sequence"]:
        if key:
            canvas = pictures[rectangles[0]].copy()
            rectangles = []
        for r in range(0, len(rectangles), 3):
            image, left, top = rectangles[r: r + 3]
            part = rgba[image]
            region = canvas[top: top + part.shape[0], left: left + part.shape[1]]
            opaque = part[..., 3] == 255
            assert np.all((part[..., 3] == 0) | opaque)  # no half-transparent pixel
            region[opaque] = part[..., :3][opaque]
        out.append(canvas.copy())
    return out


def nearest(image: np.ndarray, frames: list[np.ndarray]) -> tuple[int, float]:
    """The index of the frame ``image`` looks most like, and the mean difference to it."""
    errors = [np.abs(image.astype(int) - frame).mean() for frame in frames]
    return int(np.argmin(errors)), float(min(errors))


# --- the page itself ------------------------------------------------------------------------

def test_page_is_self_contained_and_complete(page, kmeans):
    prepared, frames = kmeans
    html = page.read_text()
    data = page_data(page)
    n = prepared.run.n_frames
    # Nothing from the network: no URL to load, and a policy that forbids it anyway.
    assert not re.search(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//', html)
    assert "default-src 'none'" in html
    # Every frame is there, in order (none dropped), each decoding to the frame it stands for.
    assert len(data["sequence"]) == len(data["captions"]) == n
    assert data["captions"] == frame_captions(prepared.run)
    assert data["fps"] == FPS and data["last_seconds"] == HOLD
    poster = re.search(r'<img class="mlviz-frame"[^>]*src="([^"]+)"', html, re.S).group(1)
    for i, image in enumerate(composed(data, poster)):
        index, error = nearest(image, frames)
        assert np.array_equal(frames[index], frames[i]) and error < 1, (i, index, error)
    # A key frame first; the others store only what changed (far fewer pixels).
    assert data["sequence"][0][0] == 1
    # The poster is the last frame, a key frame stored once, with its caption in the markup.
    assert data["sequence"][-1][0] == 1 and data["images"][data["sequence"][-1][1]] is None
    assert nearest(decode(poster), frames)[0] == n - 1
    assert f'<div class="mlviz-caption" aria-live="polite">{data["captions"][-1]}</div>' in html


def test_captions_name_epoch_loss_and_the_algorithms_metrics():
    prepared = mlviz.prepare("logistic-regression", frames=5, epochs=300)
    run = prepared.run
    captions = frame_captions(run)
    assert len(captions) == run.n_frames
    for snapshot, caption in zip(run.snapshots, captions):
        row = list(run.epochs).index(snapshot.epoch)
        assert caption == (f"epoch {snapshot.epoch} · loss {snapshot.loss:.4g} · "
                           f"accuracy {run.trace('accuracy')[row]:.4g}")
    # Whole-number traces stay whole, flags say yes or no; parameters (params.*) are not
    # metrics.
    kmeans = mlviz.prepare("kmeans", k_max=4, frames=3)
    assert frame_captions(kmeans.run)[-1].endswith(" · converged yes · recap yes")
    capped = mlviz.prepare("kmeans", k_max=4, max_iter=1, frames=3)
    assert frame_captions(capped.run)[-1].endswith(" · converged no · recap yes")
    perceptron = frame_captions(mlviz.prepare("perceptron", frames=2).run)[-1]
    assert "misclassified 0" in perceptron and "params" not in perceptron


def test_frames_store_what_changed_and_a_key_frame_periodically():
    store = FrameStore(key_every=3, key_area=100)
    white = np.full((20, 30, 3), 255, np.uint8)
    spot = white.copy()
    spot[5:8, 10:14] = (200, 30, 30)
    for frame in (white, white.copy(), spot, white, spot, spot, white):
        store.add(frame)
    # Key frames at 0, 3 and 6; a repeated frame stores nothing; a change, its rectangle.
    assert [entry[0] for entry in store.sequence] == [1, 0, 0, 1, 0, 0, 1]
    assert store.sequence[1] == [0] and store.sequence[5] == [0]
    assert store.sequence[2][2:] == [10, 5] and store.sequence[4][2:] == [10, 5]
    part = Image.open(io.BytesIO(base64.b64decode(store.images[store.sequence[2][1]])))
    assert part.size == (4, 3)
    assert len(store.images) == 5


def test_changes_apart_are_stored_as_separate_rectangles():
    store = FrameStore()
    white = np.full((40, 200, 3), 255, np.uint8)
    two = white.copy()
    two[2:6, 3:9] = (0, 0, 200)
    two[30:33, 150:160] = (0, 150, 0)
    store.add(white)
    store.add(two)
    key, *rectangles = store.sequence[1]
    assert key == 0 and rectangles[1::3] == [3, 150] and rectangles[2::3] == [2, 30]
    sizes = [Image.open(io.BytesIO(base64.b64decode(store.images[i]))).size
             for i in rectangles[0::3]]
    assert sizes == [(6, 4), (10, 3)]


def test_a_key_frame_comes_sooner_when_the_rectangles_cover_several_frames():
    rng = np.random.default_rng(1)
    store = FrameStore(key_every=100, key_area=2)
    for _ in range(6):  # every frame new noise: each rectangle is as big as a key frame
        store.add(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8))
    keys = [entry[0] for entry in store.sequence]
    assert keys == [1, 0, 0, 1, 0, 0]


def test_over_the_size_limit_is_one_line_and_writes_nothing(kmeans, tmp_path):
    _, frames = kmeans
    target = tmp_path / "big.html"
    with pytest.raises(PlayerTooLarge) as failure:
        with HtmlWriter(target, fps=5, captions=["x"] * len(frames), max_bytes=40_000) as writer:
            for frame in frames:
                writer.write(frame)
    message = str(failure.value)
    assert isinstance(failure.value, LimitError) and "\n" not in message
    assert "big.html would be over the 0.0 MB player size limit" in message
    assert re.search(rf"after \d+ of {len(frames)} frames\): draw fewer frames "
                     r"\(--frames \d+\) or smaller ones \(a smaller --size or --dpi\), or write "
                     r"a video \(\.mp4\)$", message), message
    assert os.listdir(tmp_path) == []  # no page, no temporary file
    suggested = int(re.search(r"--frames (\d+)", message).group(1))
    assert 1 <= suggested < len(frames)
    assert MAX_BYTES == 25 * 2**20


@pytest.mark.slow
def test_cli_writes_the_player_and_refuses_one_too_big(run_cli, tmp_path, monkeypatch,
                                                       capsys):
    result = run_cli("render", "kmeans", "-o", "km.html", "--set", "k_max=3", "--frames", "4",
                     "--dpi", "30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote km.html (4 frames, ") and result.stderr == ""
    assert len(page_data(tmp_path / "km.html")["sequence"]) == 4
    # Over the limit: one line that says how to get under it, and no file.
    from mlviz.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(HtmlWriter, "max_bytes", 30_000)
    status = main(["render", "kmeans", "-o", "big.html", "--set", "k_max=3", "--dpi", "30"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith("mlviz: error: big.html would be over the 0.0 MB player size limit")
    assert "draw fewer frames (--frames " in err and not (tmp_path / "big.html").exists()
    assert sorted(os.listdir(tmp_path)) == ["km.html"]


# --- in a browser ---------------------------------------------------------------------------

# Installed at the top of <head>: records every error, console error or warning, and
# blocked request (the page's policy forbids the network), before the player's script runs.
WATCH = """<script>
window.__problems = [];
window.addEventListener("error", (e) => __problems.push("error: " + e.message));
window.addEventListener("unhandledrejection", (e) => __problems.push("rejection: " + e.reason));
document.addEventListener("securitypolicyviolation",
  (e) => __problems.push("blocked: " + e.blockedURI));
for (const level of ["error", "warn"]) {
  const original = console[level];
  console[level] = (...args) => {
    __problems.push(level + ": " + args.join(" "));
    original(...args);
  };
}
</script>"""

# Drives the player as a person would (slider, keys, play, speed, loop) and reports what it
# showed. FRAME is the frame the slider is set to. The results end in #mlviz-result.
DRIVE = """<pre id="mlviz-result">pending</pre><script>
window.addEventListener("load", () => drive().catch((error) => {
  document.getElementById("mlviz-result").textContent = JSON.stringify(
    {exception: String(error), problems: window.__problems});
}));
async function drive() {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const root = document.querySelector(".mlviz-player");
  const img = root.querySelector("img.mlviz-frame");
  const canvas = root.querySelector("canvas.mlviz-canvas");
  const slider = root.querySelector(".mlviz-slider");
  const speed = root.querySelector(".mlviz-speed");
  // Virtual time runs ahead of the frames' decoding (real time): wait long enough.
  for (let i = 0; i < 10000 && root.dataset.ready !== "true"; i += 1) await sleep(20);
  const loop = root.querySelector(".mlviz-loop");
  const state = () => ({frame: Number(img.dataset.frame), slider: Number(slider.value),
    caption: root.querySelector(".mlviz-caption").textContent,
    counter: root.querySelector(".mlviz-counter").textContent,
    playing: root.dataset.playing === "true"});
  const key = (name) => document.body.dispatchEvent(
    new KeyboardEvent("keydown", {key: name, bubbles: true, cancelable: true}));
  const seen = [];
  new MutationObserver(() => seen.push([Number(img.dataset.frame), performance.now()]))
    .observe(img, {attributes: true, attributeFilter: ["data-frame"]});
  const out = {};
  out.poster = {...state(), width: img.naturalWidth, title: document.title,
                heading: document.querySelector("h1").textContent};
  slider.value = String(FRAME);
  slider.dispatchEvent(new Event("input", {bubbles: true}));
  for (let i = 0; i < 10000 && canvas.hidden; i += 1) await sleep(20);  // frames decode async
  out.slider = {...state(), src: canvas.toDataURL("image/png"), canvas: !canvas.hidden,
                img: !img.hidden, ready: root.dataset.ready};
  key("ArrowRight"); out.right = state();
  key("ArrowLeft"); key("ArrowLeft"); out.left = state();
  key("Home"); out.home = state();
  key("End"); out.end = state();
  seen.length = 0;
  key(" "); out.started = state();
  await sleep(3000);
  key(" "); out.stopped = state();
  out.played = seen.slice();
  await sleep(500);
  out.still = state();
  const framesIn = async (ms) => {
    key("Home"); seen.length = 0; key(" "); await sleep(ms); key(" ");
    return seen.filter(([frame]) => frame !== 0).length;
  };
  out.speed1 = await framesIn(250);
  speed.value = "4"; speed.dispatchEvent(new Event("change", {bubbles: true}));
  out.speed4 = await framesIn(250);
  speed.value = "1"; speed.dispatchEvent(new Event("change", {bubbles: true}));
  loop.checked = false; loop.dispatchEvent(new Event("change", {bubbles: true}));
  slider.value = String(COUNT - 2);
  slider.dispatchEvent(new Event("input", {bubbles: true}));
  key(" ");
  await sleep(3000);
  out.noLoop = state();
  canvas.click(); out.clicked = state(); canvas.click();
  out.resources = performance.getEntriesByType("resource").map((entry) => entry.name);
  out.problems = window.__problems;
  document.getElementById("mlviz-result").textContent = JSON.stringify(out);
}
</script>"""


def in_chromium(page: Path, script: str, folder: Path) -> dict:
    """Open a copy of ``page`` with WATCH and ``script`` added in headless Chromium, offline
    (file://, every host unresolvable), and return the JSON the script left in the page."""
    chromium = find_chromium()
    html = page.read_text()
    assert html.count("<head>") == 1 and html.count("</body>") == 1
    html = html.replace("<head>", "<head>" + WATCH).replace("</body>", script + "</body>")
    copy = folder / f"check-{page.name}"
    copy.write_text(html)
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=600000",
             "--dump-dom", copy.as_uri()],
            capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
        )
    found = re.search(r'<pre id="mlviz-result">(.*?)</pre>', result.stdout, re.S)
    assert found and found.group(1) != "pending", \
        f"chromium gave no result (exit {result.returncode}): {result.stderr[-2000:]}"
    import html as markup

    return json.loads(markup.unescape(found.group(1)))


@pytest.mark.slow
def test_player_in_headless_chromium(page, kmeans, tmp_path):
    prepared, frames = kmeans
    n = prepared.run.n_frames
    captions = frame_captions(prepared.run)
    k = 4
    script = DRIVE.replace("FRAME", str(k)).replace("COUNT", str(n))
    report = in_chromium(page, script, tmp_path)
    if not report["slider"]["canvas"]:
        # In a loaded full suite headless Chromium's virtual time has (rarely) outrun the
        # frames' decoding; once more, and the second report is judged.
        report = in_chromium(page, script, tmp_path)
    assert report["problems"] == [] and report["resources"] == []

    def at(i, playing=False):
        return {"frame": i, "slider": i, "caption": captions[i], "counter": f"{i + 1} / {n}",
                "playing": playing}

    # Before play: the poster (last frame) and its caption.
    assert report["poster"] == {**at(n - 1), "width": 512, "title": "kmeans",
                                "heading": "kmeans"}
    # The slider shows frame k: its index, caption, and the picture of frame k.
    shown = report["slider"]
    assert {key: shown[key] for key in at(k)} == at(k)
    assert shown["canvas"] and not shown["img"], shown  # the canvas replaced the poster
    index, error = nearest(decode(shown["src"], "png"), frames)
    assert np.array_equal(frames[index], frames[k]) and error < 1
    # Keys step (and Home/End jump); they stop at the ends.
    assert report["right"] == at(k + 1) and report["left"] == at(k - 1)
    assert report["home"] == at(0) and report["end"] == at(n - 1)
    # Space at the end plays from the start: every frame in order, the last one held
    # HOLD seconds, then it loops; space again pauses where it is.
    assert report["started"] == at(0, playing=True)
    played = report["played"]
    order = [frame for frame, _ in played]
    assert order[: n + 2] == [0, *range(1, n), 0, 1], order
    gaps = np.diff([time for _, time in played[: n + 1]])
    assert np.allclose(gaps[:-1], 1000 / FPS, atol=30), gaps
    assert abs(gaps[-1] - 1000 * HOLD) < 60, gaps
    stopped = report["stopped"]
    assert not stopped["playing"] and report["still"] == stopped
    # 4x speed shows about four times as many frames in the same time.
    assert report["speed1"] in (2, 3) and report["speed4"] >= 3 * report["speed1"], report
    # Without loop it stops on the last frame.
    assert report["noLoop"] == at(n - 1)
    assert report["clicked"]["playing"] is True


@pytest.mark.slow
def test_text_in_the_page_is_escaped(kmeans, tmp_path):
    """A caption or title holding markup (an old record, a plugin's text) shows as text."""
    _, frames = kmeans
    evil = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    page = tmp_path / "evil.html"
    with HtmlWriter(page, fps=5, captions=[evil, f"ok {evil}"], title=f"<b>{evil}") as writer:
        writer.write(frames[0])
        writer.write(frames[1])
    html = page.read_text()
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    check = """<pre id="mlviz-result">pending</pre><script>
    window.addEventListener("load", () => {
      const root = document.querySelector(".mlviz-player");
      const caption = () => root.querySelector(".mlviz-caption").textContent;
      const poster = caption();
      document.body.dispatchEvent(new KeyboardEvent("keydown", {key: "Home", bubbles: true}));
      document.getElementById("mlviz-result").textContent = JSON.stringify({
        poster, first: caption(), title: document.title, pwned: window.pwned || null,
        images: document.images.length, problems: window.__problems});
    });
    </script>"""
    report = in_chromium(page, check, tmp_path)
    assert report == {"poster": f"ok {evil}", "first": evil, "title": f"<b>{evil}",
                      "pwned": None, "images": 1, "problems": []}


CHAPTERS = [(0, "Start", "The centres are placed at random."),
            (4, "Moving", "Points <b>change</b> cluster."), (9, "Done", "It converged.")]

CHAPTER_DRIVE = """<pre id="mlviz-result">pending</pre><script>
window.addEventListener("load", async () => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const root = document.querySelector(".mlviz-player");
  for (let i = 0; i < 10000 && root.dataset.ready !== "true"; i += 1) await sleep(20);
  const state = () => ({frame: Number(root.dataset.frame),
    chapter: root.querySelector(".mlviz-chapter").textContent,
    caption: root.querySelector(".mlviz-caption").textContent,
    current: Array.from(root.querySelectorAll(".mlviz-marks button.mlviz-current"))
      .map((mark) => mark.textContent)});
  const key = (name) => document.body.dispatchEvent(
    new KeyboardEvent("keydown", {key: name, bubbles: true, cancelable: true}));
  const out = {poster: state()};
  out.marks = Array.from(root.querySelectorAll(".mlviz-marks button"))
    .map((mark) => [mark.textContent, Number(mark.dataset.start)]);
  out.ticks = Array.from(root.querySelectorAll("datalist option")).map((o) => Number(o.value));
  key("Home"); out.home = state();
  key("]"); out.next = state();
  key("PageDown"); out.pageDown = state();
  key("PageDown"); out.atEnd = state();
  key("PageUp"); out.pageUp = state();
  key("ArrowRight"); key("["); out.back = state();
  key("["); out.first = state();
  root.querySelectorAll(".mlviz-marks button")[2].click(); out.clicked = state();
  out.problems = window.__problems;
  document.getElementById("mlviz-result").textContent = JSON.stringify(out);
});
</script>"""


@pytest.mark.slow
def test_chapters_are_marked_shown_and_jumped_to_in_chromium(kmeans, tmp_path):
    _, frames = kmeans
    captions = [f"frame {i}" for i in range(len(frames))]
    page = tmp_path / "chapters.html"
    with HtmlWriter(page, fps=5, captions=captions, chapters=CHAPTERS) as writer:
        for frame in frames:
            writer.write(frame)
    assert "<b>change</b>" not in page.read_text()  # a chapter's text is text, not markup
    report = in_chromium(page, CHAPTER_DRIVE, tmp_path)
    assert report["problems"] == []
    assert report["marks"] == [["Start", 0], ["Moving", 4], ["Done", 9]]
    assert report["ticks"] == [0, 4, 9]

    def at(frame, chapter):
        start, title, sentence = CHAPTERS[chapter]
        return {"frame": frame, "chapter": f"{title}: {sentence}",
                "caption": captions[frame], "current": [title]}

    last = len(frames) - 1
    assert report["poster"] == at(last, 2)
    assert report["home"] == at(0, 0)
    assert report["next"] == at(4, 1) and report["pageDown"] == at(9, 2)
    assert report["atEnd"] == at(9, 2)  # no chapter after the last
    assert report["pageUp"] == at(4, 1)
    assert report["back"] == at(4, 1)  # from inside a chapter: back to its start
    assert report["first"] == at(0, 0)
    assert report["clicked"] == at(9, 2)


def test_chapters_are_checked():
    with pytest.raises(LimitError, match="increasing"):
        HtmlWriter("/tmp/never.html", chapters=[(3, "a", ""), (1, "b", "")])
    with pytest.raises(LimitError, match="first frame, title, sentence"):
        HtmlWriter("/tmp/never.html", chapters=[(0, "a")])


# --- Jupyter display ------------------------------------------------------------------------

def test_prepared_displays_as_the_player(kmeans):
    prepared, _ = kmeans
    small = prepared.with_frames(3)
    html = small._repr_html_()
    assert html.startswith('<div class="mlviz-player"') and "<html" not in html
    assert 'class="mlviz-slider"' in html and "<script>" in html
    data = json.loads(re.search(r'class="mlviz-data">(.*?)</script>', html, re.S).group(1))
    assert data["captions"] == frame_captions(small.run) and len(data["sequence"]) == 3


def test_over_the_limit_a_notebook_shows_the_poster_and_a_note(kmeans):
    prepared, frames = kmeans
    renderer = prepared.renderer(dpi=40)
    captions = frame_captions(prepared.run)
    html = notebook_player(renderer, captions, fps=5, title="kmeans", max_bytes=30_000)
    assert 'class="mlviz-slider"' not in html and "<script>" not in html
    note = re.search(r'<div class="mlviz-note">(.*?)</div>', html, re.S).group(1)
    assert note.startswith("This run&#39;s player would be over the 0.0 MB player size limit")
    assert "prepared.with_frames(" in note and "\n" not in note
    poster = re.search(r'<img class="mlviz-frame"[^>]*src="([^"]+)"', html, re.S).group(1)
    assert nearest(decode(poster), frames)[0] == len(frames) - 1
    assert f'<div class="mlviz-caption" aria-live="polite">{captions[-1]}</div>' in html


# --- a page sure to be too large, refused before drawing ---------------------------------------

@pytest.fixture
def no_drawing(monkeypatch):
    """Every way the renderer draws a frame made to fail: a refusal must come first."""
    from mlviz.renderer import Renderer

    def draw(*args, **kwargs):
        raise AssertionError("a frame was drawn")

    for method in ("_build", "render", "frames", "draw_in_order"):
        monkeypatch.setattr(Renderer, method, draw)


def test_a_page_sure_to_be_too_large_is_refused_before_drawing(no_drawing, monkeypatch,
                                                                 tmp_path, capsys):
    from mlviz.cli import main

    monkeypatch.chdir(tmp_path)
    # 4 frames of 384x216 take at least 4 x 2 x 288 bytes: over a limit of 2,000 bytes
    # of frames, under one of 3,000.
    monkeypatch.setattr(HtmlWriter, "max_bytes", PAGE_BYTES + 2_000)
    status = main(["render", "kmeans", "-o", "big.html", "--set", "k_max=3", "--frames", "4",
                   "--dpi", "30", "-j", "1"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    least, typical = estimate_bytes(4, 384, 216), estimate_bytes(4, 384, 216, 20.0)
    assert err == ("mlviz: error: big.html would be over the 0.0 MB player size limit (4 "
                   "frames of 384x216: at least 0.0 MB, typically 0.0 MB): draw fewer frames "
                   "(--frames 1) or smaller ones (a smaller --size or --dpi), or write a "
                   "video (.mp4)\n")
    assert least > HtmlWriter.max_bytes > PAGE_BYTES and typical > least
    assert list(tmp_path.iterdir()) == []
    # Under the bound it goes on to draw (and fails here only because drawing is off).
    monkeypatch.setattr(HtmlWriter, "max_bytes", PAGE_BYTES + 3_000)
    with pytest.raises(AssertionError, match="a frame was drawn"):
        mlviz.render("kmeans", tmp_path / "ok.html", k_max=3, frames=4, dpi=30, jobs=1)


def test_the_estimate_in_real_sizes():
    """A 4K page of 5000 frames is refused at once; kmeans' default frames (55) at 4K,
    a page of a few MB, are not."""
    with pytest.raises(PlayerTooLarge) as failure:
        check_planned("big.html", 5000, 3840, 2160)
    message = str(failure.value)
    assert message.startswith("big.html would be over the 25.0 MB player size limit (5000 "
                              "frames of 3840x2160: at least 27.5 MB, typically 274.7 MB): "
                              "draw fewer frames (--frames 409)")
    check_planned("kmeans.html", 75, 3840, 2160)
    check_planned("kmeans.html", 4000, 1280, 720)


def test_the_least_estimate_is_under_a_real_page(page, kmeans):
    """The bound refuses only what cannot fit: a real page is at least its estimate."""
    prepared, _ = kmeans
    count = prepared.run.n_frames
    assert page_data(page)["sequence"] and len(page_data(page)["sequence"]) == count
    size = page.stat().st_size
    assert estimate_bytes(count, 512, 288) < size < estimate_bytes(count, 512, 288, 40.0)


def test_a_notebook_run_sure_to_be_too_large_shows_the_poster_at_once(kmeans, monkeypatch):
    prepared, frames = kmeans
    renderer = prepared.renderer(dpi=40)
    drawn = []
    original = type(renderer).frames

    def frames_drawn(self, indices=None, **kwargs):
        drawn.append(list(indices))
        return original(self, indices=indices, **kwargs)

    def draw_in_order(*args, **kwargs):
        raise AssertionError("every frame was drawn")

    monkeypatch.setattr(type(renderer), "frames", frames_drawn)
    monkeypatch.setattr(type(renderer), "draw_in_order", draw_in_order)
    html = notebook_player(renderer, frame_captions(prepared.run), fps=5, title="kmeans",
                           max_bytes=PAGE_BYTES + 1_000)
    assert drawn == [[len(frames) - 1]]  # the poster only
    note = re.search(r'<div class="mlviz-note">(.*?)</div>', html, re.S).group(1)
    assert f"({len(frames)} frames of 512x288: at least " in note
    assert "showing the last frame" in note and "prepared.with_frames(1)" in note


# --- the page's title ------------------------------------------------------------------------

def titles(path: Path) -> tuple[str, str]:
    """A page's ``<title>`` and ``<h1>``, as text."""
    from html.parser import HTMLParser

    found: dict[str, str] = {}

    class Titles(HTMLParser):
        tag = None

        def handle_starttag(self, tag, attrs):
            self.tag = tag if tag in ("title", "h1") else None

        def handle_data(self, data):
            if self.tag:
                found[self.tag] = found.get(self.tag, "") + data

        def handle_endtag(self, tag):
            self.tag = None

    Titles().feed(path.read_text())
    return found["title"], found["h1"]


def test_the_page_is_named_after_the_run_not_the_file(kmeans, tmp_path):
    prepared, _ = kmeans
    write_animation(prepared.with_frames(2), tmp_path / "k.html", dpi=30)
    assert titles(tmp_path / "k.html") == ("kmeans", "kmeans")
    sweep = mlviz.prepare("kmeans", k_max=3, frames=2, sweep=["seed=0,1"])
    write_animation(sweep, tmp_path / "s.html", dpi=30)
    assert titles(tmp_path / "s.html") == ("kmeans sweep: seed=0,1",) * 2
    assert 'aria-label="kmeans sweep: seed=0,1: animation player"' in sweep._repr_html_()


def test_a_watched_run_is_named_by_its_run(tmp_path):
    torch = pytest.importorskip("torch")
    if "watched-model" not in mlviz.plugins.load_registry().algorithms:
        pytest.skip("the watched-model entry point is not installed")
    torch.manual_seed(0)
    model, x = torch.nn.Linear(1, 1), torch.randn(16, 1)
    recorder = mlviz.watch(model, data=(x, 2 * x), loss=torch.nn.MSELoss(), resolution=5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), 2 * x)
        loss.backward()
        optimizer.step()
        recorder.epoch(loss=loss)
    prepared = recorder.prepared()
    write_animation(prepared.with_frames(2), tmp_path / "w.html", dpi=30)
    expected = " ".join(prepared.scene.title.split())
    assert expected.startswith("Watched model: ")
    assert titles(tmp_path / "w.html") == (expected, expected)


# --- progress -------------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_training_total_comes_from_the_config():
    from mlviz import load_registry

    registry = load_registry()
    config = lambda name, **values: registry.get(name).config.from_overrides(values)  # noqa: E731
    assert expected_snapshots(config("linear-regression", epochs=50)) == 51
    assert expected_snapshots(config("linear-regression", epochs=50), epoch_limit=10) == 10
    assert expected_snapshots(config("logistic-regression")) is None  # epochs=0: until it converges
    assert expected_snapshots(config("optimizers", steps=300)) == 301
    assert expected_snapshots(config("kmeans")) is None
    assert expected_snapshots(config("kmeans"), epoch_limit=7) == 7


def test_prepare_shows_a_training_bar_and_calls_on_epoch(monkeypatch):
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    epochs = []
    prepared = mlviz.prepare("linear-regression", epochs=40, frames=3, progress=True,
                             on_epoch=lambda snapshot: epochs.append(snapshot.epoch))
    assert epochs == list(prepared.run.epochs) == list(range(41))
    text = stream.getvalue()
    assert "training linear-regression" in text and "0/41 [" in text and "epoch/s" in text
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    mlviz.prepare("linear-regression", epochs=5, frames=2)
    assert quiet.getvalue() == ""


def test_progress_is_for_terminals_unless_quiet():
    assert wanted(False, Terminal()) and not wanted(True, Terminal())
    assert not wanted(False, io.StringIO())


@pytest.mark.slow
def test_cli_bars_on_a_terminal_and_silence_otherwise(run_cli, tmp_path):
    render = ["render", "linear-regression", "-o", "lr.gif", "--set", "epochs=30", "--frames",
              "3", "--dpi", "30"]
    train = ["train", "linear-regression", "-o", "lr.npz", "--set", "epochs=30"]
    # Not a terminal (a pipe): no bar.
    piped = run_cli(*train)
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr
    # On a terminal (a pseudo-terminal 100 columns wide): a training bar, a frame bar.
    text = _on_a_terminal([sys.executable, "-m", "mlviz.cli", *render], tmp_path)
    assert "training linear-regression" in text and "/31 [" in text
    assert "drawing" in text and "3/3" in text and "wrote lr.gif (3 frames" in text
    # --quiet: nothing at all, even on a terminal.
    quiet = _on_a_terminal([sys.executable, "-m", "mlviz.cli", *train, "--quiet"], tmp_path)
    assert quiet == ""


def _on_a_terminal(command: list[str], cwd: Path) -> str:
    """What ``command`` writes when stdout and stderr are a terminal."""
    import fcntl
    import struct
    import termios

    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=side,
                               stderr=side, env={**os.environ, "MPLBACKEND": "Agg"})
    os.close(side)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


def test_help_list_and_info_import_neither_jinja2_nor_tqdm():
    code = (
        "import sys, contextlib, io\n"
        "from mlviz.cli import main\n"
        "out, err = io.StringIO(), io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
        "    main(['list']); main(['info', 'kmeans'])\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('jinja2', 'tqdm', 'PIL') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
