"""Race torch.optim's SGD, SGD with momentum, RMSprop and Adam on a 2D surface.

torch is imported only when the race starts (``mlviz list`` stays instant).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from mlviz import Config, ConfigError, Dataset, Snapshot, param
from mlviz.torchutil import torch_threads

from .surfaces import OPTIMIZERS, SURFACES, Surface

#: A racer is stopped (and drawn no further) once a coordinate exceeds this size.
DIVERGED = 1e6


def _tuned(kind: str) -> str:
    values = ", ".join(f"{name} {s.lr[kind]:g}" for name, s in SURFACES.items())
    return f"(0: tuned for the surface: {values})"


@dataclass(frozen=True)
class OptimizersConfig(Config):
    seed: int = param(0, "random seed; the race itself is deterministic, the seed only "
                         "picks the point for start=random", min=0)
    surface: Literal["rosenbrock", "saddle", "himmelblau"] = param(
        "rosenbrock", "the surface to minimise: Rosenbrock's valley, a saddle between two "
        "minima (x² − y² + y⁴/4), or Himmelblau's four minima"
    )
    steps: int = param(0, "optimisation steps (0: the surface's default: "
                          + ", ".join(f"{n} {s.steps}" for n, s in SURFACES.items()) + ")",
                       min=0, max=100_000)
    start: str = param("auto", "where every optimizer starts: 'auto' (the surface's start: "
                       + ", ".join(f"{n} {s.start}" for n, s in SURFACES.items())
                       + "), 'random' (uniform in the view, from seed) or 'x,y'")
    lr_sgd: float = param(0.0, "learning rate of plain SGD " + _tuned("sgd"), min=0.0, max=10.0)
    lr_momentum: float = param(0.0, "learning rate of SGD with momentum " + _tuned("momentum"),
                               min=0.0, max=10.0)
    momentum: float = param(0.9, "momentum coefficient of SGD with momentum", min=0.0,
                            max=0.999)
    lr_rmsprop: float = param(0.0, "learning rate of RMSprop (alpha 0.99) " + _tuned("rmsprop"),
                              min=0.0, max=10.0)
    lr_adam: float = param(0.0, "learning rate of Adam (betas 0.9, 0.999) " + _tuned("adam"),
                           min=0.0, max=10.0)

    def validate(self) -> None:
        self.start_point()

    @property
    def spec(self) -> Surface:
        return SURFACES[self.surface]

    @property
    def n_steps(self) -> int:
        return self.steps or self.spec.steps

    def learning_rates(self) -> dict[str, float]:
        """Each optimizer's learning rate: the one set, or the surface's tuned one."""
        chosen = {"sgd": self.lr_sgd, "momentum": self.lr_momentum,
                  "rmsprop": self.lr_rmsprop, "adam": self.lr_adam}
        return {key: value or self.spec.lr[key] for key, value in chosen.items()}

    def start_point(self) -> tuple[float, float]:
        """The common starting point (raises :class:`ConfigError` for a malformed ``start``)."""
        spec = self.spec
        text = self.start.strip().lower()
        if text == "auto":
            return spec.start
        if text == "random":
            rng = np.random.default_rng(self.seed)
            return (float(rng.uniform(*spec.xlim)), float(rng.uniform(*spec.ylim)))
        try:
            x, y = (float(v) for v in text.split(","))
        except ValueError:
            raise ConfigError(
                f"start={self.start!r}: expected 'auto', 'random' or two numbers 'x,y'"
            ) from None
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ConfigError(f"start={self.start!r}: coordinates must be finite")
        return (x, y)


@dataclass(frozen=True)
class RaceSnapshot(Snapshot):
    """Every racer after ``epoch`` steps, one row per optimizer (order of OPTIMIZERS).

    ``positions`` (4, 2) and ``values`` (4,) are NaN for a racer that diverged. ``loss`` is
    the leader's gap f − f_min. Both are traced at every step (the trails and loss curves).
    """

    traces: ClassVar[tuple[str, ...]] = ("positions", "values")

    positions: np.ndarray = None  # type: ignore[assignment]  # always given
    values: np.ndarray = None  # type: ignore[assignment]  # always given


def make_optimizer(key: str, point, lr: float, momentum: float):
    """``torch.optim``'s SGD, SGD with momentum, RMSprop or Adam (defaults otherwise), update
    for update: :class:`mlviz.torchutil.PlainOptimizer`, which skips torch.optim's
    seconds-long first import and its per-step overhead (the tests check it against
    torch.optim step for step)."""
    from mlviz.torchutil import PlainOptimizer

    if key == "sgd":
        return PlainOptimizer("sgd", [point], lr=lr)
    if key == "momentum":
        return PlainOptimizer("sgd", [point], lr=lr, momentum=momentum)
    if key == "rmsprop":
        return PlainOptimizer("rmsprop", [point], lr=lr)
    if key == "adam":
        return PlainOptimizer("adam", [point], lr=lr)
    raise ValueError(f"unknown optimizer {key!r}")


class RaceTrainer:
    """Each optimizer moves its own copy of the start point downhill, one step per epoch."""

    def __init__(self, config: OptimizersConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[RaceSnapshot]:
        with torch_threads(1):
            yield from self._steps(dataset)

    def _steps(self, dataset: Dataset) -> Iterator[RaceSnapshot]:
        import torch

        config = self.config
        spec = config.spec
        steps = config.n_steps
        start = config.start_point()
        rates = config.learning_rates()
        points = [torch.tensor(start, dtype=torch.float64, requires_grad=True)
                  for _ in OPTIMIZERS]
        optimizers = [make_optimizer(key, p, rates[key], config.momentum)
                      for (key, _), p in zip(OPTIMIZERS, points)]
        active = [True] * len(OPTIMIZERS)
        for step in range(steps + 1):
            positions = np.full((len(OPTIMIZERS), 2), np.nan)
            f_values = np.full(len(OPTIMIZERS), np.nan)
            # every racer still running, evaluated at once: one graph, one backward pass
            # (element by element the same arithmetic as one racer at a time)
            racing = [k for k in range(len(OPTIMIZERS)) if active[k]]
            value = None
            if racing:
                stacked = torch.stack([points[k] for k in racing])
                value = spec.f(stacked[:, 0], stacked[:, 1])
                xy = stacked.detach().numpy()
                finite = torch.isfinite(value).numpy() & np.all(np.abs(xy) < DIVERGED, axis=1)
                for row, k in enumerate(racing):
                    if not finite[row]:
                        active[k] = False
                        continue
                    positions[k] = xy[row]
                    f_values[k] = value[row].item()
            gaps = f_values - spec.f_min
            finite = gaps[np.isfinite(gaps)]
            yield RaceSnapshot(
                epoch=step, loss=float(finite.min()) if finite.size else float("nan"),
                params={"positions": positions}, positions=positions, values=f_values,
            )
            if step < steps and value is not None:
                keep = [row for row, k in enumerate(racing) if active[k]]
                if keep:
                    for k in racing:
                        points[k].grad = None
                    value[keep].sum().backward()
                    for k in racing:
                        if active[k]:
                            optimizers[k].step()


def race_dataset(config: OptimizersConfig) -> Dataset:
    """The 'data' of a race is just its starting point (the surface is the objective)."""
    spec = config.spec
    return Dataset(np.array([config.start_point()]), feature_names=("x", "y"),
                   target_name="f", name=spec.name,
                   description=f"start point on f(x, y) = {spec.formula}")
