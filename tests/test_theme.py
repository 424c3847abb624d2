"""Themes: the palette is colour-blind safe, panels hold no colours, and the look options
(--theme, --size, --font-scale, --panel) do what they say."""

from __future__ import annotations

import types
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mlviz
from mlviz import hookimpl
from mlviz.api import parse_size, prepare
from mlviz.colorvision import check_palette, palette_distances, simulate
from mlviz.errors import MlvizError
from mlviz.plugins import build_registry, get_plugin_manager, register_plugin
from mlviz.scene import Scene
from mlviz.testing import colour_literals, outside_frame
from mlviz.theme import CORE_THEMES, DARK, LIGHT, TRANSPARENT, make_theme, resolve_theme

REPO = Path(__file__).resolve().parents[1]
#: Every module that draws: the built-in plugins, the core panels and the example plugin.
DRAWING_MODULES = sorted([
    *REPO.glob("plugins/*/*.py"), *REPO.glob("src/mlviz/panels/*.py"),
    REPO / "src/mlviz/renderer.py", REPO / "src/mlviz/composition.py",
    REPO / "src/mlviz/caption.py", *REPO.glob("src/mlviz/sweep/*.py"),
    *REPO.glob("examples/mlviz-knn/src/mlviz_knn/*.py"),
])
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


@pytest.mark.parametrize("path", DRAWING_MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_colour_literals_in_panel_modules(path):
    assert colour_literals(path) == [], f"{path.name} names colours instead of using self.theme"


def test_the_colour_literal_scan_finds_every_kind():
    source = (
        "ax.plot(x, y, 'k--')\n"
        "ax.scatter(x, y, c='#1f77b4')\n"
        "ax.imshow(z, cmap='RdBu')\n"
        "ax.bar(x, y, color=(0.2, 0.4, 0.6))\n"
        "ax.plot(x, y, color='C3', mec='white')\n"
        "ax.scatter(x, y, facecolors='none', color=self.theme.ink)\n"
        "ax.plot(x, y, '-o', color=theme.color(2))\n"
    )
    found = colour_literals(source)
    assert [line.split(":")[0] for line in found] == ["1", "2", "3", "4", "5", "5"]


@pytest.mark.parametrize("theme", CORE_THEMES, ids=lambda t: t.name)
def test_palettes_stay_distinct_for_colour_blind_readers(theme):
    assert check_palette(theme.palette, theme.background) == []
    assert check_palette([theme.negative, theme.positive, theme.good], theme.background) == []


def test_the_check_rejects_a_palette_that_fails_red_green_readers():
    problems = check_palette(TAB10)
    assert any(p.startswith("protanopia") for p in problems)
    assert any(p.startswith("deuteranopia") for p in problems)
    assert not any(p.startswith("normal") for p in problems)


def test_simulation_matches_known_values():
    # Pure red looks dark olive to a protanope; grey stays grey for every reader.
    red = simulate(["#ff0000"], "protanopia")[0]
    assert red[0] < simulate(["#ff0000"], None)[0][0] - 5  # darker
    for kind in ("protanopia", "deuteranopia", "tritanopia"):
        grey = simulate(["#808080"], kind)[0]
        assert abs(grey[1]) < 1.5 and abs(grey[2]) < 1.5
    assert palette_distances(["#000000", "#ffffff"])["normal"][0] == pytest.approx(100, abs=0.5)


def test_markers_and_line_styles_are_a_second_channel():
    theme = LIGHT
    n = len(theme.palette)
    for i in range(2 * n):
        if i + n < 3 * n:
            assert theme.color(i) == theme.color(i + n)
            assert theme.marker(i) != theme.marker(i + n)
            assert theme.linestyle(i) != theme.linestyle(i + n)
    assert len({theme.marker(i) for i in range(n)}) == n


def test_font_scale_multiplies_every_size():
    big = LIGHT.scaled(1.5)
    for key in ("font.size", "axes.titlesize", "xtick.labelsize", "legend.fontsize"):
        assert big.rc[key] == pytest.approx(LIGHT.rc[key] * 1.5)
    assert big.fontsize(8) == 12
    assert big.scaled(1.0).rc["axes.titlesize"] == pytest.approx(LIGHT.rc["axes.titlesize"])
    with pytest.raises(MlvizError, match="between 0.5 and 1.5"):
        LIGHT.scaled(2)


def test_unknown_theme_names_the_closest():
    with pytest.raises(MlvizError, match="unknown theme 'drak'. Did you mean 'dark'"):
        resolve_theme("drak")


def test_a_plugin_adds_a_theme_through_the_hook():
    sepia = make_theme("sepia", palette=LIGHT.palette, background="#F4ECD8", text="#3B2F2F",
                       ink="#3B2F2F", muted="#7A6A5A", faint="#D8CBB0", edge="#000000",
                       halo="#F4ECD8", loss="#D55E00", negative="#0072B2",
                       positive="#D55E00", good="#009E73", accent="#D55E00",
                       neutral="#EFE6D0")
    module = types.ModuleType("sepia_plugin")
    module.mlviz_themes = hookimpl(lambda: [sepia, "not a theme", replace(sepia, name="Bad/")])
    pm, warnings = get_plugin_manager(load_entry_points=False)
    register_plugin(pm, "core-themes", lambda: mlviz.theme)
    register_plugin(pm, "sepia (sepia 1.0)", lambda: module)
    from mlviz.registry import PluginWarning

    with pytest.warns(PluginWarning) as caught:
        registry = build_registry(pm, warnings)
    assert list(registry.themes) == ["light", "dark", "transparent", "sepia"]
    assert len(registry.warnings) == 2
    assert [str(w.message) for w in caught] == registry.warnings
    assert resolve_theme("sepia", registry) is sepia
    taken = types.ModuleType("taken_plugin")
    taken.mlviz_themes = hookimpl(lambda: [replace(sepia, palette=("#000000",))])
    register_plugin(pm, "other (other 2.0)", lambda: taken)
    with pytest.warns(PluginWarning) as caught:
        assert build_registry(pm).themes["sepia"] is sepia  # the first one keeps it
    assert ("plugin other (other 2.0) registers theme 'sepia', already taken by sepia "
            "(sepia 1.0); ignored") in [str(w.message) for w in caught]


def _poster(prepared) -> np.ndarray:
    renderer = prepared.renderer()
    return next(iter(renderer.frames(indices=[prepared.run.n_frames - 1])))


def _luminance(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., :3] @ np.array([0.2126, 0.7152, 0.0722])


@pytest.fixture(scope="module")
def linreg():
    return prepare("linear-regression", frames=3, epochs=30)


def test_a_dark_poster_is_dark_with_light_text(linreg):
    light = _luminance(_poster(linreg.styled(theme="light")))
    dark = _luminance(_poster(linreg.styled(theme="dark")))
    assert np.median(light) > 230 and np.median(dark) < 50
    assert (dark > 200).mean() > 0.002  # titles and tick labels are light
    assert (light < 60).mean() > 0.002


def test_a_transparent_poster_lets_the_slide_show_through(linreg, tmp_path):
    frame = _poster(linreg.styled(theme="transparent"))
    assert frame.shape[2] == 4
    assert np.median(frame[..., 3]) == 0  # background
    assert (frame[..., 3] > 0).mean() > 0.03  # the drawing
    out = mlviz.api.write_animation(linreg.styled(theme="transparent"), tmp_path / "t.png")
    assert out == 1 and Image.open(tmp_path / "t.png").mode == "RGBA"
    with pytest.raises(MlvizError, match=r"transparent background, which \.gif cannot store"):
        mlviz.api.write_animation(linreg.styled(theme="transparent"), tmp_path / "t.gif")
    assert not (tmp_path / "t.gif").exists()


def test_size_sets_the_pixels_and_keeps_the_layout(linreg):
    big = linreg.styled(size="1920x1080")
    assert big.renderer().frame_size == (1920, 1080)
    for size in ("1920x1080", "1919x1079", "1000x333", "640x360"):
        w, h = parse_size(size)
        assert _poster(linreg.styled(size=size)).shape[:2] == (h, w), size
    assert big.scene.figsize == pytest.approx(linreg.scene.figsize)  # same 16:9 layout
    square = linreg.styled(size=(800, 800))
    assert square.renderer().frame_size == (800, 800)
    w, h = linreg.scene.figsize
    assert square.scene.figsize[0] * square.scene.figsize[1] == pytest.approx(w * h)
    for bad, message in (("1920", "WIDTHxHEIGHT"), ("axb", "WIDTHxHEIGHT"),
                         ("8x8", "8 pixels is under 144"), ("90000x100", "8192")):
        with pytest.raises(MlvizError, match=message):
            parse_size(bad)


def test_one_panel_alone(linreg):
    alone = linreg.styled(panel="linreg-loss")
    assert [type(p).name for p in alone.scene.panels] == ["linreg-loss"]
    frame = _poster(alone)
    assert frame.shape[:2] == (720, 1280)  # --panel follows the one frame-size rule
    with pytest.raises(MlvizError, match="no panel 'nope'.*linreg-fit, linreg-surface"):
        linreg.styled(panel="nope")


def test_a_panel_name_shared_by_several_needs_its_number():
    class Dummy(mlviz.Panel):
        name = "dummy"

    scene = Scene([Dummy(), Dummy(), Dummy()], title="t")
    with pytest.raises(MlvizError, match="3 panels 'dummy'.*dummy:1 to dummy:3"):
        scene.only("dummy")
    assert scene.only("dummy:2").panels[0] is scene.panels[1]
    with pytest.raises(MlvizError, match="dummy:1 to dummy:3"):
        scene.only("dummy:4")


def test_panels_read_the_theme_they_are_drawn_with(linreg):
    seen = []

    class Spy(mlviz.Panel):
        name = "spy"

        def setup(self, ax, run):
            seen.append(self.theme.name)
            self.line, = ax.plot([0, 1], [0, 1], color=self.theme.loss)

        def update(self, snapshot):
            return [self.line]

    scene = Scene([Spy()])
    from mlviz.renderer import Renderer

    for name in ("dark", "light"):
        fig = Renderer(scene, linreg.run, theme=name).figure_at()
        assert fig.axes[0].lines[0].get_color() == resolve_theme(name).loss
    assert seen == ["dark", "light"]
    assert TRANSPARENT.transparent and not DARK.transparent


@pytest.mark.slow
def test_cli_look_options(run_cli, tmp_path):
    result = run_cli("render", "linear-regression", "--set", "epochs=20", "--frames", "2",
                     "--theme", "dark", "--size", "640x360", "--font-scale", "1.5",
                     "--panel", "linreg-fit", "-o", "out.png", "-q")
    assert result.returncode == 0, result.stderr
    image = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    assert image.shape == (360, 640, 3)
    assert np.median(_luminance(image)) < 50
    result = run_cli("render", "linear-regression", "--size", "640x360", "--dpi", "80", "-q")
    assert result.returncode == 2 and "not both" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_cli("render", "linear-regression", "--theme", "sepia", "-q")
    assert result.returncode == 2 and "unknown theme 'sepia'" in result.stderr


@pytest.mark.slow
def test_every_built_in_scene_keeps_its_text_in_the_frame_at_the_font_scales():
    from mlviz.theme import MAX_FONT_SCALE, MIN_FONT_SCALE
    from test_conformance import FAST

    problems = {}
    for name, fast in FAST.items():
        prepared = prepare(name, frames=2, **fast)
        for scale in (MIN_FONT_SCALE, MAX_FONT_SCALE):
            found = outside_frame(prepared.styled(font_scale=scale).renderer().figure_at(-1))
            if found:
                problems[f"{name} at {scale:g}"] = found
    assert problems == {}


def test_a_theme_context_closed_from_another_context_does_not_fail(linreg):
    """A frames() generator finalized elsewhere (a notebook's garbage collector) closes its
    theme context in a context it was not opened in."""
    import contextvars

    frames = linreg.styled(theme="dark").renderer().frames()
    contextvars.copy_context().run(next, frames)
    frames.close()  # here, not in the copied context
    from mlviz.theme import current_theme

    assert current_theme().name == "light"


def test_outside_frame_sees_a_title_past_the_edge():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title("a title")
    fig.canvas.draw()
    assert outside_frame(fig) == []
    ax.set_title("a title far too long to fit in a figure three inches wide", fontsize=14)
    fig.canvas.draw()
    assert outside_frame(fig) and "a title far too long" in outside_frame(fig)[0]


class _Bowl3D(mlviz.Panel):
    """A 3D surface whose tick labels reach past a small frame."""

    name = "bowl-3d"
    projection = "3d"

    def setup(self, ax, run):
        grid = np.linspace(-2, 2, 9)
        x, y = np.meshgrid(grid, grid)
        ax.plot_surface(x, y, x ** 2 + y ** 2, cmap=self.theme.cmap("surface"))
        ax.tick_params(labelsize=self.theme.fontsize(13))
        ax.set_xlabel("a long axis label", fontsize=self.theme.fontsize(13))
        (self.dot,) = ax.plot([0], [0], [0], "o", color=self.theme.loss)

    def update(self, snapshot):
        return [self.dot]


def test_3d_tick_labels_are_pulled_inside_the_frame(linreg):
    from mlviz.renderer import Renderer

    renderer = Renderer(Scene([_Bowl3D()], figsize=(3.2, 2.4)), linreg.run)
    fig = renderer.figure_at(-1)
    assert outside_frame(fig) == []
    # The animation's frame has the same layout as the poster figure (only the blitted dot
    # may differ where it meets the surface).
    frame = next(iter(renderer.frames(indices=[linreg.run.n_frames - 1])))
    poster = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    assert np.any(frame != poster, axis=2).mean() < 0.005
