"""k-means: checked against scikit-learn, exact Voronoi cells, panel images."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.cluster import KMeans

import mlviz
from mlviz.testing import panel_figure, scene_figure
from mlviz.thinning import MUST_KEEP, WANTED
from mlviz_kmeans.geometry import voronoi_cells
from mlviz_kmeans.panels import ClusterPanel, ElbowPanel
from mlviz_kmeans.trainer import (
    NOTABLE,
    KMeansConfig,
    KMeansTrainer,
    best_start,
    default_dataset,
    elbow,
    initial_centroids,
    knee,
    lloyd,
    notable_steps,
)


def test_lloyd_matches_scikit_learn_from_the_same_start():
    config = KMeansConfig(seed=4)
    points = default_dataset(config).X
    rng = np.random.default_rng(0)
    for k in (2, 5, 9, 12):
        start = initial_centroids(points, k, "k-means++", rng)
        *_, (iteration, centroids, labels, inertia, converged) = lloyd(points, start, 300)
        assert converged and iteration < 299
        ours = KMeans(n_clusters=k, init=start, n_init=1, algorithm="lloyd", tol=0,
                      max_iter=300).fit(points)
        assert np.array_equal(labels, ours.labels_)
        assert inertia == pytest.approx(ours.inertia_, rel=1e-9)
        assert np.allclose(centroids, ours.cluster_centers_)


def test_snapshots_restart_every_k_with_float_centroids():
    config = KMeansConfig(k_max=5, max_iter=30)
    snaps = list(KMeansTrainer(config).run(default_dataset(config)))
    assert [s.epoch for s in snaps] == list(range(len(snaps)))
    assert sorted({s.k for s in snaps}) == [1, 2, 3, 4, 5]
    *snaps, recap = snaps
    finals = {s.k: s for s in snaps}
    elbow_k = knee(np.arange(1, 6), [finals[k].loss for k in range(1, 6)])
    assert recap.recap and recap.keyframe == MUST_KEEP and recap.k == recap.elbow_k == elbow_k
    assert recap.loss == finals[elbow_k].loss
    assert np.array_equal(recap.labels, finals[elbow_k].labels)
    assert [s.keyframe == MUST_KEEP for s in snaps] == [s is finals[s.k] for s in snaps]
    for k in range(1, 6):
        of_k = [s for s in snaps if s.k == k]
        assert [s.iteration for s in of_k] == list(range(len(of_k)))
        notable = notable_steps(np.array([s.loss for s in of_k])).tolist()
        assert [s.iteration for s in of_k if s.keyframe] == notable
        assert all(s.keyframe == WANTED for s in of_k[:-1] if s.keyframe)
        assert of_k[-1].converged
        assert of_k[0].centroids.shape == (k, 2) and of_k[0].centroids.dtype == float
        for s in of_k:
            assert isinstance(s.loss, float)
            diff = default_dataset(config).X - s.centroids[s.labels]
            assert s.loss == pytest.approx(float((diff**2).sum()))


def test_elbow_from_traces_holds_each_k_final_inertia():
    run = mlviz.prepare("kmeans", k_max=5, max_iter=30, frames=3).run
    assert run.n_frames == 3  # the elbow must not need the other snapshots
    config = KMeansConfig(k_max=5, max_iter=30)
    finals = [s.loss for s in KMeansTrainer(config).run(default_dataset(config))
              if s.converged and not s.recap]
    lloyd = ~run.trace("recap").astype(bool)
    assert lloyd[:-1].all() and not lloyd[-1]  # the recap closes the run
    ks, inertia = elbow(run.trace("k")[lloyd], run.trace("loss")[lloyd])
    assert ks.tolist() == [1, 2, 3, 4, 5] and inertia.dtype == float
    assert inertia.tolist() == finals
    assert all(a > b for a, b in zip(inertia, inertia[1:3]))
    # up to a mid-run epoch: the finished Ks, then the current K with its current inertia
    epoch = int(np.flatnonzero(run.trace("k") == 3)[1])
    ks, inertia = elbow(run.trace("k", epoch), run.trace("loss", epoch))
    assert ks.tolist() == [1, 2, 3]
    assert inertia.tolist() == [*finals[:2], run.losses[epoch]]
    assert elbow(np.array([], int), np.array([]))[0].size == 0


def test_centroid_params_keep_one_shape_and_can_be_recorded():
    run = mlviz.prepare("kmeans", k_max=4, record_params=True).run
    recorded = run.trace("params.centroids")
    assert recorded.shape == (len(run.epochs), 4, 2)
    for snap in run.snapshots:
        row = recorded[list(run.epochs).index(snap.epoch)]
        assert np.array_equal(row[: snap.k], snap.centroids)
        assert np.isnan(row[snap.k:]).all()


def finals_of(config: KMeansConfig, data=None) -> tuple[np.ndarray, list]:
    """(inertia at the end of each K, the last snapshot of each K) of a whole run."""
    snaps = list(KMeansTrainer(config).run(data or default_dataset(config)))
    last = list({s.k: s for s in snaps}.values())
    return np.array([s.loss for s in last]), last


def test_knee_is_the_point_farthest_below_the_chord():
    assert knee(np.arange(1, 7), [100, 40, 10, 8, 6, 5]) == 3
    assert knee(np.arange(1, 7), [100, 20, 15, 10, 6, 5]) == 2
    assert knee(np.arange(1, 5), [10, 10, 10, 10]) == 1  # flat: no elbow
    assert knee(np.arange(1, 3), [5, 1]) == 1


@pytest.mark.slow
def test_the_elbow_of_the_default_data_is_at_its_number_of_clusters():
    """The kneedle rule (``knee``) on each seed's elbow curve: K = clusters for all 20 seeds
    measured (at least 18 required), and every K converged well within max_iter."""
    hits = 0
    for seed in range(20):
        config = KMeansConfig(seed=seed)
        inertia, last = finals_of(config)
        assert all(s.converged for s in last) and max(s.iteration for s in last) < 25
        hits += knee(np.arange(1, config.k_max + 1), inertia) == config.clusters
    assert hits >= 18, f"the elbow is at K = clusters for {hits} of 20 seeds"
    uniform = KMeansConfig(dataset="uniform")  # what the old default data gave
    assert knee(np.arange(1, 13), finals_of(uniform)[0]) != 3


def test_every_k_is_the_best_of_n_init_starts():
    points = default_dataset(KMeansConfig(seed=3, dataset="moons", n_points=120)).X
    config = KMeansConfig(n_init=6)
    stuck = False
    for k in (3, 6):
        shown = best_start(points, k, config, np.random.default_rng(k))
        again = np.random.default_rng(k)  # the same six starts, one by one
        finals = [list(lloyd(points, initial_centroids(points, k, "k-means++", again),
                             config.max_iter))[-1][3] for _ in range(6)]
        assert shown[-1][3] == min(finals) and shown[-1][4]  # the best, converged
        stuck |= max(finals) > 1.001 * min(finals)  # a single start can get stuck
        if k == 3:
            sk = KMeans(n_clusters=k, n_init=20, random_state=0).fit(points).inertia_
            assert shown[-1][3] <= sk * 1.001
    assert stuck


def test_default_datasets_are_clustered_and_in_the_drawing_box():
    blobs = default_dataset(KMeansConfig(seed=2))
    assert blobs.X.shape == (150, 2) and sorted(set(blobs.y.tolist())) == [0, 1, 2]
    centres = np.array([blobs.X[blobs.y == c].mean(axis=0) for c in range(3)])
    assert np.ptp(centres[:, 0]) > 300 and (centres > 0).all()
    assert (centres < (1200, 675)).all()
    for name in ("moons", "circles", "uniform"):
        data = default_dataset(KMeansConfig(dataset=name, n_points=60))
        assert data.X.shape == (60, 2) and data.name == name
        assert data.X.min() > -200 and data.X.max() < 1400


def test_stop_early_false_gives_exactly_max_iter_frames_per_k():
    config = KMeansConfig(k_max=4, max_iter=8, stop_early=False)
    snaps = list(KMeansTrainer(config).run(default_dataset(config)))
    assert len(snaps) == 33 and snaps[-1].recap  # 4 Ks of 8 steps, then the elbow again
    snaps = list(KMeansTrainer(replace(config, recap=False)).run(default_dataset(config)))
    assert len(snaps) == 32 and not any(s.recap for s in snaps)


def test_random_init_lies_in_the_data_box_and_is_seeded():
    points = default_dataset(KMeansConfig()).X
    a = initial_centroids(points, 6, "random", np.random.default_rng(1))
    b = initial_centroids(points, 6, "random", np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert (a >= points.min(0)).all() and (a <= points.max(0)).all()


def test_empty_cluster_keeps_its_centroid():
    points = np.array([[0.0, 0.0], [1.0, 0.0]])
    far = np.array([[0.5, 0.0], [100.0, 100.0]])
    *_, (_, centroids, labels, _, _) = lloyd(points, far, 5)
    assert centroids[1].tolist() == [100.0, 100.0] and labels.tolist() == [0, 0]


def test_voronoi_cells_agree_with_nearest_centroid():
    rng = np.random.default_rng(2)
    centroids = rng.uniform(0, 10, size=(7, 2))
    cells = voronoi_cells(centroids, (0, 10, 0, 10))
    from matplotlib.path import Path

    probes = rng.uniform(0, 10, size=(2000, 2))
    nearest = ((probes[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    inside = np.array([Path(cell).contains_points(probes) for cell in cells])
    assert (inside.sum(axis=0) == 1).mean() > 0.99  # cells tile the box (edges aside)
    owner = inside.argmax(axis=0)
    assert (owner == nearest).mean() > 0.99
    area = sum(0.5 * abs(np.dot(c[:, 0], np.roll(c[:, 1], 1)) - np.dot(c[:, 1], np.roll(c[:, 0], 1)))
               for c in cells)
    assert area == pytest.approx(100.0)


def drawn_alone(prepared, index: int) -> np.ndarray:
    """Snapshot ``index``'s frame when it is the only one drawn."""
    run = replace(prepared.run, snapshots=(prepared.run.snapshots[index],))
    return next(replace(prepared, run=run).renderer().frames())


def test_a_frame_does_not_depend_on_the_other_drawn_frames():
    prepared = mlviz.prepare("kmeans", k_max=6)
    n = prepared.run.n_frames
    for index in (n // 2, n - 1):
        full = next(prepared.renderer().frames(indices=[index]))
        assert np.array_equal(full, drawn_alone(prepared, index)), f"frame {index}"


@pytest.fixture(scope="module")
def small_run():
    return mlviz.prepare("kmeans", k_max=6).run


def frame_of(run, k, iteration):
    return next(i for i, s in enumerate(run.snapshots) if s.k == k and s.iteration == iteration)


@pytest.mark.mpl_image_compare
def test_elbow_panel_image(small_run):
    return panel_figure(ElbowPanel(), small_run, frame_of(small_run, 5, 1))


@pytest.mark.mpl_image_compare
def test_cluster_panel_image(small_run):
    return panel_figure(ClusterPanel(), small_run, frame_of(small_run, 5, 1), figsize=(6.4, 4.0))


@pytest.mark.mpl_image_compare
def test_kmeans_scene_image():
    prepared = mlviz.prepare("kmeans")
    return scene_figure(prepared.scene, prepared.run, frame_of(prepared.run, 8, 2))


# ---- the look: elbow limits, the iteration cap, the clustering's room, the theme ----------

def elbow_axes(prepared, frame):
    """The elbow panel's axes at ``frame`` (drawn, light theme)."""
    fig = panel_figure(ElbowPanel(), prepared.run, frame)
    return fig.axes[0]


def lines_labelled(ax, start):
    return [line for line in ax.get_lines() if line.get_label().startswith(start)]


def test_the_elbow_is_scaled_to_the_converged_inertias_not_k1s_first_iteration():
    prepared = mlviz.prepare("kmeans", k_max=6)
    run = prepared.run
    lloyd = ~run.trace("recap").astype(bool)
    ks, finals = elbow(run.trace("k")[lloyd], run.trace("loss")[lloyd])
    first = float(run.trace("loss")[0])  # K = 1 from one point: far above its final inertia
    assert first > 1.5 * finals.max()
    for frame in (0, run.n_frames // 2, run.n_frames - 1):
        ax = elbow_axes(prepared, frame)
        low, top = ax.get_ylim()
        assert low == 0 and finals.max() < top <= 1.25 * finals.max(), (frame, top)
        drawn = np.concatenate([line.get_ydata() for line in ax.get_lines()
                                if len(line.get_ydata()) and line.get_label() != "current K"
                                and line.get_marker() != "^"])
        assert (drawn <= top).all() or frame == 0  # frame 0: K = 1's line starts off-scale
    # frame 0: the current inertia is above the axis: an arrow at the top and its value
    ax = elbow_axes(prepared, 0)
    arrow = [line for line in ax.get_lines() if line.get_marker() == "^"][0]
    assert list(arrow.get_xdata()) == [1] and arrow.get_ydata()[0] == ax.get_ylim()[1]
    assert any("10^{7}" in t.get_text() for t in ax.texts)
    assert first >= 1e7
    # the last frame: every K's final inertia is drawn, filled, and within the axis
    ax = elbow_axes(prepared, -1)
    (done,) = lines_labelled(ax, "converged")
    assert list(done.get_xdata()) == ks.tolist()
    assert np.allclose(done.get_ydata(), finals)
    assert not lines_labelled(ax, "stopped")[0].get_xdata().size
    assert "max_iter" not in " ".join(t.get_text() for t in ax.get_legend().get_texts())


def test_a_k_stopped_at_max_iter_is_hollow_and_named():
    prepared = mlviz.prepare("kmeans", k_max=6, max_iter=2)
    config = prepared.config
    last = list({s.k: s for s in KMeansTrainer(config).run(default_dataset(config))}.values())
    capped = [s.k for s in last if not s.converged]
    converged = [s.k for s in last if s.converged]
    assert capped and converged  # K = 1 converges in 2 iterations, the larger Ks do not
    ax = elbow_axes(prepared, -1)
    (stopped,) = lines_labelled(ax, "stopped")
    (done,) = lines_labelled(ax, "converged")
    assert list(stopped.get_xdata()) == capped and list(done.get_xdata()) == converged
    assert stopped.get_markerfacecolor() != done.get_markerfacecolor()  # hollow vs filled
    from matplotlib.colors import same_color

    assert same_color(stopped.get_markerfacecolor(), "white")  # the light background
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "max_iter = 2" in legend and "not converged" in legend
    # the clustering's caption says so on a capped K's last frame
    run = prepared.run
    index = next(i for i, s in enumerate(run.snapshots) if s.k == capped[-1] and s.iteration == 1)
    fig = panel_figure(ClusterPanel(), run, index)
    assert "not converged" in fig.axes[0].get_title()


def test_the_clustering_fills_its_panel_with_an_equal_aspect():
    prepared = mlviz.prepare("kmeans", k_max=4)
    fig = scene_figure(prepared.scene, prepared.run, -1)
    elbow_ax, ax = fig.axes
    renderer = fig.canvas.get_renderer()
    for each in fig.axes:  # nothing unseen (an empty moving marker) pushes the layout in
        tight = each.get_tightbbox(renderer)
        assert tight.y0 >= 0 and tight.x0 >= 0 and tight.y0 < 0.05 * fig.bbox.height
    box = ax.get_window_extent()
    # as tall as the elbow panel beside it: no bands above and below
    assert box.height >= 0.97 * elbow_ax.get_window_extent().height
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert (y1 - y0) / (x1 - x0) == pytest.approx(box.height / box.width, rel=0.01)
    points = prepared.run.dataset.X
    assert x0 < points[:, 0].min() and points[:, 0].max() < x1
    assert y0 < points[:, 1].min() and points[:, 1].max() < y1
    # the Voronoi regions reach the panel's edges
    cells = ax.collections[0].get_paths()
    corners = np.concatenate([cell.vertices for cell in cells])
    assert corners[:, 0].min() <= x0 and corners[:, 0].max() >= x1
    assert corners[:, 1].min() <= y0 and corners[:, 1].max() >= y1


def test_twelve_clusters_have_twelve_different_colour_and_marker_pairs():
    run = mlviz.prepare("kmeans", frames=1, recap=False).run
    assert run.snapshots[-1].k == 12
    fig = panel_figure(ClusterPanel(), run, -1, figsize=(6.4, 4.0))
    ax = fig.axes[0]
    from matplotlib.collections import PathCollection

    centres = [c for c in ax.collections if isinstance(c, PathCollection)
               and len(c.get_offsets()) == 1 and c.get_sizes()[0] > 100]
    assert len(centres) == 12
    pairs = {(tuple(np.round(c.get_facecolor()[0], 3)),
              c.get_paths()[0].vertices.round(3).tobytes()) for c in centres}
    assert len(pairs) == 12
    colours = {pair[0] for pair in pairs}
    assert len(colours) == 8  # the palette cycles: the marker tells 1 and 9 apart


def test_a_dark_poster_is_dark_with_light_text():
    from theme_look import assert_dark_poster

    assert_dark_poster(mlviz.prepare("kmeans", k_max=5, max_iter=2))


# ---- 0.3: the story, the elbow recap, stable colours, trails, true classes ----------------


def test_the_story_has_a_chapter_per_k_then_the_elbow():
    from mlviz.story import story_problems

    prepared = mlviz.prepare("kmeans", k_max=6)
    run = prepared.run
    story = prepared.algorithm.story(prepared.config, run)
    assert story_problems(story, run.epochs) == []
    titles = [c.title for c in story.chapters]
    assert titles == [f"K = {k}" for k in range(1, 7)] + ["the elbow"]
    ks, recap = run.trace("k"), run.trace("recap").astype(bool)
    for k, chapter in zip(range(1, 7), story.chapters):
        assert chapter.start == int(np.flatnonzero(ks == k)[0])  # where K really starts
    assert story.chapters[-1].start == int(np.flatnonzero(recap)[0]) == run.epochs[-1]
    assert "\\mu" in story.objective


def test_a_frame_budget_keeps_the_converged_frame_of_every_k():
    for frames in (13, 20):
        run = mlviz.prepare("kmeans", frames=frames).run
        shown = [(s.k, s.converged) for s in run.snapshots if not s.recap]
        assert {k for k, converged in shown if converged} == set(range(1, 13)), frames
        assert run.n_frames <= frames and run.snapshots[-1].recap
    assert mlviz.prepare("kmeans", frames=1).run.snapshots[-1].recap


def test_the_poster_is_the_elbow_k_with_the_elbow_marked_whatever_the_frames():
    full = mlviz.prepare("kmeans")
    two = mlviz.prepare("kmeans", frames=2)
    last = full.run.snapshots[-1]
    assert last.recap and last.k == 3 and two.run.snapshots[-1].k == 3
    assert np.array_equal(next(full.renderer().frames(indices=[full.run.n_frames - 1])),
                          next(two.renderer().frames(indices=[1])))
    ax = elbow_axes(full, -1)
    texts = [t.get_text() for t in ax.texts if t.get_text()]
    assert "elbow: K = 3" in texts
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [list(line.get_xdata()) for line in dashed] == [[3, 3]]
    mid = elbow_axes(full, full.run.n_frames // 2)
    assert not any("elbow" in t.get_text() for t in mid.texts)


def test_clusters_keep_their_colour_from_one_k_to_the_next():
    config = KMeansConfig(k_max=6)
    snaps = [s for s in KMeansTrainer(config).run(default_dataset(config)) if not s.recap]
    finals = {s.k: s.centroids for s in snaps}
    for k in range(2, 7):
        old, new = finals[k - 1], finals[k]
        # cluster i of K is, greedily, the nearest to cluster i of K - 1
        d = np.linalg.norm(old[:, None] - new[None], axis=2)
        assert d[np.arange(k - 1), np.arange(k - 1)].sum() <= d.min(axis=1).sum() * 1.5 + 1
    # K = 3 on three blobs and K = 4: the three blob centroids keep their index
    assert np.allclose(finals[3], finals[4][:3], atol=80)
    # the relabelling keeps Lloyd's result: labels are the nearest centroid
    for s in snaps:
        d2 = ((default_dataset(config).X[:, None] - s.centroids[None]) ** 2).sum(axis=2)
        assert np.array_equal(s.labels, d2.argmin(axis=1))


def test_match_order_pairs_nearest_and_puts_the_new_one_last():
    from mlviz_kmeans.trainer import match_order

    previous = np.array([[0.0, 0.0], [10.0, 0.0]])
    centroids = np.array([[10.0, 1.0], [50.0, 50.0], [0.0, 1.0]])
    assert match_order(previous, centroids).tolist() == [2, 0, 1]


def test_trails_follow_each_centroid_through_this_k_from_the_traces():
    """The trails come from the traces: every Lloyd step, the ones not drawn included."""
    prepared = mlviz.prepare("kmeans", k_max=4)
    run = prepared.run
    frame = max(i for i, s in enumerate(run.snapshots) if s.k == 4 and not s.recap)
    steps = run.snapshots[frame].iteration + 1
    assert steps > sum(s.k == 4 for s in run.snapshots)  # some steps are not drawn
    fig = panel_figure(ClusterPanel(), run, frame, figsize=(6.4, 4.0))
    from matplotlib.collections import LineCollection

    trails = [c for c in fig.axes[0].collections
              if isinstance(c, LineCollection) and c.get_linewidths()[0] == 2.0][0]
    segments = trails.get_segments()
    assert len(segments) == 4 and all(len(seg) == steps for seg in segments)
    epochs = [i for i, s in enumerate(run.trace("k")) if s == 4][:steps]
    path = run.trace("params.centroids")[epochs]
    for i, seg in enumerate(segments):
        assert np.allclose(seg, path[:, i])


def test_an_empty_cluster_says_so():
    prepared = mlviz.prepare("kmeans", k_max=2, recap=False, frames=1)
    run = prepared.run
    snap = run.snapshots[-1]
    far = np.array([[snap.centroids[0, 0], snap.centroids[0, 1]], [5000.0, 5000.0]])
    empty = replace(snap, centroids=far, labels=np.zeros_like(snap.labels))
    fig = panel_figure(ClusterPanel(), replace(run, snapshots=(empty,)), 0, figsize=(6.4, 4))
    texts = [t for t in fig.axes[0].texts if "empty" in t.get_text()]
    assert len(texts) == 1 and np.allclose(texts[0].xy, far[1])
    fig = panel_figure(ClusterPanel(), run, 0, figsize=(6.4, 4))
    assert not any("empty" in t.get_text() for t in fig.axes[0].texts)


def test_moons_show_the_true_classes_by_marker_and_the_clusters_by_colour():
    run = mlviz.prepare("kmeans", dataset="moons", frames=1).run
    fig = panel_figure(ClusterPanel(), run, 0, figsize=(6.4, 4.0))
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None and "true class" in legend.get_title().get_text()
    assert [t.get_text() for t in legend.get_texts()][:2] == ["upper moon", "lower moon"]
    snap = run.snapshots[-1]
    y = run.dataset.y
    from matplotlib.collections import PathCollection

    dots = [c for c in ax.collections if isinstance(c, PathCollection)
            and len(c.get_offsets()) in (int((y == 0).sum()), int((y == 1).sum()))][:2]
    for j, scatter in enumerate(dots):
        assert np.allclose(scatter.get_offsets(), run.dataset.X[y == j])
        colours = scatter.get_facecolors()[:, :3]
        expected = ClusterPanel_colours(fig, snap.labels[y == j])
        assert np.allclose(colours, expected)
    # the clusters cut across the classes: some cluster holds points of both moons
    assert any(len(set(y[snap.labels == c])) == 2 for c in range(snap.k))


def ClusterPanel_colours(fig, labels):
    from matplotlib.colors import to_rgb

    from mlviz.theme import resolve_theme

    theme = resolve_theme(None)
    return np.array([to_rgb(theme.color(int(i))) for i in labels])


def test_the_seed_sweep_fits_one_k_from_one_random_start_and_says_so():
    from mlviz.sweep import sweep_defaults

    algorithm = mlviz.prepare("kmeans", frames=1).algorithm
    defaults = sweep_defaults(algorithm)
    assert defaults.settings == {"n_init": 1, "init": "random", "k_min": 3, "k_max": 3}
    config = KMeansConfig(**defaults.settings)
    snaps = list(KMeansTrainer(config).run(default_dataset(config)))
    assert {s.k for s in snaps} == {3} and not any(s.recap for s in snaps)
    scene = defaults.scene(config)
    assert scene.panels[0].xlabel == "Lloyd iteration (K = 3)"
    # a run from K = 3 repeats K = 3 of a run from K = 1 (the same random draws)
    whole = [s for s in KMeansTrainer(replace(config, k_min=1)).run(default_dataset(config))
             if s.k == 3]
    assert [s.loss for s in whole] == [s.loss for s in snaps]
    with pytest.raises(mlviz.ConfigError):
        KMeansConfig(k_min=4, k_max=3).validate()


def test_uniform_noise_says_there_is_no_clear_elbow():
    from mlviz_kmeans.trainer import CLEAR_ELBOW, elbow_sharpness

    assert elbow_sharpness(np.arange(1, 6), [100, 40, 10, 8, 6], 3) == pytest.approx(15.0)
    assert elbow_sharpness(np.arange(1, 6), [100, 75, 55, 40, 30], 3) < CLEAR_ELBOW
    uniform = mlviz.prepare("kmeans", dataset="uniform", frames=2)
    ax = elbow_axes(uniform, -1)
    assert any("no clear elbow" in t.get_text() for t in ax.texts)
    story = uniform.algorithm.story(uniform.config, uniform.run)
    assert story.chapters[-1].sentence.startswith("No clear elbow")
    blobs = mlviz.prepare("kmeans", frames=2)
    assert blobs.algorithm.story(blobs.config, blobs.run).chapters[-1].sentence.startswith(
        "The elbow: beyond K = 3")


def test_train_keeps_every_keyframe_under_a_budget_and_fills_the_rest_evenly():
    """The generic rule k-means relies on (mlviz.trainer's keeper): a snapshot whose
    ``keyframe`` is true is drawn whatever the budget leaves; the others fill the room."""
    from dataclasses import dataclass

    from mlviz import Config, FrameSchedule, Snapshot
    from mlviz.trainer import train

    @dataclass(frozen=True)
    class Keyed(Snapshot):
        keyframe: bool = False

    keys = {7, 23, 61, 62, 90}

    class Toy:
        def run(self, dataset):
            for epoch in range(100):
                yield Keyed(epoch=epoch, loss=float(epoch), keyframe=epoch in keys)

    data = default_dataset(KMeansConfig())
    for budget in (8, 12, 40):
        run = train(Toy(), data, Config(), FrameSchedule.every(budget))
        drawn = [s.epoch for s in run.snapshots]
        assert keys <= set(drawn) and drawn[-1] == 99 and len(drawn) == budget, budget
        assert drawn == sorted(drawn)
    run = train(Toy(), data, Config(), FrameSchedule.every(3))  # too many keys: thinned
    assert len(run.snapshots) == 3 and run.snapshots[-1].epoch == 99
    run = train(Toy(), data, Config(), FrameSchedule(steps=((100, 10),)))
    assert keys <= {s.epoch for s in run.snapshots}  # the rhythm alone would skip them


def test_thinning_a_finished_run_keeps_the_converged_frame_of_every_k():
    """`mlviz render run.npz --frames N` thins a recorded run: the must-keep keyframes
    (each K's converged step, the recap) stay; the notable steps fill the room left."""
    prepared = mlviz.prepare("kmeans", k_max=4)
    keys = [s.epoch for s in prepared.run.snapshots if s.keyframe == MUST_KEEP]
    assert len(keys) == 5  # K = 1 … 4 and the recap
    assert len(prepared.run.snapshots) > len(keys) + 2
    thinned = prepared.with_frames(len(keys) + 2)
    epochs = [s.epoch for s in thinned.run.snapshots]
    assert len(epochs) == len(keys) + 2 and set(keys) <= set(epochs)
    assert epochs[-1] == prepared.run.snapshots[-1].epoch


def test_few_frames_idle_on_a_flat_inertia():
    """Issue 18: no scene idles on a flat loss for more than about a fifth of its length.
    Within each K, drawing every Lloyd step (0.3) spent 28 % of the frames on an inertia
    that moved by less than 1 % of that K's range; as many frames spread evenly over the
    steps, 15 %; the notable steps, a few %."""
    from mlviz import FrameSchedule
    from mlviz.trainer import train
    from pacing_look import flat_share

    prepared = mlviz.prepare("kmeans")
    assert flat_share(prepared.run, by="k") <= 0.2
    config, data = prepared.config, prepared.run.dataset

    class Unmarked:  # the same steps, none a keyframe: what a budget spreads evenly
        def run(self, dataset):
            for snapshot in KMeansTrainer(config).run(dataset):
                yield replace(snapshot, keyframe=0)

    every = train(Unmarked(), data, config, FrameSchedule.every())
    assert flat_share(every, by="k") > 0.2
    even = train(Unmarked(), data, config, FrameSchedule.every(prepared.run.n_frames))
    assert flat_share(prepared.run, by="k") < flat_share(even, by="k") / 2
    for frames in (13, 20):
        assert flat_share(mlviz.prepare("kmeans", frames=frames).run, by="k") <= 0.2


def test_notable_steps_fall_by_a_share_of_the_k_s_fall():
    inertia = np.array([100.0, 50.0, 20.0, 19.5, 18.0, 12.0, 10.5, 10.2, 10.0, 10.0])
    # 1.5 % of the fall of 90 is 1.35: 19.5 is not that far below 20, 18 is; 10.5 is that
    # far below 12 but not that far above the lowest, so the next drawn step is the last
    assert notable_steps(inertia, step=0.015).tolist() == [0, 1, 2, 4, 5, 9]
    assert notable_steps(inertia, step=0.5).tolist() == [0, 9]  # 50 is within 45 of 10
    assert notable_steps(np.array([7.0, 7.0, 7.0])).tolist() == [0, 2]  # flat: ends only
    assert notable_steps(np.array([3.0])).tolist() == [0]
    rng = np.random.default_rng(0)
    for _ in range(200):  # every drawn step moves by a NOTABLE share of the fall, or more
        inertia = np.sort(rng.exponential(size=rng.integers(2, 40)))[::-1]
        drawn = inertia[notable_steps(inertia)]
        assert -np.diff(drawn).min() >= NOTABLE * (inertia[0] - inertia[-1])


@pytest.mark.parametrize("k_max", [4, 5, 6, 12])
def test_the_elbow_does_not_move_with_how_many_ks_are_fitted(k_max):
    """Three blobs: the elbow is K = 3 whether the curve stops at K = 4 or runs to 12
    (the kneedle rule alone said K = 2 for k_max 4 and 5)."""
    inertia, _ = finals_of(KMeansConfig(k_max=k_max))
    assert knee(np.arange(1, k_max + 1), inertia) == 3


def test_a_frame_is_the_same_whatever_was_drawn_before_it():
    """Workers and the GIF's palette samples draw frames out of order: the elbow's arrow,
    drawn on the last frame, must not stay on a frame drawn after it."""
    prepared = mlviz.prepare("kmeans", k_max=4)
    middle, last = prepared.run.n_frames // 2, prepared.run.n_frames - 1
    fresh = list(prepared.renderer().frames(indices=[middle]))[0]
    after = list(prepared.renderer().frames(indices=[last, middle]))[1]
    assert np.array_equal(fresh, after)


# ---- the elbow at the edge: too few Ks say so ---------------------------------------------

def test_an_elbow_needs_a_k_after_it_that_barely_lowers_the_inertia():
    from mlviz_kmeans.trainer import clear_elbow, too_few_ks

    # three blobs fitted for K = 1 … 3: K = 2 is sharp (60 into it, 30 out of it is 2x;
    # here 80 vs 15 = 5.3x), but K = 3 still takes 3/4 of its inertia away: no elbow yet
    assert not clear_elbow(np.arange(1, 4), [100, 20, 5], 2)
    assert too_few_ks(np.arange(1, 4), [100, 20, 5])
    assert knee(np.arange(1, 4), [100, 20, 5]) != 3  # the last K is never claimed
    # one more K shows the bend at 3
    assert clear_elbow(np.arange(1, 5), [100, 20, 5, 4.5], 3)
    assert not too_few_ks(np.arange(1, 5), [100, 20, 5, 4.5])
    assert knee(np.arange(1, 5), [100, 20, 5, 4.5]) == 3
    assert too_few_ks(np.arange(1, 3), [100, 20]) and too_few_ks(np.arange(1, 2), [100])
    # a smooth curve that has flattened by its end: no elbow, but not too few Ks either
    assert not too_few_ks(np.arange(1, 7), [100, 75, 60, 50, 44, 40])


@pytest.mark.parametrize("k_max", [2, 3])
def test_too_few_ks_mark_no_elbow_and_say_why(k_max):
    """k_max = 3 on three blobs used to mark K = 2 as "the elbow" (the only K with Ks on
    both sides) and claim that beyond it extra clusters barely lower the inertia, while
    K = 3 took three quarters of it away; k_max = 2 showed nothing. Both now say that the
    range is too short to find an elbow, and end on the last K, marking none."""
    prepared = mlviz.prepare("kmeans", k_max=k_max, frames=4)
    run = prepared.run
    assert not run.trace("recap").any() and run.snapshots[-1].k == k_max
    story = prepared.algorithm.story(prepared.config, run)
    from mlviz.story import story_problems

    assert story_problems(story, run.epochs) == []
    last = story.chapters[-1]
    assert last.title == "too few Ks" and last.start == run.epochs[-1]
    assert last.sentence.startswith("Too few Ks to find an elbow") and len(last.sentence) < 110
    texts = [t for t in elbow_axes(prepared, -1).texts if t.get_visible() and t.get_text()]
    assert any(t.get_text().startswith("too few Ks") for t in texts)
    assert not any("elbow: K" in t.get_text() for t in texts)
    before = [t for t in elbow_axes(prepared, 0).texts if t.get_visible()]
    assert not any(t.get_text().startswith("too few Ks") for t in before)  # at the end only


def test_enough_ks_mark_the_elbow_and_say_nothing_of_too_few():
    prepared = mlviz.prepare("kmeans", k_max=4, frames=4)
    assert prepared.run.snapshots[-1].recap and prepared.run.snapshots[-1].k == 3
    texts = [t.get_text() for t in elbow_axes(prepared, -1).texts if t.get_visible()]
    assert "elbow: K = 3" in texts and not any(t.startswith("too few") for t in texts)
    story = prepared.algorithm.story(prepared.config, prepared.run)
    assert story.chapters[-1].title == "the elbow"


def test_one_k_says_nothing_about_elbows():
    """The seed sweep fits K = 3 alone: no elbow to find, and no note that there is none."""
    prepared = mlviz.prepare("kmeans", k_min=3, k_max=3, n_init=1, init="random", frames=3)
    story = prepared.algorithm.story(prepared.config, prepared.run)
    assert [c.title for c in story.chapters] == ["K = 3"]
    texts = [t.get_text() for t in elbow_axes(prepared, -1).texts if t.get_visible()]
    assert not any("elbow" in t for t in texts)


def test_the_elbow_label_sits_over_the_flat_part_inside_the_panel():
    """The label went up and to the left of K = 3 for k_max = 4, onto the steep segment
    from K = 2; it goes to the right where it fits, placed when drawn (frames drawn in any
    order agree)."""
    prepared = mlviz.prepare("kmeans", k_max=4, frames=4)
    ax = elbow_axes(prepared, -1)
    renderer = ax.figure.canvas.get_renderer()
    (label,) = [t for t in ax.texts if t.get_text() == "elbow: K = 3"]
    box, point = label.get_window_extent(renderer), ax.transData.transform(label.xy)
    assert box.x0 > point[0] and box.x1 <= ax.bbox.x1
    renderer_ = prepared.renderer(dpi=50)
    in_turn = list(renderer_.frames())[-1]
    assert np.array_equal(in_turn, next(renderer_.frames(indices=[prepared.n_frames - 1])))


def test_the_sweeps_lloyd_axis_has_whole_iterations_only():
    prepared = mlviz.prepare("kmeans", sweep={"seed": [0, 1]}, frames=2)
    fig = prepared.renderer(dpi=40).figure_at(-1)
    (curve,) = [ax for ax in fig.axes if ax.get_xlabel().startswith("Lloyd iteration")]
    ticks = [t for t in curve.get_xticks() if curve.get_xlim()[0] <= t <= curve.get_xlim()[1]]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
