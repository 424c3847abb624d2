"""pca: checked against scikit-learn, reconstruction errors against the dropped eigenvalues,
the frame sequence, data files, errors, and panel images."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

import mlviz
from mlviz import ConfigError, DataError
from mlviz.testing import panel_figure, scene_figure
from mlviz_pca.panels import AxesPanel, ReconstructionPanel, VariancePanel
from mlviz_pca.plugin import PCA as PCA_ALGORITHM
from mlviz_pca.plugin import load_points, pca_scene
from mlviz_pca.trainer import PCAConfig, PCATrainer, default_dataset, drawn_data, fit_pca


def prepare(**overrides):
    return mlviz.prepare(PCA_ALGORITHM, **overrides)


def assert_same_up_to_sign(ours: np.ndarray, theirs: np.ndarray) -> None:
    for a, b in zip(ours, theirs):
        sign = np.sign(a @ b)
        assert sign != 0 and np.allclose(a, sign * b, atol=1e-8)


@pytest.mark.parametrize("seed, noise", [(0, 0.25), (3, 0.1), (7, 0.6)])
def test_components_and_variances_match_scikit_learn(seed, noise):
    X = default_dataset(PCAConfig(seed=seed, noise=noise)).X
    fit = fit_pca(X)
    sk = PCA(n_components=3).fit(X)
    assert_same_up_to_sign(fit.components, sk.components_)
    assert np.allclose(fit.explained_variance, sk.explained_variance_, rtol=1e-10)
    assert np.allclose(fit.explained_variance_ratio, sk.explained_variance_ratio_, rtol=1e-10)
    assert np.allclose(fit.components @ fit.components.T, np.eye(3), atol=1e-12)


def test_standardized_pca_matches_scaler_plus_pca_and_is_drawn_scaled():
    config = PCAConfig(standardize=True)
    data = default_dataset(config)
    Z = drawn_data(data, standardize=True)
    assert np.allclose(Z, StandardScaler().fit_transform(data.X))
    sk = PCA(n_components=3).fit(Z)
    snap = next(iter(PCATrainer(config).run(data)))
    assert_same_up_to_sign(snap.params["components"], sk.components_)
    assert np.allclose(snap.explained_variance_ratio, sk.explained_variance_ratio_)


def test_default_data_is_a_flat_cloud_whose_components_matter_less_and_less():
    for seed in range(5):
        X = default_dataset(PCAConfig(seed=seed)).X
        assert X.shape == (200, 3)
        fit = fit_pca(X)
        ratio = fit.explained_variance_ratio
        assert 0.75 < ratio[0] < 0.88 and 0.1 < ratio[1] < 0.22 and ratio[2] < 0.04
        assert abs(fit.components[0] @ np.ones(3) / np.sqrt(3)) > 0.98  # along the diagonal
    assert np.array_equal(X, default_dataset(PCAConfig(seed=4)).X)
    assert not np.array_equal(X, default_dataset(PCAConfig(seed=1)).X)


def test_the_notebooks_noisy_line_is_still_there():
    config = PCAConfig(dataset="line", noise=0.25)
    X = default_dataset(config).X
    fit = fit_pca(X)
    assert abs(fit.components[0] @ np.ones(3) / np.sqrt(3)) > 0.98
    assert 0.6 < fit.explained_variance_ratio[0] < 0.8  # noise 0.25: the old default's 70 %
    assert fit_pca(default_dataset(PCAConfig(dataset="line")).X).explained_variance_ratio[0] \
        > 0.9


def test_frames_step_through_0_to_3_components_then_back_to_2():
    config = PCAConfig(slide_frames=5, hold_frames=3)
    run = prepare(slide_frames=5, hold_frames=3).run
    snaps = run.snapshots
    assert len(snaps) == 3 + 3 * (5 + 3 - 1) + 5 + (2 * 3 - 1)
    assert [s.epoch for s in snaps] == list(range(len(snaps)))
    up = 3 + 3 * (5 + 3 - 1)  # the frames that add components; then PC3 is dropped again
    ks = [s.k for s in snaps]
    assert ks[:up] == sorted(ks[:up]) and set(ks[:up]) == {0, 1, 2, 3}
    assert set(ks[up:]) == {2} and all(s.k_from == 3 for s in snaps[up:up + 5])
    in_between = [s for s in snaps if 0 < s.progress < 1]
    assert len(in_between) == 4 * 4
    assert all(isinstance(s.loss, float) for s in snaps)
    assert np.all(np.diff(run.losses[:up]) <= 1e-12)  # each added component helps
    assert np.all(np.diff(run.losses[up - 1:up + 5]) >= -1e-12)  # dropping PC3 costs
    X = default_dataset(config).X
    assert np.allclose(snaps[0].reconstruction, X.mean(axis=0))
    assert np.allclose(snaps[up - 1].reconstruction, X)
    assert snaps[up - 1].loss == pytest.approx(0, abs=1e-20)
    sk = PCA(n_components=2).fit(X)
    assert np.allclose(snaps[-1].reconstruction, sk.inverse_transform(sk.transform(X)))
    assert np.array_equal(snaps[-1].weights, [1.0, 1.0, 0.0])


def test_held_frames_reconstruct_like_scikit_learn_and_lose_the_dropped_variance():
    config = PCAConfig()
    X = default_dataset(config).X
    snaps = list(PCATrainer(config).run(default_dataset(config)))
    fit = fit_pca(X)
    n = len(X)
    for k in (1, 2):
        held = [s for s in snaps if s.k == k and s.progress == 1.0][0]
        sk = PCA(n_components=k).fit(X)
        assert np.allclose(held.reconstruction, sk.inverse_transform(sk.transform(X)))
        dropped = fit.explained_variance[k:].sum() * (n - 1) / n
        assert held.loss == pytest.approx(dropped, rel=1e-10)
        # the points lie on the span: no component beyond k is left
        rest = (held.reconstruction - fit.mean) @ fit.components[k:].T
        assert np.allclose(rest, 0, atol=1e-12)


def test_in_between_frames_slide_straight_between_spans():
    snaps = prepare(slide_frames=4).run.snapshots
    middle = [s for s in snaps if s.k == 2 and 0 < s.progress < 1][1]
    start = [s for s in snaps if s.k == 1][-1].reconstruction
    end = [s for s in snaps if s.k == 2][-1].reconstruction
    t = middle.progress
    assert np.allclose(middle.reconstruction, (1 - t) * start + t * end)


@pytest.mark.parametrize("key, value", [
    ("n_points", "2"), ("noise", "-0.1"), ("slide_frames", "0"), ("standardize", "perhaps"),
    ("hold_frames", "x"), ("components", "2"),
])
def test_bad_values_give_one_line_errors(key, value):
    with pytest.raises(ConfigError) as error:
        mlviz.prepare(PCA_ALGORITHM, settings=[f"{key}={value}"])
    assert "\n" not in str(error.value) and key in str(error.value)


def test_explained_variance_ratio_is_traced_every_epoch():
    run = prepare(frames=2).run
    ratios = run.trace("explained_variance_ratio")
    assert ratios.shape == (len(run.epochs), 3) and run.n_frames == 2
    expected = PCA().fit(run.dataset.X).explained_variance_ratio_
    assert np.allclose(ratios, expected[None, :], rtol=1e-10)


def drawn_alone(prepared, index: int) -> np.ndarray:
    """Snapshot ``index``'s frame when it is the only one drawn."""
    run = replace(prepared.run, snapshots=(prepared.run.snapshots[index],))
    return next(replace(prepared, run=run).renderer().frames())


def test_a_frame_does_not_depend_on_the_other_drawn_frames():
    prepared = prepare(n_points=60)
    n = prepared.run.n_frames
    turns = [s.turn for s in prepared.run.snapshots]
    in_turn = list(prepared.renderer(dpi=40).frames())  # a turned camera before some
    after_turn = next(i for i in range(1, n) if turns[i] == 0 and turns[i - 1] != 0)
    for index in (n // 2, after_turn, n - 1):
        full = next(prepared.renderer().frames(indices=[index]))
        assert np.array_equal(full, drawn_alone(prepared, index)), f"frame {index}"
        alone = next(prepared.renderer(dpi=40).frames(indices=[index]))
        assert np.array_equal(alone, in_turn[index]), f"frame {index} drawn in turn"


def test_user_csv(tmp_path):
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50, 3)) * (3.0, 1.0, 0.2)
    good = tmp_path / "points.csv"
    np.savetxt(good, points, delimiter=",", header="a,b,c", comments="")
    run = mlviz.prepare(PCA_ALGORITHM, data=good).run
    assert run.dataset.feature_names == ("a", "b", "c")
    assert np.allclose(run.snapshots[-1].explained_variance_ratio,
                       PCA().fit(points).explained_variance_ratio_)
    flat = tmp_path / "flat.csv"
    flat.write_text("1,2\n3,4\n5,6\n")
    with pytest.raises(DataError) as error:
        load_points(mlviz.UserData(flat), PCAConfig())
    assert "\n" not in str(error.value) and "pca uses 3" not in str(error.value)
    assert "has 2 columns (x1, x2); this algorithm uses 3 feature columns" in str(error.value)
    wide = tmp_path / "wide.csv"
    np.savetxt(wide, np.column_stack([points, points[:, :1]]), delimiter=";",
               header="a;b;c;d", comments="")
    chosen = mlviz.prepare(PCA_ALGORITHM, data=mlviz.UserData(wide, columns="c,a,b")).run
    assert chosen.dataset.feature_names == ("c", "a", "b")
    assert np.allclose(chosen.dataset.X, points[:, [2, 0, 1]])


def test_info_documents_every_hyperparameter(run_cli):
    result = run_cli("info", "pca")
    assert result.returncode == 0
    for name in (f.name for f in dataclasses.fields(PCAConfig)):
        assert f"  {name} " in result.stdout
    for panel in ("pca-axes", "pca-reconstruction", "pca-variance"):
        assert panel in result.stdout


# ---- images: frame 18 is half-way from one component to two --------------------------------

@pytest.fixture(scope="module")
def run():
    return prepare().run


@pytest.mark.mpl_image_compare
def test_axes_panel_image(run):
    return panel_figure(AxesPanel(), run, frame=18)


@pytest.mark.mpl_image_compare
def test_axes_panel_one_component_image(run):
    return panel_figure(AxesPanel(), run, frame=11)  # k = 1 reached, the camera at home


@pytest.mark.mpl_image_compare
def test_reconstruction_panel_image(run):
    return panel_figure(ReconstructionPanel(), run, frame=18)


@pytest.mark.mpl_image_compare
def test_variance_panel_image(run):
    return panel_figure(VariancePanel(), run, frame=18)


@pytest.mark.mpl_image_compare
def test_pca_scene_image(run):
    return scene_figure(pca_scene(run.config), run, frame=18)


# ---- the texts of the three panels agree in every frame -------------------------------------

def captions(run):
    """Each snapshot's (axes caption, reconstruction caption, variance label), as drawn."""
    from matplotlib.figure import Figure

    fig = Figure()
    panels = [AxesPanel(), ReconstructionPanel(), VariancePanel()]
    for i, panel in enumerate(panels):
        panel.setup(fig.add_subplot(1, 3, i + 1, projection=panel.projection), run)
    texts = []
    for snap in run.snapshots:
        for panel in panels:
            panel.update(snap)
        texts.append((panels[0].caption.get_text(), panels[1].caption.get_text(),
                      panels[2].label.get_text()))
    return texts


def test_the_panels_texts_agree_in_every_frame():
    import re

    run = prepare(slide_frames=5, hold_frames=2).run
    cumulative = np.r_[0.0, np.cumsum(run.snapshots[0].explained_variance_ratio)]
    adding_frames = dropping_frames = 0
    for snap, (axes, recon, variance) in zip(run.snapshots, captions(run)):
        kept = int(re.search(r"kept (\d+) of", variance).group(1))
        share = float(re.search(r"keeps ([\d.]+)%", variance).group(1)) / 100
        adding = re.search(r"adding PC(\d+)", variance)
        dropping = re.search(r"dropping PC(\d+)", variance)
        k = re.search(r"k = (\d+)(?: → (\d+))?", recon)
        if adding:  # the points slide onto the next span: k - 1 kept, PCk coming in
            adding_frames += 1
            assert 0 < snap.progress < 1
            assert int(adding.group(1)) == snap.k == kept + 1
            assert cumulative[kept] - 5e-4 <= share <= cumulative[kept + 1] + 5e-4
            assert k.group(2) is not None and (int(k.group(1)), int(k.group(2))) == (kept, snap.k)
            assert f"adding PC{snap.k}" in axes
        elif dropping:  # PC3 leaves: the points fall back onto the plane
            dropping_frames += 1
            assert 0 < snap.progress < 1 and snap.k == 2 and kept == 3
            assert int(dropping.group(1)) == 3 and "dropping PC3" in axes
            assert cumulative[2] - 5e-4 <= share <= cumulative[3] + 5e-4
            assert (int(k.group(1)), int(k.group(2))) == (3, 2)
        else:  # held: k kept, and the share is exactly theirs
            assert snap.progress == 1.0 and kept == snap.k
            assert share == pytest.approx(cumulative[kept], abs=5e-4)
            assert k.group(2) is None and int(k.group(1)) == kept
            assert f"(k = {kept})" in axes
    assert (adding_frames, dropping_frames) == (3 * 4, 4)


# ---- the lesson on the frame -----------------------------------------------------------------

def held_frame(run, k: int, last: bool = False) -> int:
    frames = [i for i, s in enumerate(run.snapshots) if s.k == k and s.progress == 1.0]
    return frames[-1] if last else frames[0]


def test_keeping_two_or_three_components_are_visibly_different_pictures(run):
    """The camera sees the PC1–PC2 plane nearly edge-on: flattened points (k = 2) form a
    thin sheet, the data (k = 3) a thicker cloud. Compared on the points alone (no plane,
    residuals or caption), 5 times more pixels change than under a face-on camera (0.2 %)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def points_only(frame):
        fig = Figure(figsize=(4.8, 4.0))
        FigureCanvasAgg(fig)
        panel = ReconstructionPanel()
        panel.setup(fig.add_subplot(projection="3d"), run)
        panel.update(run.snapshots[frame])
        for artist in (panel.plane, panel.line, panel.residuals, panel.caption):
            artist.set_visible(False)
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)

    two, three = points_only(held_frame(run, 2)), points_only(held_frame(run, 3))
    changed = np.any(np.abs(two - three) > 40, axis=2).mean()
    assert changed > 0.008, f"only {100 * changed:.2f} % of the pixels differ"
    # the poster is the flattened cloud again
    assert run.snapshots[-1].k == 2 and np.array_equal(
        run.snapshots[-1].reconstruction, run.snapshots[held_frame(run, 2)].reconstruction)


def screen_spread(ax, points: np.ndarray) -> tuple[float, float]:
    """Spread of 3D points on the screen: along and across their main screen direction."""
    from mpl_toolkits.mplot3d import proj3d

    x, y, _ = proj3d.proj_transform(*points.T, ax.get_proj())
    xy = ax.transData.transform(np.column_stack([x, y]))
    xy -= xy.mean(axis=0)
    return tuple(np.sqrt(np.linalg.svd(xy, compute_uv=False) ** 2 / len(xy)))


def test_the_camera_sees_the_plane_nearly_edge_on_and_pc1_broadside(run):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.8, 4.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="3d")
    panel = ReconstructionPanel()
    panel.setup(ax, run)
    fig.canvas.draw()
    flat = run.snapshots[held_frame(run, 2)].reconstruction
    along, across = screen_spread(ax, flat)
    assert across < 0.25 * along, (along, across)  # a thin sheet on the screen
    data_along, data_across = screen_spread(ax, run.snapshots[held_frame(run, 3)].reconstruction)
    assert data_across > 1.5 * across  # the data is visibly thicker than its flattening
    assert data_along > 0.06 * fig.bbox.width  # PC1 (std on the screen) spreads across


def test_the_reconstruction_panel_draws_the_span_of_the_kept_components(run):
    from matplotlib.figure import Figure

    fig = Figure()
    panel = ReconstructionPanel()
    panel.setup(fig.add_subplot(projection="3d"), run)
    fit = fit_pca(drawn_data(run.dataset, False))
    for k, line, plane in ((0, False, False), (1, True, False), (2, False, True),
                           (3, False, False)):
        panel.update(run.snapshots[held_frame(run, k)])
        assert (len(panel.line.get_data_3d()[0]) > 0) == line, k
        assert panel.plane.get_visible() == plane, k
        segment, corners = panel.span
        assert (segment is not None, corners is not None) == (line, plane)
        if line:  # the line runs along PC1 through the mean
            ends = np.column_stack(panel.line.get_data_3d())
            assert np.allclose(ends, segment)
            direction = (ends[1] - ends[0]) / np.linalg.norm(ends[1] - ends[0])
            assert abs(direction @ fit.components[0]) == pytest.approx(1)
            assert np.linalg.norm(np.cross(ends[0] - fit.mean, direction)) < 1e-9
        if plane:  # the plane's corners lie in the span of PC1 and PC2 through the mean
            assert np.allclose((corners - fit.mean) @ fit.components[2], 0, atol=1e-9)
            sides = np.linalg.norm(np.diff(corners, axis=0), axis=1)
            assert np.all(sides > 0.2)


def drawn_text_boxes(fig) -> dict:
    """The boxes (pixels) of the texts ``fig`` draws, recorded while drawing it (a 3D
    text's own get_window_extent answers for its 3D coordinates, not where it is drawn)."""
    from matplotlib.text import Text

    found = {}
    draw = Text.draw

    def recording(self, renderer):
        draw(self, renderer)
        if self.get_text():
            found[self.get_text()] = self.get_window_extent(renderer)

    Text.draw = recording
    try:
        # a 3D text is projected inside its draw: measure it there
        from mpl_toolkits.mplot3d import art3d

        draw3d = art3d.Text3D.draw

        def recording3d(self, renderer):
            from matplotlib import cbook
            from mpl_toolkits.mplot3d import proj3d

            x, y, _ = proj3d.proj_transform(self._x, self._y, self._z, self.axes.M)
            with cbook._setattr_cm(self, _x=x, _y=y):
                found[self.get_text()] = Text.get_window_extent(self, renderer)
            draw3d(self, renderer)

        art3d.Text3D.draw = recording3d
        try:
            fig.canvas.draw()
        finally:
            art3d.Text3D.draw = draw3d
    finally:
        Text.draw = draw
    return found


def test_pc_labels_stand_apart_on_the_screen(run):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d import proj3d

    fig = Figure(figsize=(4.8, 4.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="3d")
    panel = AxesPanel()
    panel.setup(ax, run)
    drawn = drawn_text_boxes(fig)
    names = ["PC1", "PC2", "PC3"]
    assert set(names) <= set(drawn)
    for i in range(3):
        for j in range(i + 1, 3):
            assert not drawn[names[i]].overlaps(drawn[names[j]]), (names[i], names[j])
    # no label sits on PC1's arrow (the camera looks along PC2, whose tip is on that shaft)
    fit = panel.fit
    shaft = fit.mean + np.linspace(0, 1, 50)[:, None] * 2 * fit.std[0] * fit.components[0]
    x, y, _ = proj3d.proj_transform(*shaft.T, ax.get_proj())
    on_screen = ax.transData.transform(np.column_stack([x, y]))
    for name in names[1:]:
        box = drawn[name].padded(3)  # the arrow's line width
        assert not any(box.contains(px, py) for px, py in on_screen), name


def test_story_chapters_start_where_the_number_of_kept_components_changes():
    from mlviz.story import story_problems

    prepared = prepare(slide_frames=5, hold_frames=3)
    run = prepared.run
    story = PCA_ALGORITHM.story(prepared.config, run)
    assert story_problems(story, run.epochs) == []
    snaps = run.snapshots
    starts = [c.start for c in story.chapters]
    changes = [0] + [i for i in range(1, len(snaps))
                     if snaps[i].progress < 1 and snaps[i - 1].progress == 1.0]
    assert starts == changes and len(starts) == 5
    assert "98 %" in story.chapters[2].sentence and "2 %" in story.chapters[-1].sentence
    assert story.objective.startswith("$")


def test_a_dark_poster_is_dark_with_light_text():
    from theme_look import assert_dark_poster

    prepared = prepare(n_points=60)
    assert_dark_poster(prepared)
    assert_dark_poster(prepared, frame=18)  # half-way to two components


def test_the_walk_ends_at_the_fewest_components_that_keep_95_percent():
    from mlviz_pca.trainer import kept_components

    assert kept_components(np.array([0.8, 0.18, 0.02])) == 2
    assert kept_components(np.array([0.96, 0.03, 0.01])) == 1
    assert kept_components(np.array([0.4, 0.35, 0.25])) == 2  # never all d: nothing to drop
    line = prepare(dataset="line")  # 95 % on PC1: the poster is the line
    last = line.run.snapshots[-1]
    assert last.k == 1 and np.array_equal(last.weights, [1.0, 0.0, 0.0])
    story = PCA_ALGORITHM.story(line.config, line.run)
    assert story.chapters[-1].title == "keep 1: the flattened cloud"
    assert "PC2 to PC3" in story.chapters[-1].sentence


# ---- pacing: a held pose turns the camera --------------------------------------------------

def test_a_held_pose_swings_the_camera_out_and_home():
    from mlviz_pca.trainer import camera_turns, stages

    frames = stages(3, 5, 4, keep=2)
    turns = camera_turns(frames)
    held = np.array([progress == 1.0 for _, _, progress in frames])
    sliding = ~held
    assert np.all(turns[sliding] == 0.0) and turns[-1] == 0.0 and turns[0] == 0.0
    # every held stretch (4 frames; the last 8) swings out to about TURN and home
    starts = [i for i in range(len(frames)) if held[i] and (i == 0 or not held[i - 1]
                                                             or frames[i][1] != frames[i - 1][1])]
    for start in starts:
        end = start
        while end + 1 < len(frames) and held[end + 1] and frames[end + 1][1] == frames[start][1]:
            end += 1
        swing = turns[start:end + 1]
        assert swing[0] == 0.0 and swing[-1] == 0.0 and 10.0 < swing.max() <= 15.0
        assert np.all(np.diff(swing) != 0.0)  # no two frames in a row alike
    assert len(starts) == 5  # k = 0, 1, 2, 3 and the walk back to 2
    # stretches of 2 frames do not turn (no way out and back); the last one (4) does
    short = camera_turns(stages(3, 5, 2, keep=2))
    assert not short[:-3].any() and short[-3:-1].all()


def test_no_frame_is_drawn_like_the_one_before(monkeypatch):
    """Issue 18's pacing: 37 % of pca's frames were held poses drawn like the frame before
    (the measure finds them when the camera does not turn); now none is."""
    from pacing_look import still_frames

    prepared = prepare(slide_frames=3, n_points=60)
    assert not still_frames(prepared, dpi=30).any()
    monkeypatch.setattr("mlviz_pca.trainer.camera_turns", lambda frames: np.zeros(len(frames)))
    standing = prepare(slide_frames=3, n_points=60)
    assert still_frames(standing, dpi=30).mean() > 0.3


def test_turning_at_a_plane_shows_it_edge_on(run):
    """The swing at k = 2 turns the camera until the plane is edge-on: the flattened points
    become a line on the screen, which the data (k = 3) never do."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def spread_across(snapshot) -> float:
        fig = Figure(figsize=(4.8, 4.0))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(projection="3d")
        panel = ReconstructionPanel()
        panel.setup(ax, run)
        panel.update(snapshot)
        fig.canvas.draw()
        return screen_spread(ax, snapshot.reconstruction)[1]

    def turned(k: int):
        return max((s for s in run.snapshots if s.k == k and s.progress == 1.0),
                   key=lambda s: s.turn)

    home = spread_across(run.snapshots[held_frame(run, 2)])
    assert spread_across(turned(2)) < 0.5 * home
    assert spread_across(turned(3)) > 2 * spread_across(turned(2))


def test_the_poster_does_not_depend_on_the_frame_budget():
    two, every = prepare(frames=2, n_points=60), prepare(n_points=60)
    assert two.run.snapshots[-1].turn == 0.0
    assert np.array_equal(next(two.renderer(dpi=40).frames(indices=[1])),
                          next(every.renderer(dpi=40).frames(indices=[every.n_frames - 1])))
