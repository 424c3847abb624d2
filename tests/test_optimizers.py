"""optimizers: torch.optim racers checked against update rules and gradients written by hand."""

from __future__ import annotations

import numpy as np
import pytest

import mlviz
from mlviz import ConfigError
from mlviz.testing import assert_frames_independent_of_budget, panel_figure, scene_figure
from mlviz_optimizers.panels import (
    GAP_FLOOR,
    RaceContourPanel,
    RaceLossPanel,
    RaceSurfacePanel,
    backdrop_cmap,
    loss_limits,
    racer_labels,
    racer_style,
)
from mlviz_optimizers.plugin import race_scene, race_sweep_scene
from mlviz_optimizers.surfaces import OPTIMIZERS, SURFACES
from mlviz_optimizers.trainer import OptimizersConfig, RaceTrainer, race_dataset

ORDER = [key for key, _ in OPTIMIZERS]


def gradient(surface: str, x: float, y: float) -> np.ndarray:
    """∇f derived by hand (independent of torch.autograd)."""
    if surface == "rosenbrock":
        return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])
    if surface == "saddle":
        return np.array([2 * x, -2 * y + y**3])
    a, b = x**2 + y - 11, x + y**2 - 7
    return np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b])


def race(**overrides):
    config = OptimizersConfig(**overrides)
    return config, list(RaceTrainer(config).run(race_dataset(config)))


@pytest.mark.parametrize("surface", list(SURFACES))
def test_first_steps_follow_the_textbook_update_rules(surface):
    config, snaps = race(surface=surface, steps=2)
    rates = config.learning_rates()
    p0 = np.array(config.start_point())
    g0 = gradient(surface, *p0)
    at = {key: [s.positions[ORDER.index(key)] for s in snaps] for key in ORDER}
    # SGD: p1 = p0 − lr ∇f(p0)
    np.testing.assert_allclose(at["sgd"][1], p0 - rates["sgd"] * g0, rtol=1e-12)
    # momentum: v1 = g0, v2 = β v1 + g1
    lr, beta = rates["momentum"], config.momentum
    p1 = p0 - lr * g0
    np.testing.assert_allclose(at["momentum"][1], p1, rtol=1e-12)
    np.testing.assert_allclose(at["momentum"][2], p1 - lr * (beta * g0 + gradient(surface, *p1)),
                               rtol=1e-12)
    # RMSprop (alpha 0.99, eps 1e-8): v1 = 0.01 g0², p1 = p0 − lr g0 / (√v1 + eps)
    lr = rates["rmsprop"]
    np.testing.assert_allclose(at["rmsprop"][1],
                               p0 - lr * g0 / (np.sqrt(0.01 * g0**2) + 1e-8), rtol=1e-12)
    # Adam: bias-corrected m̂1 = g0, v̂1 = g0², so p1 = p0 − lr g0 / (|g0| + eps)
    lr = rates["adam"]
    np.testing.assert_allclose(at["adam"][1], p0 - lr * g0 / (np.abs(g0) + 1e-8), rtol=1e-12)
    # the values recorded are f at the recorded positions
    spec = SURFACES[surface]
    for snap in snaps:
        np.testing.assert_allclose(snap.values, spec.f(snap.positions[:, 0], snap.positions[:, 1]))
        assert snap.loss == pytest.approx(np.min(snap.values) - spec.f_min)


@pytest.mark.parametrize("surface", list(SURFACES))
def test_known_minima_are_stationary_and_lowest(surface):
    spec = SURFACES[surface]
    for x, y in spec.minima + spec.saddles:
        np.testing.assert_allclose(gradient(surface, x, y), 0.0, atol=1e-9)
        assert np.isclose(spec.f(x, y), spec.f_min) or (x, y) in spec.saddles
    # no grid point is lower than f_min, and the hand-written gradient matches finite differences
    X, Y = np.meshgrid(np.linspace(*spec.xlim, 201), np.linspace(*spec.ylim, 201))
    assert spec.f(X, Y).min() >= spec.f_min - 1e-9
    rng = np.random.default_rng(0)
    for x, y in rng.uniform([spec.xlim[0], spec.ylim[0]], [spec.xlim[1], spec.ylim[1]], (5, 2)):
        h = 1e-6
        fd = [(spec.f(x + h, y) - spec.f(x - h, y)) / (2 * h),
              (spec.f(x, y + h) - spec.f(x, y - h)) / (2 * h)]
        np.testing.assert_allclose(gradient(surface, x, y), fd, rtol=1e-5, atol=1e-4)


def test_rosenbrock_race_with_defaults():
    config, snaps = race()
    final = snaps[-1].positions
    assert len(snaps) == config.n_steps + 1 == 1001
    assert np.linalg.norm(final[ORDER.index("adam")] - (1, 1)) < 0.05
    assert np.linalg.norm(final[ORDER.index("momentum")] - (1, 1)) < 0.05
    # plain SGD at the same learning rate as momentum is still far up the valley
    assert np.linalg.norm(final[ORDER.index("sgd")] - (1, 1)) > 1.0


def test_every_step_is_traced():
    _, snaps = race(steps=30, lr_sgd=0.01)  # plain SGD diverges: its trail stops (NaN)
    run = mlviz.prepare("optimizers", steps=30, lr_sgd=0.01, frames=2).run
    assert run.n_frames == 2
    np.testing.assert_array_equal(run.trace("positions"), [s.positions for s in snaps])
    np.testing.assert_array_equal(run.trace("values"), [s.values for s in snaps])
    assert np.isnan(run.trace("values")[-1, ORDER.index("sgd")])


def test_saddle_traps_plain_sgd_longest():
    _, snaps = race(surface="saddle")
    escaped = {key: next(s.epoch for s in snaps if abs(s.positions[k, 1]) > 0.5)
               for k, key in enumerate(ORDER)}
    assert escaped["sgd"] > 2 * max(escaped[k] for k in ("momentum", "rmsprop", "adam"))


def test_himmelblau_racers_end_in_known_minima():
    _, snaps = race(surface="himmelblau")
    minima = np.array(SURFACES["himmelblau"].minima)
    ends = [np.linalg.norm(minima - p, axis=1).argmin() for p in snaps[-1].positions]
    for p, m in zip(snaps[-1].positions, ends):
        assert np.linalg.norm(minima[m] - p) < 1e-3
    assert len(set(ends)) == 2  # momentum overshoots into another basin


def test_a_diverging_racer_is_stopped_not_fatal():
    _, snaps = race(lr_sgd=0.01, steps=50)
    k = ORDER.index("sgd")
    assert np.isnan(snaps[-1].positions[k]).all() and np.isnan(snaps[-1].values[k])
    assert np.isfinite(snaps[-1].loss)
    assert np.isfinite(snaps[-1].positions[ORDER.index("adam")]).all()


def test_start_setting():
    assert OptimizersConfig(start="0.5, -1").start_point() == (0.5, -1.0)
    a = OptimizersConfig(start="random", seed=3).start_point()
    assert a == OptimizersConfig(start="random", seed=3).start_point()
    assert a != OptimizersConfig(start="random", seed=4).start_point()
    for bad in ("1", "x,y", "1,2,3", "nan,1"):
        with pytest.raises(ConfigError, match="start"):
            OptimizersConfig(start=bad)


# --- images: a short race at a fixed frame ---------------------------------------------------

@pytest.fixture(scope="module")
def prepared():
    return mlviz.prepare("optimizers", steps=200)


@pytest.fixture(scope="module")
def short_race(prepared):
    return prepared.run


def test_frames_drawn_do_not_change_the_pictures(prepared):
    """Trails and loss curves come from traces: drawing 3 of the snapshots leaves the middle
    and the last frame pixel-identical (they would lose points if built from drawn frames)."""
    assert_frames_independent_of_budget(prepared, frames=3)


@pytest.mark.mpl_image_compare
def test_contour_panel(short_race):
    return panel_figure(RaceContourPanel(), short_race, frame=-1, figsize=(4.8, 5.0))


@pytest.mark.mpl_image_compare
def test_surface_panel(short_race):
    return panel_figure(RaceSurfacePanel(), short_race, frame=-1)


@pytest.mark.mpl_image_compare
def test_loss_panel(short_race):
    return panel_figure(RaceLossPanel(), short_race, frame=30)


@pytest.mark.mpl_image_compare
def test_scene(short_race):
    return scene_figure(race_scene(short_race.config), short_race, frame=-1)


@pytest.mark.mpl_image_compare
def test_saddle_scene():
    run = mlviz.prepare("optimizers", surface="saddle", steps=150).run
    return scene_figure(race_scene(run.config), run, frame=-1)


@pytest.mark.parametrize("overrides", [{"steps": 60}, {"steps": 40, "lr_sgd": 0.01},
                                       {"surface": "himmelblau", "steps": 40}])
def test_the_race_is_torch_optim_step_for_step(overrides):
    """All racers share one graph and one backward pass, and the updates are PlainOptimizer's
    (speed); the oracle is torch.optim's classes, one autograd pass per racer."""
    torch = pytest.importorskip("torch")

    config, snaps = race(**overrides)
    spec = SURFACES[config.surface]
    rates = config.learning_rates()
    points = [torch.tensor(config.start_point(), dtype=torch.float64, requires_grad=True)
              for _ in ORDER]
    kinds = {"sgd": lambda p: torch.optim.SGD([p], lr=rates["sgd"]),
             "momentum": lambda p: torch.optim.SGD([p], lr=rates["momentum"],
                                                   momentum=config.momentum),
             "rmsprop": lambda p: torch.optim.RMSprop([p], lr=rates["rmsprop"]),
             "adam": lambda p: torch.optim.Adam([p], lr=rates["adam"])}
    optimizers = [kinds[key](p) for key, p in zip(ORDER, points)]
    active = [True] * len(ORDER)
    for snap in snaps:
        for k, (point, opt) in enumerate(zip(points, optimizers)):
            if not active[k]:
                assert np.isnan(snap.positions[k]).all()
                continue
            opt.zero_grad()
            value = spec.f(point[0], point[1])
            xy = point.detach().numpy()
            if not (torch.isfinite(value) and np.all(np.abs(xy) < 1e6)):
                active[k] = False
                assert np.isnan(snap.positions[k]).all()
                continue
            np.testing.assert_allclose(snap.positions[k], xy, rtol=1e-14, atol=0)
            assert snap.values[k] == pytest.approx(value.item(), rel=1e-14)
            value.backward()
            opt.step()
    assert ("lr_sgd" in overrides) == (not active[ORDER.index("sgd")])


# --- the look: one legend, every curve inside, labels apart, dark theme -------------------

@pytest.mark.parametrize("surface", list(SURFACES))
def test_every_curve_and_end_marker_stays_inside_the_loss_panel(surface):
    """f − f_min reaches 1e-12 (Himmelblau) or exactly 0 (saddle): those curves and their
    end markers once left the log axis at the bottom. Now every drawn point of every curve,
    and the whole of every end marker, lies inside the panel."""
    run = mlviz.prepare("optimizers", surface=surface).run
    fig = panel_figure(RaceLossPanel(), run, frame=-1)
    fig.canvas.draw()
    (ax,) = fig.axes
    low, high = ax.get_ylim()
    gap = run.trace("values")[-1] - run.config.spec.f_min
    finishers = int(np.isfinite(gap).sum())
    ends = [line for line in ax.lines if not line.get_label().startswith("_")]
    assert len(ends) == len(OPTIMIZERS)
    drawn_ends = 0
    for line in ax.lines:
        y = np.asarray(line.get_ydata(), float)
        y = y[np.isfinite(y)]
        assert np.all((y > low) & (y < high)), f"{line.get_label()} leaves [{low}, {high}]"
    for end in ends:
        x, y = np.asarray(end.get_xdata(), float), np.asarray(end.get_ydata(), float)
        if not np.isfinite(y).all():
            continue
        drawn_ends += 1
        radius = end.get_markersize() / 2 * fig.dpi / 72  # pixels
        px, py = ax.transData.transform((x[0], y[0]))
        inside = ax.bbox.padded(-radius)
        assert inside.x0 <= px <= inside.x1 and inside.y0 <= py <= inside.y1, end.get_label()
    assert drawn_ends == finishers


def test_the_loss_limits_keep_a_gap_of_zero_on_the_axis():
    gap = np.array([[5.0, 0.0, np.nan], [1e-12, -1e-16, 2.0]])
    low, high = loss_limits(gap)
    assert low < GAP_FLOOR and high >= 15.0
    assert loss_limits(np.array([[2e-8, 4.0]])) == pytest.approx((2e-8 / 3, 12.0))


def test_one_legend_next_to_the_loss_curves(short_race):
    """One legend (there were two, one far below the loss panel): in the loss panel, naming
    each racer once with its colour, line style and marker, then the contours' marks."""
    config = short_race.config
    for scene in (race_scene(config), race_sweep_scene(config)):
        fig = scene_figure(scene, short_race, frame=-1)
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
        assert len(legends) == 1 and not fig.legends
        legend = legends[0]
        assert legend.axes.get_title() == "Loss: f − f_min"
        assert [t.get_text() for t in legend.get_texts()] == [*racer_labels(config),
                                                               "minimum", "start"]
        racers = legend.legend_handles[:len(OPTIMIZERS)]
        for channel in ("get_color", "get_linestyle", "get_marker"):
            values = [str(getattr(handle, channel)()) for handle in racers]
            assert len(set(values)) == len(OPTIMIZERS), f"racers share {channel}: {values}"
    saddle = mlviz.prepare("optimizers", surface="saddle", steps=30)
    fig = scene_figure(saddle.scene, saddle.run, frame=-1)
    (legend,) = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert "saddle point" in [t.get_text() for t in legend.get_texts()]


@pytest.mark.parametrize("surface", list(SURFACES))
def test_the_legend_sits_where_no_curve_runs(surface):
    prepared = mlviz.prepare("optimizers", surface=surface, frames=2)
    fig = scene_figure(prepared.scene, prepared.run, frame=-1)
    ax = next(ax for ax in fig.axes if ax.get_legend() is not None)
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    for line in ax.get_lines():
        xy = ax.transData.transform(np.column_stack(line.get_data()))
        xy = xy[np.isfinite(xy).all(axis=1)]
        inside = ((xy[:, 0] > box.x0) & (xy[:, 0] < box.x1)
                  & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1))
        assert not inside.any(), line


@pytest.mark.parametrize("surface", list(SURFACES))
def test_tick_labels_of_the_3d_panel_stay_apart(surface):
    from label_look import overlapping_3d_labels

    prepared = mlviz.prepare("optimizers", surface=surface, steps=20)
    for size in (None, "1920x1080"):
        renderer = prepared.styled(size=size).renderer()
        with renderer.theme.context():
            assert overlapping_3d_labels(renderer.figure_at(-1)) == [], size


def test_a_dark_poster_is_dark_with_light_text(prepared):
    from theme_look import assert_dark_poster

    assert_dark_poster(prepared)
    assert_dark_poster(mlviz.prepare("optimizers", surface="saddle", steps=150))


def _median_grey_inside(fig, ax) -> float:
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float) / 255
    box, height = ax.bbox, pixels.shape[0]
    inside = pixels[int(height - box.y1) + 2:int(height - box.y0) - 2,
                    int(box.x0) + 2:int(box.x1) - 2]
    return float(np.median(inside @ [0.2126, 0.7152, 0.0722]))


def test_the_contour_backdrop_follows_the_theme(short_race):
    """The backdrop runs between the background and a grey: pale on the light theme, and
    no light-grey block on the dark one (it was fixed Greys)."""
    from mlviz import Scene
    from mlviz.renderer import Renderer

    grey = {}
    for theme in ("light", "dark"):
        scene = Scene([RaceContourPanel()], figsize=(4.8, 5.0))
        fig = Renderer(scene, short_race, theme=theme).figure_at(-1)
        grey[theme] = _median_grey_inside(fig, fig.axes[0])
    assert grey["light"] > 0.6 and grey["dark"] < 0.5, grey


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_darker_is_lower_in_every_theme_and_a_colour_bar_says_so(short_race, theme):
    from matplotlib.colors import to_rgb

    from mlviz.theme import resolve_theme

    cmap = backdrop_cmap(resolve_theme(theme))
    luminance = [float(np.dot(to_rgb(cmap(v)), (0.2126, 0.7152, 0.0722))) for v in (0, 1)]
    assert luminance[0] < luminance[1]  # the valleys (low f) are the darker shade
    from mlviz import Scene
    from mlviz.renderer import Renderer

    fig = Renderer(Scene([RaceContourPanel()], figsize=(4.8, 5.0)), short_race,
                   theme=theme).figure_at(-1)
    bars = [child for ax in fig.axes for child in ax.child_axes
            if "darker = lower" in child.get_xlabel()]
    assert len(bars) == 1 and bars[0].get_xscale() == "log"


def test_the_racers_stay_apart_for_every_reader_and_off_the_grey_contours():
    from matplotlib.colors import to_rgb

    from mlviz.colorvision import check_palette
    from mlviz.theme import resolve_theme

    for name in ("light", "dark"):
        theme = resolve_theme(name)
        colours = [racer_style(theme, k)["color"] for k in range(len(OPTIMIZERS))]
        cmap = backdrop_cmap(theme)
        assert check_palette(colours, minimum=18.0) == []
        for shade in np.linspace(0, 1, 6):
            grey = to_rgb(cmap(shade))
            assert check_palette(colours, background=grey, minimum=18.0) == [], (name, shade)
    # the old choice (the first four colours) fails this: momentum and Adam meet
    assert check_palette(resolve_theme("light").colors(4), minimum=18.0) != []


@pytest.mark.parametrize("surface", list(SURFACES))
def test_the_story_follows_the_race(surface):
    from mlviz.story import story_problems

    prepared = mlviz.prepare("optimizers", surface=surface, frames=2)
    run = prepared.run
    story = prepared.algorithm.story(prepared.config, run)
    assert story_problems(story, run.epochs) == []
    titles = [c.title for c in story.chapters]
    assert titles[0] == "the start" and titles[-1] == "the finish"
    gap = run.trace("values") - prepared.config.spec.f_min
    if "first at the minimum" in titles:
        start = story.chapters[titles.index("first at the minimum")].start
        assert np.nanmin(gap[start]) <= 1e-3 and np.nanmin(gap[start - 1]) > 1e-3
    assert story.objective.startswith("$") and "f(x, y)" in story.objective
