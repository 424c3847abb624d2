"""Every registered algorithm passes mlviz.testing.check_algorithm, and the check itself
catches what it promises to catch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from mlviz import Algorithm, Config, Dataset, Panel, Scene, Snapshot, load_registry, param
from mlviz.panels import MetricCurvePanel
from mlviz.testing import CHECKS, algorithm_checks, check_algorithm, parametrize_checks

#: Hyperparameters that train each built-in algorithm in a second or two.
FAST: dict[str, dict] = {
    "kmeans": {"k_max": 4},
    "linear-regression": {"epochs": 60},
    "pca": {},
    "logistic-regression": {"epochs": 300},
    "perceptron": {"grid": 4, "epochs": 30},
    "neural-network": {"epochs": 20},
    "layer-transformations": {"epochs": 4, "resolution": 5, "n_points": 100},
    "vanishing-gradients": {"epochs": 3, "resolution": 5, "n_points": 100},
    "nn-regression": {"epochs": 300, "lsq_iters": 50},
    "weight-nudging": {},
    "parabola": {"epochs": 150},
    "optimizers": {"steps": 60},
}


REGISTRY = load_registry()
#: One case per check of each built-in algorithm: each trains once, for all its checks.
TRAINED = sorted(name for name, algorithm in REGISTRY.algorithms.items()
                 if not algorithm.record_only)  # watched-model: tests/test_watch.py
CASES = [pytest.param(check, id=check_id) for name in TRAINED
         for check_id, check in algorithm_checks(name, registry=REGISTRY, **FAST.get(name, {}))]


@pytest.mark.slow
@pytest.mark.parametrize("check", CASES)
def test_every_algorithm_conforms(check):
    check()


def test_every_built_in_algorithm_has_fast_settings():
    assert set(FAST) == set(TRAINED)


@dataclass(frozen=True)
class WalkConfig(Config):
    steps: int = param(30, "how many steps the walk takes", min=1)


@dataclass(frozen=True)
class WalkSnapshot(Snapshot):
    traces: ClassVar[tuple[str, ...]] = ("position",)
    position: float = 0.0


class Walk:
    def __init__(self, config):
        self.config = config

    def run(self, dataset):
        rng = np.random.default_rng(self.config.seed)
        position = 0.0
        for epoch in range(self.config.steps):
            position += rng.normal()
            yield WalkSnapshot(epoch, abs(position), position=position)


class PathFromDrawnFrames(Panel):
    """What mlviz 0.1 panels did: a curve made of the drawn snapshots only."""

    name = "drawn-path"

    def setup(self, ax, run):
        ax.plot([s.epoch for s in run.snapshots], [s.position for s in run.snapshots])
        ax.set_xlim(0, 30)
        ax.set_ylim(-10, 10)

    def update(self, snapshot):
        return []


class OwnWhiteBackground(Panel):
    """A panel that paints the figure with the light theme's white whatever the theme."""

    name = "white-walk"

    def setup(self, ax, run):
        from mlviz.theme import LIGHT

        ax.figure.patch.set_facecolor(LIGHT.background)
        ax.set_facecolor(LIGHT.background)
        (self.dot,) = ax.plot([], [], "o", color=self.theme.ink)

    def update(self, snapshot):
        self.dot.set_data([snapshot.epoch], [snapshot.position])
        return [self.dot]


class NamedColours(OwnWhiteBackground):
    """A panel that names its colour instead of asking the theme."""

    name = "red-walk"

    def setup(self, ax, run):
        (self.dot,) = ax.plot([], [], "o", color="#ff0000")


def walk(scene=lambda c: Scene([MetricCurvePanel("position")], figsize=(3, 2)), **changes):
    fields = dict(name="walk", summary="a random walk", config=WalkConfig, trainer=Walk,
                  dataset=lambda c: Dataset(np.zeros((1, 1))), scene=scene)
    return Algorithm(**{**fields, **changes})


def test_a_well_behaved_algorithm_passes():
    check_algorithm(walk())


@pytest.mark.parametrize("changes, failure", [
    ({"scene": lambda c: Scene([PathFromDrawnFrames()], figsize=(3, 2))},
     "poster-independent-of-frames: the last frame with --frames 2 differs"),
    ({"trainer": lambda c: Walk(c.replace(seed=int(np.random.default_rng().integers(1 << 30))))},
     "determinism: two runs with the same seed differ: losses"),
    ({"scene": lambda c: Scene([MetricCurvePanel("speed")], figsize=(3, 2))},
     "needs the trace 'speed'"),
    ({"scene": lambda c: Scene([OwnWhiteBackground()], figsize=(3, 2))},
     "themes: with --theme dark the poster is mostly light"),
    ({"scene": lambda c: Scene([NamedColours()], figsize=(3, 2))},
     "colours: test_conformance names colours"),
])
def test_the_check_catches_a_broken_algorithm(changes, failure):
    with pytest.raises(Exception, match=None) as info:
        check_algorithm(walk(**changes))
    assert failure in str(info.value)


def test_the_check_wants_help_text_for_every_hyperparameter():
    @dataclass(frozen=True)
    class Terse(WalkConfig):
        pace: float = 1.0

    with pytest.raises(AssertionError, match="help: hyperparameter 'pace' has no help text"):
        check_algorithm(walk(config=Terse))


def test_the_frames_helper_catches_a_panel_that_reads_drawn_snapshots():
    import mlviz
    from mlviz.testing import assert_frames_independent_of_budget

    good = mlviz.prepare(walk())
    assert_frames_independent_of_budget(good)
    bad = mlviz.prepare(walk(scene=lambda c: Scene([PathFromDrawnFrames()], figsize=(3, 2))))
    with pytest.raises(AssertionError, match="differs when 3 frames are drawn instead of all"):
        assert_frames_independent_of_budget(bad)


class CountingWalk(Walk):
    """A walk that counts how often it is trained."""

    runs = 0

    def run(self, dataset):
        type(self).runs += 1
        yield from super().run(dataset)


def test_the_checks_train_once_and_once_more_for_determinism():
    CountingWalk.runs = 0
    checks = algorithm_checks(walk(trainer=CountingWalk))
    assert [check_id for check_id, _ in checks] == [f"walk:{name}" for name in CHECKS]
    for _, check in checks:
        check()
    assert CountingWalk.runs == 2


def test_every_failure_is_reported_not_only_the_first():
    @dataclass(frozen=True)
    class Terse(WalkConfig):
        pace: float = 1.0

    broken = walk(config=Terse, scene=lambda c: Scene([PathFromDrawnFrames(), NamedColours()],
                                                      figsize=(6, 2)))
    with pytest.raises(AssertionError) as info:
        check_algorithm(broken)
    lines = str(info.value).splitlines()
    assert any("help: hyperparameter 'pace' has no help text" in line for line in lines)
    assert any("poster-independent-of-frames: the last frame" in line for line in lines)
    assert any("colours: test_conformance names colours" in line for line in lines)


def test_a_broken_story_fails_its_check_and_a_good_one_passes():
    from mlviz.story import Chapter, Story

    good = walk(story=lambda c, run: Story((Chapter("start", 0, "The walk begins."),)))
    dict(algorithm_checks(good))["walk:story"]()
    late = walk(story=lambda c, run: Story((Chapter("late", 5, "It starts late."),)))
    with pytest.raises(AssertionError, match="story: .*the first chapter starts at epoch 5"):
        dict(algorithm_checks(late))["walk:story"]()


def test_the_frames_checks_catch_frames_that_miss_the_last_epoch(monkeypatch):
    from mlviz import trainer

    chosen = trainer.FrameKeeper.chosen
    monkeypatch.setattr(trainer.FrameKeeper, "chosen",
                        lambda self, last: chosen(self, last)[:-1] or (self.kept[0],))
    checks = dict(algorithm_checks(walk()))
    for frames in (1, 2):
        with pytest.raises(AssertionError, match=f"frames-{frames}: --frames {frames} draws "
                                                 "epochs .* ending on the last"):
            checks[f"walk:frames-{frames}"]()


@parametrize_checks(walk())
def test_parametrize_checks_gives_one_case_per_check(check, request):
    assert request.node.callspec.id == str(check) == check.id
    check()


def test_mlviz_check_prints_one_line_per_check_and_exits_1_on_a_failure(monkeypatch, capsys):
    from mlviz import testing
    from mlviz.cli import main

    monkeypatch.setitem(testing._CHECK_FUNCTIONS, "colours",
                        lambda subject: subject.fail("colours", "a panel\nnames red"))
    assert main(["check", "parabola", "--set", "epochs=40"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"ok    parabola:{name}" if name != "colours" else
                     "FAIL  parabola:colours: a panel names red" for name in CHECKS]


@pytest.mark.parametrize("algorithm", ["pca", "kmeans", "weight-nudging"])
def test_a_run_stopped_early_tells_only_the_chapters_it_reached(algorithm):
    import mlviz

    whole = mlviz.prepare(algorithm)
    stop = int(whole.run.epochs[len(whole.run.epochs) // 3])
    short = mlviz.prepare(algorithm, epoch_limit=stop + 1)
    assert short.run.stopped and short.story is not None and whole.story is not None
    reached = [c for c in whole.story.chapters if c.start <= stop]
    assert 0 < len(short.story.chapters) == len(reached) < len(whole.story.chapters)
