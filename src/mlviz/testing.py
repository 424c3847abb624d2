"""Helpers for testing algorithms, panels and scenes.

:func:`check_algorithm` is the conformance check every algorithm passes, built-in or
third-party; :func:`panel_figure` and :func:`scene_figure` give figures for pytest-mpl
(``@pytest.mark.mpl_image_compare``).

Example::

    @pytest.mark.mpl_image_compare
    def test_elbow_panel():
        prepared = mlviz.prepare("kmeans", k_max=4)
        return panel_figure(ElbowPanel(), prepared.run, frame=-1)
"""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .algorithm import Algorithm
from .collisions import text_collisions
from .panel import Panel
from .renderer import Renderer
from .scene import Scene
from .theme import Theme
from .trainer import Run

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .api import Prepared

    from .plugins import Registry


def scene_figure(scene: Scene, run: Run, frame: int = -1, dpi: float = 100,
                 theme: Theme | str | None = None) -> Figure:
    """The figure of a whole scene at one frame (negative counts from the end), in
    ``theme`` (default: light)."""
    return Renderer(scene, run, dpi=dpi, theme=theme).figure_at(frame)


def panel_figure(
    panel: Panel, run: Run, frame: int = -1, figsize: tuple[float, float] = (4.8, 4.0),
    dpi: float = 100, theme: Theme | str | None = None,
) -> Figure:
    """The figure of a single panel at one frame."""
    return scene_figure(Scene([panel], figsize=figsize), run, frame, dpi, theme)


def outside_frame(fig: Figure, tolerance: float = 2.0) -> list[str]:
    """What of a drawn figure reaches past its edges, by more than ``tolerance`` pixels:
    each panel (with its titles, labels and ticks), figure texts, the suptitle and figure
    legends. Empty when everything is in the frame (check posters at ``font_scale``)."""
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    items: list[tuple[str, Any]] = [(f"panel '{ax.get_title()}'", ax) for ax in fig.axes
                                    if ax.get_visible()]
    items += [(f"text '{t.get_text()}'", t) for t in fig.texts
              if t.get_visible() and t.get_text()]
    items += [("figure legend", legend) for legend in fig.legends]
    if fig._suptitle is not None and fig._suptitle.get_text():
        items.append((f"title '{fig._suptitle.get_text()}'", fig._suptitle))
    out = []
    for label, artist in items:
        box = artist.get_tightbbox(renderer)
        if box is None:
            continue
        if box.x0 < -tolerance or box.y0 < -tolerance or box.x1 > width + tolerance \
                or box.y1 > height + tolerance:
            out.append(f"{label} spans x {box.x0:.0f}..{box.x1:.0f}, y {box.y0:.0f}.."
                       f"{box.y1:.0f} of a {width:.0f}x{height:.0f} frame")
    return out


#: Keyword arguments of matplotlib calls that take a colour or a colormap.
COLOUR_KEYWORDS = frozenset({
    "c", "color", "colors", "facecolor", "facecolors", "edgecolor", "edgecolors", "fc", "ec",
    "mfc", "mec", "markerfacecolor", "markeredgecolor", "markerfacecoloralt", "foreground",
    "cmap", "labelcolor", "backgroundcolor", "textcolor", "ecolor", "hatchcolor",
})
_NOT_A_COLOUR = frozenset({"none", "face", "auto", "inherit"})


def colour_literals(source: str | Path) -> list[str]:
    """Every colour written into a panel module's code, as ``"LINE: TEXT"``: hex strings,
    a named colour or colormap given to a colour keyword, a colour in a ``plot`` format
    string (``"k--"``), a tuple of numbers given as a colour. A panel that passes this
    takes all its colours from ``self.theme`` and so follows ``--theme``. ``source`` is a
    file's path or its text."""
    import re

    import matplotlib
    from matplotlib.colors import is_color_like

    text = Path(source).read_text() if isinstance(source, Path) else source
    tree = ast.parse(text)
    found: list[str] = []
    hex_colour = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")

    def named(value: object) -> bool:
        if not isinstance(value, str) or value.lower() in _NOT_A_COLOUR:
            return False
        return is_color_like(value) or value in matplotlib.colormaps

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and hex_colour.fullmatch(node.value.strip()):
            report(node, repr(node.value))
        elif isinstance(node, ast.keyword) and node.arg in COLOUR_KEYWORDS:
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) and \
                not _number_tuple(node.value) else [node.value]
            for value in values:
                if isinstance(value, ast.Constant) and named(value.value) \
                        and not hex_colour.fullmatch(value.value.strip()):
                    report(value, f"{node.arg}={value.value!r}")
                elif _number_tuple(value):
                    report(value, f"{node.arg}={ast.unparse(value)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("plot", "plot3D", "semilogy", "semilogx", "loglog"):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                        and _format_colour(arg.value):
                    report(arg, f"format {arg.value!r}")
    return sorted(set(found), key=lambda item: int(item.split(":")[0]))


def _module_colour_literals(module: str) -> list[str]:
    """:func:`colour_literals` of an imported module's source file (none if it has none)."""
    import importlib
    import inspect

    try:
        path = inspect.getsourcefile(importlib.import_module(module))
    except (TypeError, ImportError):
        return []
    return colour_literals(Path(path)) if path else []


def _number_tuple(node: ast.AST) -> bool:
    return isinstance(node, (ast.Tuple, ast.List)) and 3 <= len(node.elts) <= 4 and all(
        isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) for e in node.elts)


def _format_colour(fmt: str) -> bool:
    """Whether a ``plot`` format string like ``"ko"`` or ``"C1--"`` names a colour."""
    from matplotlib.axes._base import _process_plot_format

    try:
        return _process_plot_format(fmt)[2] is not None
    except ValueError:
        return False


#: What :func:`check_algorithm` checks, in order (the names its failures start with).
CHECKS = (
    "imports", "help", "frames-1", "frames-2", "determinism", "formats",
    "poster-independent-of-frames", "themes", "colours", "requirements", "record-round-trip",
)


def check_algorithm(
    algorithm: str | Algorithm, *, registry: Registry | None = None, **overrides: Any
) -> None:
    """Check what every mlviz algorithm must do, built-in or third-party.

    Call it in a plugin's own tests, with hyperparameters that train quickly::

        def test_conformance():
            check_algorithm("knn", k_max=5)

    It raises ``AssertionError`` naming the first failed check (see :data:`CHECKS`):
    registering it imports neither matplotlib nor torch; every hyperparameter has help
    text; ``--frames 1`` and ``--frames 2`` render; the same seed gives the same run
    (losses, traces, snapshots); GIF, MP4 and a PNG poster are written and decode with the
    right frame counts; the poster does not depend on ``--frames``; it draws in the dark
    theme, on a dark background; the panels' modules name no colour (they take them from
    ``self.theme``, see :func:`colour_literals`); the scene's panels find the fields and
    traces they need; and a run record saved and loaded back renders the same frames.
    """
    from .api import prepare
    from .plugins import load_registry
    from .record import load_run, save_run

    registry = registry or load_registry()
    if isinstance(algorithm, str):
        algorithm = registry.get(algorithm)
    name = algorithm.name
    registered = registry.algorithms.get(name) is algorithm
    if not registered:  # an Algorithm object not installed as a plugin: records find it too
        registry = dataclasses.replace(registry, algorithms={**registry.algorithms,
                                                             name: algorithm})

    def fail(check: str, message: str) -> None:
        raise AssertionError(f"check_algorithm({name!r}) {check}: {message}")

    if registered and algorithm.plugin:
        imported = _modules_imported_by_registering(algorithm.plugin)
        if imported:
            fail("imports", f"registering it imports {', '.join(imported)}; import them "
                            "inside trainer and panel methods instead")
    for info in algorithm.config.params():
        if not info.help.strip():
            fail("help", f"hyperparameter '{info.name}' has no help text")

    one = prepare(algorithm, frames=1, registry=registry, **overrides)
    if one.run.n_frames != 1 or one.run.snapshots[-1].epoch != int(one.run.epochs[-1]):
        fail("frames-1", "--frames 1 must draw exactly the last snapshot")
    two = prepare(algorithm, frames=2, registry=registry, **overrides)
    if two.run.n_frames > 2 or two.run.snapshots[-1].epoch != int(two.run.epochs[-1]):
        fail("frames-2", "--frames 2 must draw at most 2 snapshots, ending on the last")
    same, why = runs_equal(one.run, two.run)
    if not same:
        fail("determinism", f"two runs with the same seed differ: {why}")

    with tempfile.TemporaryDirectory(prefix="mlviz-check-") as folder:
        from .api import write_animation

        for suffix in (".gif", ".mp4", ".png"):
            path = Path(folder, f"two{suffix}")
            try:
                write_animation(two, path, hold=0)  # MP4: no extra hold frames
            except Exception as exc:
                fail("formats", f"writing {suffix} failed: {type(exc).__name__}: {exc}")
            expected = 1 if suffix == ".png" else two.run.n_frames
            decoded = decoded_frames(path)
            if len(decoded) != expected:
                fail("formats", f"{suffix} decodes to {len(decoded)} frames, not {expected}")

    full = prepare(algorithm, registry=registry, **overrides)
    poster_full = full.renderer().frames(indices=[full.run.n_frames - 1])
    poster_two = two.renderer().frames(indices=[two.run.n_frames - 1])
    a, b = next(iter(poster_full)), next(iter(poster_two))
    if a.shape != b.shape or not np.array_equal(a, b):
        differ = 1.0 if a.shape != b.shape else float(np.mean(np.any(a != b, axis=2)))
        fail("poster-independent-of-frames",
             f"the last frame with --frames 2 differs from the default one in {differ:.2%} of "
             "its pixels: draw curves, paths and limits from run traces, not from the drawn "
             "snapshots")
    try:
        dark = next(iter(two.styled(theme="dark").renderer().frames(
            indices=[two.run.n_frames - 1])))
    except Exception as exc:
        fail("themes", f"drawing with --theme dark failed: {type(exc).__name__}: {exc}")
    if np.median(dark @ np.array([0.2126, 0.7152, 0.0722])) > 96:
        fail("themes", "with --theme dark the poster is mostly light: a panel paints its own "
                       "background; take its colours from self.theme")
    for module in sorted({type(panel).__module__ for panel in full.scene.panels}):
        found = _module_colour_literals(module)
        if found:
            fail("colours", f"{module} names colours ({'; '.join(found[:3])}"
                            f"{'; …' if len(found) > 3 else ''}): take them from self.theme "
                            "so the panels follow --theme")
    try:
        full.scene.check(full.run, name)
    except Exception as exc:
        fail("requirements", str(exc))

    with tempfile.TemporaryDirectory(prefix="mlviz-check-") as folder:
        path = Path(folder, "run.npz")
        save_run(two, path)
        loaded = load_run(path, registry=registry)
        same, why = runs_equal(two.run, loaded.run)
        if not same:
            fail("record-round-trip", f"the loaded run differs: {why}")
        for i, (x, y) in enumerate(zip(two.renderer().frames(), loaded.renderer().frames())):
            if not np.array_equal(x, y):
                fail("record-round-trip", f"frame {i} of the loaded run differs")


def assert_frames_independent_of_budget(prepared: Prepared, frames: int = 3) -> None:
    """Draw ``frames`` of the run's snapshots and check that every one of them, the middle
    ones included, is pixel-identical to the same epoch's frame of the full run: panels read
    history from traces, never from the drawn snapshots. Raises ``AssertionError``."""
    thin = prepared.with_frames(frames)
    epochs = [s.epoch for s in prepared.run.snapshots]
    picks = [epochs.index(s.epoch) for s in thin.run.snapshots]
    if len(picks) < 3 or picks[1] in (picks[0] + 1, picks[-1] - 1):
        raise AssertionError(f"the run is too short to leave out snapshots between {frames} "
                             "frames; use a longer run")
    full = prepared.renderer().frames(indices=picks)
    for i, (a, b) in enumerate(zip(full, thin.renderer().frames())):
        if not np.array_equal(a, b):
            raise AssertionError(f"frame of epoch {epochs[picks[i]]} differs when {frames} "
                                 "frames are drawn instead of all")


def runs_equal(a: Run, b: Run) -> tuple[bool, str]:
    """Whether two runs hold the same history and final state; if not, what differs."""
    if not np.array_equal(a.epochs, b.epochs):
        return False, "epochs"
    if not np.array_equal(a.losses, b.losses, equal_nan=True):
        return False, "losses"
    if set(a.traces) != set(b.traces):
        return False, f"traces {sorted(a.traces)} against {sorted(b.traces)}"
    for key in a.traces:
        if not _same(a.traces[key], b.traces[key]):
            return False, f"trace '{key}'"
    last_a, last_b = a.snapshots[-1], b.snapshots[-1]
    if type(last_a) is not type(last_b):
        return False, "snapshot classes"
    for field in dataclasses.fields(last_a):
        if not _same(getattr(last_a, field.name), getattr(last_b, field.name)):
            return False, f"the last snapshot's '{field.name}'"
    return True, ""


def decoded_frames(path: str | Path) -> list[np.ndarray]:
    """Every frame of a GIF, MP4 or PNG file, decoded (RGB arrays)."""
    path = Path(path)
    if path.suffix.lower() == ".mp4":
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        width, height = meta["size"]
        return [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, Mapping) and isinstance(y, Mapping):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape or x.dtype.kind != y.dtype.kind:
            return False
        return bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
    if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
        return True
    return x == y


def _modules_imported_by_registering(plugin: str) -> list[str]:
    """The heavy modules (matplotlib, torch) that loading ``plugin``'s entry point imports."""
    entry_point = plugin.split(" (")[0]
    code = (
        "import sys\n"
        "from importlib import metadata\n"
        f"points = [p for p in metadata.entry_points(group='mlviz') if p.name == {entry_point!r}]\n"
        "for point in points:\n"
        "    module = point.load()\n"
        "    for hook in ('mlviz_algorithms', 'mlviz_panels'):\n"
        "        getattr(module, hook, lambda: None)()\n"
        "print(' '.join(m for m in ('matplotlib', 'torch') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})
    if result.returncode != 0:
        raise AssertionError(f"loading plugin {plugin} failed: {result.stderr.strip()[-500:]}")
    return result.stdout.split()
