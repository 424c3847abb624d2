"""The 2D test surfaces, their known minima, and the race settings tuned for each.

Each function uses only arithmetic, so it works on numpy arrays and torch tensors alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


def rosenbrock(x, y):
    """(1 − x)² + 100 (y − x²)²: a curved, flat-bottomed valley; minimum 0 at (1, 1)."""
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def saddle(x, y):
    """x² − y² + y⁴/4: a saddle at the origin between two minima, −1 at (0, ±√2)."""
    return x**2 - y**2 + y**4 / 4


def himmelblau(x, y):
    """(x² + y − 11)² + (x + y² − 7)²: four minima, all 0."""
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


@dataclass(frozen=True)
class Surface:
    """A surface with what the race needs: where to look, where to start, how fast to go."""

    name: str
    f: Callable
    formula: str
    minima: tuple[tuple[float, float], ...]
    f_min: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]
    steps: int
    lr: dict[str, float]  # tuned learning rate of each optimizer (keys: OPTIMIZERS)
    saddles: tuple[tuple[float, float], ...] = ()


#: The racers, in drawing order: (key, legend name).
OPTIMIZERS = (("sgd", "SGD"), ("momentum", "SGD + momentum"), ("rmsprop", "RMSprop"),
              ("adam", "Adam"))

SURFACES: dict[str, Surface] = {
    "rosenbrock": Surface(
        "rosenbrock", rosenbrock, "(1 − x)² + 100(y − x²)²", ((1.0, 1.0),), 0.0,
        xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), start=(-1.5, 2.0), steps=1000,
        lr={"sgd": 1e-3, "momentum": 1e-3, "rmsprop": 1e-2, "adam": 5e-2},
    ),
    "saddle": Surface(
        "saddle", saddle, "x² − y² + y⁴/4", ((0.0, math.sqrt(2.0)), (0.0, -math.sqrt(2.0))),
        -1.0, xlim=(-2.0, 2.0), ylim=(-2.2, 2.2), start=(-1.5, 0.001), steps=400,
        lr={"sgd": 1e-2, "momentum": 1e-2, "rmsprop": 1e-2, "adam": 5e-2},
        saddles=((0.0, 0.0),),
    ),
    "himmelblau": Surface(
        "himmelblau", himmelblau, "(x² + y − 11)² + (x + y² − 7)²",
        ((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
         (-3.779310253377747, -3.283185991286170), (3.584428340330492, -1.848126526964404)),
        0.0, xlim=(-5.0, 5.0), ylim=(-5.0, 5.0), start=(0.5, -4.0), steps=300,
        lr={"sgd": 1e-3, "momentum": 1e-3, "rmsprop": 2e-2, "adam": 5e-2},
    ),
}
