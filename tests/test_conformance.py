"""Every registered algorithm passes mlviz.testing.check_algorithm, and the check itself
catches what it promises to catch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from mlviz import Algorithm, Config, Dataset, Panel, Scene, Snapshot, load_registry, param
from mlviz.panels import MetricCurvePanel
from mlviz.testing import check_algorithm

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


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(load_registry().algorithms))
def test_every_algorithm_conforms(name):
    check_algorithm(name, **FAST.get(name, {}))


def test_every_built_in_algorithm_has_fast_settings():
    assert set(FAST) == set(load_registry().algorithms)


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
