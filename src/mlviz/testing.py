"""Helpers for testing algorithms, panels and scenes.

:func:`check_algorithm` is the conformance check every algorithm passes, built-in or
third-party (:func:`algorithm_checks` and :func:`parametrize_checks` give its checks as
separate pytest cases); :func:`panel_figure` and :func:`scene_figure` give figures for
pytest-mpl (``@pytest.mark.mpl_image_compare``).

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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from .algorithm import Algorithm
from .collisions import text_collisions as text_collisions  # public: mlviz.testing.text_collisions
from .contrast import low_contrast_texts
from .panel import Panel
from .renderer import Renderer
from .scene import Scene
from .snapshot import Snapshot
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
    legends. Empty when everything is in the frame (check posters at ``font_scale``).
    A figure mlviz drew is measured in its theme, as it is drawn."""
    theme = getattr(fig, "mlviz_theme", None)
    if theme is not None:
        with theme.context():
            return _outside_frame(fig, tolerance)
    return _outside_frame(fig, tolerance)


def _outside_frame(fig: Figure, tolerance: float) -> list[str]:
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg canvases
    width, height = fig.bbox.width, fig.bbox.height
    items: list[tuple[str, Any]] = [(f"panel '{ax.get_title()}'", ax) for ax in fig.axes
                                    if ax.get_visible()]
    items += [(f"text '{t.get_text()}'", t) for t in fig.texts
              if t.get_visible() and t.get_text()]
    items += [("figure legend", legend) for legend in fig.legends]
    suptitle = getattr(fig, "_suptitle", None)  # no public getter of the artist
    if suptitle is not None and suptitle.get_text():
        items.append((f"title '{suptitle.get_text()}'", suptitle))
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

    def report(node: ast.expr | ast.keyword, what: str) -> None:
        found.append(f"{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and hex_colour.fullmatch(node.value.strip()):
            report(node, repr(node.value))
        elif isinstance(node, ast.keyword) and node.arg in COLOUR_KEYWORDS:
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) and \
                not _number_tuple(node.value) else [node.value]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str) \
                        and named(value.value) and not hex_colour.fullmatch(value.value.strip()):
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
    # No public API parses a format string: matplotlib's own parser.
    from matplotlib.axes._base import _process_plot_format  # type: ignore[attr-defined]

    try:
        return _process_plot_format(fmt)[2] is not None
    except ValueError:
        return False


#: What :func:`check_algorithm` checks, in order (the names its failures start with).
CHECKS = (
    "imports", "help", "frames-1", "frames-2", "determinism", "formats",
    "poster-independent-of-frames", "themes", "colours", "requirements", "record-round-trip",
    "story",
)


class _Subject:
    """What the checks of one algorithm share: the registry, and one training (lazily,
    on the first check that needs it, then kept for the others)."""

    def __init__(self, algorithm: str | Algorithm, registry: Registry | None,
                 overrides: Mapping[str, Any]) -> None:
        from .session import registry as session_registry

        registry = session_registry(registry)
        if isinstance(algorithm, str):
            algorithm = registry.get(algorithm)
        self.algorithm = algorithm
        self.name = algorithm.name
        self.registered = registry.algorithms.get(self.name) is algorithm
        if not self.registered:  # an Algorithm not installed as a plugin: records find it too
            registry = dataclasses.replace(registry, algorithms={**registry.algorithms,
                                                                 self.name: algorithm})
        self.registry = registry
        self.overrides = dict(overrides)
        self._full: Prepared | None = None
        self._error: BaseException | None = None
        self._two_poster: np.ndarray | None = None

    def fail(self, check: str, message: str) -> NoReturn:
        raise AssertionError(f"check_algorithm({self.name!r}) {check}: {message}")

    def full(self, check: str) -> Prepared:
        """The run trained once with the default frames (every check reuses it)."""
        from .api import Prepared, prepare

        if self._full is None and self._error is None:
            try:
                prepared = prepare(self.algorithm, registry=self.registry, **self.overrides)
                assert isinstance(prepared, Prepared), "a sweep is not checked"
                self._full = prepared
            except Exception as exc:
                self._error = exc
        if self._full is None:
            self.fail(check, f"training failed: {type(self._error).__name__}: {self._error}")
        return self._full

    def forget(self) -> None:
        """Drop the trained run (a later check trains again)."""
        self._full, self._error, self._two_poster = None, None, None

    def two(self, check: str) -> Prepared:
        """The same run drawn with 2 frames, ending on the last."""
        return self.full(check).with_frames(2)

    def two_poster(self, check: str) -> np.ndarray:
        """The last frame of :meth:`two`, drawn alone, once for the checks that use it."""
        if self._two_poster is None:
            self._two_poster = _poster(self.two(check))
        return self._two_poster


def _check_imports(subject: _Subject) -> None:
    if subject.registered and subject.algorithm.plugin:
        imported = _modules_imported_by_registering(subject.algorithm.plugin)
        if imported:
            subject.fail("imports", f"registering it imports {', '.join(imported)}; import "
                                    "them inside trainer and panel methods instead")


def _check_help(subject: _Subject) -> None:
    terse = [info.name for info in subject.algorithm.config.params() if not info.help.strip()]
    if terse:
        subject.fail("help", "; ".join(f"hyperparameter '{name}' has no help text"
                                       for name in terse))


def _budget_frames(subject: _Subject, check: str, frames: int) -> list[int]:
    """The epochs ``--frames N`` draws, found by replaying the frame keeper over the
    recorded epochs (what :func:`mlviz.train` does with a budget, without training again)."""
    from .trainer import FrameKeeper

    full = subject.full(check)
    keeper = FrameKeeper(subject.algorithm.schedule(full.config).with_budget(frames))
    stand_ins = [Snapshot(int(epoch), 0.0) for epoch in full.run.epochs]
    for snapshot in stand_ins:
        keeper.add(snapshot)
    return [s.epoch for s in keeper.chosen(stand_ins[-1])]


def _check_frames(frames: int) -> Callable[[_Subject], None]:
    def check(subject: _Subject) -> None:
        name = f"frames-{frames}"
        epochs = _budget_frames(subject, name, frames)
        last = int(subject.full(name).run.epochs[-1])
        if len(epochs) > frames or (frames == 1 and len(epochs) != 1) or epochs[-1] != last:
            subject.fail(name, f"--frames {frames} draws epochs {epochs}: it must draw "
                               f"{'exactly' if frames == 1 else 'at most'} {frames}, ending "
                               f"on the last ({last})")
    return check


def _check_determinism(subject: _Subject) -> None:
    from .trainer import train

    full = subject.full("determinism")
    algorithm, config = subject.algorithm, full.config
    again = train(algorithm.trainer(config), full.run.dataset, config,
                  algorithm.schedule(config).with_budget(2),
                  traces=tuple(full.run.traces))
    same, why = runs_equal(full.run, again)
    if not same:
        subject.fail("determinism", f"two runs with the same seed differ: {why}")


def _check_formats(subject: _Subject) -> None:
    from .api import write_animation

    two = subject.two("formats")
    problems = []
    with tempfile.TemporaryDirectory(prefix="mlviz-check-") as folder:
        for suffix in (".gif", ".mp4", ".png"):
            path = Path(folder, f"two{suffix}")
            try:
                write_animation(two, path, hold=0, jobs=1)  # MP4: no extra hold frames
            except Exception as exc:
                problems.append(f"writing {suffix} failed: {type(exc).__name__}: {exc}")
                continue
            expected = 1 if suffix == ".png" else two.run.n_frames
            decoded = decoded_frames(path)
            if len(decoded) != expected:
                problems.append(f"{suffix} decodes to {len(decoded)} frames, not {expected}")
    if problems:
        subject.fail("formats", "; ".join(problems))


def _poster(prepared: Prepared) -> np.ndarray:
    return next(iter(prepared.renderer().frames(indices=[prepared.run.n_frames - 1])))


def _check_poster(subject: _Subject) -> None:
    check = "poster-independent-of-frames"
    a, b = _poster(subject.full(check)), subject.two_poster(check)
    if a.shape != b.shape or not np.array_equal(a, b):
        differ = 1.0 if a.shape != b.shape else float(np.mean(np.any(a != b, axis=2)))
        subject.fail(check, f"the last frame with --frames 2 differs from the default one in "
                            f"{differ:.2%} of its pixels: draw curves, paths and limits from "
                            "run traces, not from the drawn snapshots")


def _check_themes(subject: _Subject) -> None:
    two = subject.two("themes")
    try:
        fig = Renderer(two.scene, two.run, theme="dark").figure_at(-1)
    except AssertionError:
        raise
    except Exception as exc:
        subject.fail("themes", f"drawing with --theme dark failed: {type(exc).__name__}: {exc}")
    dark = np.asarray(fig.canvas.buffer_rgba())[..., :3]  # type: ignore[attr-defined]  # Agg
    if np.median(dark @ np.array([0.2126, 0.7152, 0.0722])) > 96:
        subject.fail("themes", "with --theme dark the poster is mostly light: a panel paints "
                               "its own background; take its colours from self.theme")
    found = low_contrast_texts(fig)
    if found:
        subject.fail("themes", f"with --theme dark, {'; '.join(found[:3])}: take box colours "
                               "from self.theme (theme.halo behind theme.ink)")


def _check_colours(subject: _Subject) -> None:
    problems = []
    for module in sorted({type(panel).__module__ for panel in subject.full("colours").scene.panels}):
        found = _module_colour_literals(module)
        if found:
            problems.append(f"{module} names colours ({'; '.join(found[:3])}"
                            f"{'; …' if len(found) > 3 else ''})")
    if problems:
        subject.fail("colours", "; ".join(problems) + ": take them from self.theme so the "
                                                      "panels follow --theme")


def _check_requirements(subject: _Subject) -> None:
    full = subject.full("requirements")
    try:
        full.scene.check(full.run, subject.name)
    except Exception as exc:
        subject.fail("requirements", str(exc))


def _check_record(subject: _Subject) -> None:
    from .record import load_run, save_run

    two = subject.two("record-round-trip")
    with tempfile.TemporaryDirectory(prefix="mlviz-check-") as folder:
        path = Path(folder, "run.npz")
        save_run(two, path)
        loaded = load_run(path, registry=subject.registry)
    if not isinstance(loaded.run, Run):
        subject.fail("record-round-trip", "the record loads as a sweep")
    same, why = runs_equal(two.run, loaded.run)
    if not same:
        subject.fail("record-round-trip", f"the loaded run differs: {why}")
    if not np.array_equal(subject.two_poster("record-round-trip"), _poster(loaded)):
        subject.fail("record-round-trip", "the loaded run's last frame differs")


def _check_story(subject: _Subject) -> None:
    from .story import story_problems

    if subject.algorithm.story is None:
        return
    full = subject.full("story")
    try:
        story = subject.algorithm.story(full.config, full.run)
    except Exception as exc:
        subject.fail("story", f"the story function failed: {type(exc).__name__}: {exc}")
    problems = story_problems(story, [int(epoch) for epoch in full.run.epochs])
    if problems:
        subject.fail("story", "; ".join(problems))


_CHECK_FUNCTIONS: dict[str, Callable[[_Subject], None]] = {
    "imports": _check_imports, "help": _check_help, "frames-1": _check_frames(1),
    "frames-2": _check_frames(2), "determinism": _check_determinism,
    "formats": _check_formats, "poster-independent-of-frames": _check_poster,
    "themes": _check_themes, "colours": _check_colours, "requirements": _check_requirements,
    "record-round-trip": _check_record, "story": _check_story,
}


class Check:
    """One check of one algorithm: call it (no argument) to run it; it raises
    ``AssertionError`` on failure. ``str(check)`` is its id, ``ALGORITHM:CHECK``."""

    def __init__(self, subject: _Subject, check: str) -> None:
        self.subject, self.check = subject, check
        self.id = f"{subject.name}:{check}"

    def __call__(self) -> None:
        try:
            _CHECK_FUNCTIONS[self.check](self.subject)
        finally:
            if self.check == CHECKS[-1]:  # the last one: let the run go (memory)
                self.subject.forget()

    def __repr__(self) -> str:
        return self.id

    __str__ = __repr__


def algorithm_checks(
    algorithm: str | Algorithm, *, registry: Registry | None = None, **overrides: Any
) -> list[tuple[str, Check]]:
    """Every check of :data:`CHECKS` as ``(check_id, check)`` pairs, ``check_id`` being
    ``"ALGORITHM:CHECK"`` and ``check()`` raising ``AssertionError`` if it fails. The
    algorithm is trained once, by the first check that needs a run, and the others reuse
    it; run them one test each (like scikit-learn's ``parametrize_with_checks``)::

        @pytest.mark.parametrize("check_id, check", algorithm_checks("knn", k_max=5))
        def test_conformance(check_id, check):
            check()

    or with :func:`parametrize_checks`, which gives each test its id alone.
    """
    subject = _Subject(algorithm, registry, overrides)
    return [(f"{subject.name}:{name}", Check(subject, name)) for name in CHECKS]


def parametrize_checks(
    algorithm: str | Algorithm, *, registry: Registry | None = None, **overrides: Any
) -> Any:
    """A ``pytest.mark.parametrize`` decorator giving the test one :class:`Check` per
    check, with the check's id (``knn:formats``) as the pytest id::

        @parametrize_checks("knn", k_max=5)
        def test_conformance(check):
            check()
    """
    import pytest

    checks = algorithm_checks(algorithm, registry=registry, **overrides)
    return pytest.mark.parametrize("check", [pytest.param(check, id=check_id)
                                             for check_id, check in checks])


def run_checks(
    algorithm: str | Algorithm, *, registry: Registry | None = None, **overrides: Any
) -> list[tuple[str, str]]:
    """Run every check: ``(check_id, "")`` for each that passed, ``(check_id, message)``
    for each that failed (for ``mlviz check``)."""
    results = []
    for check_id, check in algorithm_checks(algorithm, registry=registry, **overrides):
        try:
            check()
        except AssertionError as exc:
            results.append((check_id, str(exc)))
        else:
            results.append((check_id, ""))
    return results


def check_algorithm(
    algorithm: str | Algorithm, *, registry: Registry | None = None, **overrides: Any
) -> None:
    """Check what every mlviz algorithm must do, built-in or third-party.

    Call it in a plugin's own tests, with hyperparameters that train quickly::

        def test_conformance():
            check_algorithm("knn", k_max=5)

    It trains the algorithm once (and once more, without drawing, to check that the same
    seed gives the same run), runs every check of :data:`CHECKS` and raises
    ``AssertionError`` listing every failed one, a line each: registering it imports
    neither matplotlib nor torch (``imports``); every hyperparameter has help text
    (``help``); ``--frames 1`` and ``--frames 2`` draw one and at most two frames ending
    on the last epoch; the same seed gives the same run (losses, traces, last snapshot;
    ``determinism``); GIF, MP4 and a PNG poster are written and decode with the right frame
    counts (``formats``); the poster does not depend on ``--frames``; it draws in the dark
    theme, on a dark background (``themes``); the panels' modules name no colour (they take
    them from ``self.theme``, see :func:`colour_literals`; ``colours``); the scene's panels
    find the fields and traces they need (``requirements``); a run record saved and loaded
    back holds the same run and draws the same last frame (``record-round-trip``); and the
    story, when the algorithm declares one, passes :func:`mlviz.story.story_problems`
    (``story``). To run the checks as separate tests, see :func:`algorithm_checks`.
    """
    failures = [message for _, message in run_checks(algorithm, registry=registry,
                                                     **overrides) if message]
    if failures:
        raise AssertionError("\n".join(dict.fromkeys(failures)))


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
