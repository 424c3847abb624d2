"""Training a narrow PyTorch classifier on XOR, recording every layer's view of the data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple

import numpy as np

from mlviz import Config, Dataset, FrameSchedule, Snapshot, datasets, param
from mlviz.errors import ConfigError

GRID = 60  # resolution of the predicted-probability image over the input square


@dataclass(frozen=True)
class LayersConfig(Config):
    hidden_layers: int = param(
        2, "2-unit hidden layers between the 2-unit input layer and the output unit", min=0, max=8)
    activation: Literal["tanh", "sigmoid", "relu"] = param(
        "tanh", "activation after every layer but the output (a logit)")
    optimizer: Literal["auto", "sgd", "adam"] = param(
        "auto", "SGD with momentum or Adam (auto: picked for the dataset: Adam on xor and "
                "moons, SGD on circles)")
    lr: float = param(0.0, "learning rate (0: picked for the dataset: 0.03 with Adam on xor "
                           "and moons, 0.2 with SGD on circles)", min=0.0, max=10.0)
    momentum: float = param(0.9, "momentum of SGD", min=0.0, max=0.999)
    batch_size: int = param(50, "points per SGD step (500 points: 10 steps per epoch)",
                            min=1, max=100_000)
    epochs: int = param(0, "passes over the data, at most (0: picked for the dataset: 80 on xor "
                           "and moons, 50 on circles; see until_settled)", min=0, max=10_000)
    until_settled: bool = param(
        True, "stop before the last epoch once 97 % of the points are classified right and "
              "the loss fell less than a tenth of its fall so far over the last 3 epochs")
    init_scale: float = param(
        0.0, "initial weights are PyTorch's default (uniform ±1/√fan_in) times this (0: picked "
             "for the dataset: 3 on xor and moons, 2 on circles)", min=0.0, max=10.0)
    starts: int = param(
        0, "random initial weights tried, each trained for all the epochs, until one reaches "
           "95 % training accuracy; the first that does is drawn (1: only the seed's own; "
           "0: picked for the dataset: 12 on xor and moons, 1 on circles)", min=0, max=100)
    dataset: Literal["xor", "moons", "circles", "spiral"] = param(
        "xor", "default data (two classes in [−1, 1]²): XOR of the signs, two half-moons, a "
        "disc in a ring, or two spiral arms")
    n_points: int = param(500, "points in the default dataset", min=8, max=100_000)
    noise: float = param(0.0, "standard deviation of the Gaussian noise added to every point "
                              "of the default dataset", min=0.0, max=1.0)
    neuron: int = param(0, "the landscape panels vary weights 1 and 2 of this neuron of each "
                           "layer (0 or 1; the output layer has only neuron 0)", min=0, max=1)
    span: float = param(2.0, "landscape half-width: each weight varies by δ ∈ [−span, span]",
                        min=1e-3, max=100.0)
    resolution: int = param(15, "landscape grid points along each weight", min=3, max=101)

    #: Stock datasets this algorithm refuses up front, with the reason (one line).
    refused: ClassVar[dict[str, str]] = {
        "spiral": "two spiral arms are not untangled by layers of 2 units (the best settings "
                  "tried reach about 70 %); choose xor, moons or circles "
                  "(vanishing-gradients takes spiral)"}

    def __post_init__(self) -> None:
        super().__post_init__()
        optimizer, lr, init_scale, epochs, starts = DATASET_PICKS.get(self.dataset,
                                                                      DATASET_PICKS["xor"])
        if self.starts == 0:
            object.__setattr__(self, "starts", starts)
        if self.epochs == 0:
            object.__setattr__(self, "epochs", epochs)
        if self.optimizer == "auto":
            object.__setattr__(self, "optimizer", optimizer)
            if self.lr == 0:  # the dataset's rate belongs to its optimizer
                object.__setattr__(self, "lr", lr)
        if self.lr == 0:
            object.__setattr__(self, "lr", DEFAULT_LR[self.optimizer])
        if self.init_scale == 0:
            object.__setattr__(self, "init_scale", init_scale)

    def validate(self) -> None:
        reason = type(self).refused.get(self.dataset)
        if reason:
            raise ConfigError(f"dataset={self.dataset} is refused: {reason}")


class Picks(NamedTuple):
    """What mlviz picks for a stock dataset (see :data:`DATASET_PICKS`)."""

    optimizer: str
    lr: float
    init_scale: float
    epochs: int
    starts: int


#: What mlviz picks for each stock dataset when ``optimizer``, ``lr``, ``init_scale``,
#: ``epochs`` or ``starts`` are left at auto/0. A network of 2-unit layers untangles XOR or
#: the moons from less than half of its random initial weights (Adam at 0.03, weights ×3:
#: 42 % of 24 seeds on XOR, 38–50 % on the moons; SGD at 0.2, weights ×2: 21 % on XOR); the
#: others settle in a poor fold (~70 % on XOR, the ~88 % of a straight line on the moons).
#: So mlviz tries up to 12 starts and draws the first that reaches 95 % (all 12 failing:
#: about 1 in 700).
#: Circles fails whatever the settings (the lesson): one start. A run that separates stops
#: soon after its loss settles (``until_settled``), so the frames show the bending, not a
#: flat loss; tests measure the accuracy reached.
DATASET_PICKS: dict[str, Picks] = {
    "xor": Picks("adam", 0.03, 3.0, 80, 12),
    "circles": Picks("sgd", 0.2, 2.0, 50, 1),
    "moons": Picks("adam", 0.03, 3.0, 80, 12),
    "spiral": Picks("adam", 0.03, 3.0, 60, 1),
}
#: The training accuracy a start must reach to be drawn, when several are tried.
GOOD_ENOUGH = 0.95
#: The training accuracy a run must reach before it may stop early (a little above
#: :data:`GOOD_ENOUGH`: it may dip by a point or two where it stops).
STOP_ACCURACY = 0.97
#: ``until_settled``: the loss has settled when, over the last ``SETTLE_EPOCHS`` epochs, it
#: fell less than ``SETTLE_FRACTION`` of its whole fall since epoch 0.
SETTLE_EPOCHS, SETTLE_FRACTION = 3, 0.1
#: The learning rate of an optimizer chosen by hand with ``lr`` left at 0.
DEFAULT_LR = {"sgd": 0.2, "adam": 0.03}


@dataclass(frozen=True)
class LayersSnapshot(Snapshot):
    """State after ``epoch`` passes; ``loss`` is the mean BCE over all points, at these weights.

    Traced at every epoch: ``hidden_range``, ``grad_norms`` (one number a Linear layer),
    ``accuracy`` and ``start`` (which random start this run is, 0: the seed's own; the same
    at every epoch).
    """

    traces: ClassVar[tuple[str, ...]] = ("hidden_range", "grad_norms", "accuracy", "start")

    hidden: np.ndarray | None = None  # (n_layers, n, 2): the input, then each 2-unit layer's output
    hidden_range: np.ndarray | None = None  # (n_layers, 2, 2): [layer, (min, max), unit] of hidden
    proba: np.ndarray | None = None  # (n,): P(class 1) for every point
    grid_proba: np.ndarray | None = None  # (GRID, GRID): P(class 1) over [−1, 1]²
    grad_norms: np.ndarray | None = None  # (n_linear,): ‖∂loss/∂W‖ of each layer, full batch
    accuracy: float = 0.0
    start: int = 0


def layers_dataset(config: LayersConfig) -> Dataset:
    """The stock dataset ``config.dataset`` (:mod:`mlviz.datasets`): ``n_points`` in
    [−1, 1]², two classes; XOR (class 1 where exactly one coordinate is positive) by default."""
    return datasets.make(config.dataset, config.n_points, noise=config.noise, seed=config.seed)


#: layer-transformations draws every epoch up to this one (the layers bend early), then
#: about :data:`LATE_FRAMES` frames evenly over the rest.
DENSE_EPOCHS, LATE_FRAMES = 30, 5


def layers_schedule(config: LayersConfig) -> FrameSchedule:
    """Every epoch to 30, where the layers bend and the loss falls; then about five frames
    evenly over the rest (a long run: about 40 frames evenly over it all)."""
    if config.epochs > 4 * DENSE_EPOCHS:
        return FrameSchedule(steps=((5, 1),), late_step=max(1, config.epochs // 35))
    dense = min(DENSE_EPOCHS, config.epochs)
    late = max(1, -(-(config.epochs - dense) // LATE_FRAMES))
    return FrameSchedule(steps=((dense, 1),), late_step=late)


def n_linear(config: LayersConfig) -> int:
    return config.hidden_layers + 2


def build_model(config: LayersConfig):
    """Linear(2, 2) → act → [Linear(2, 2) → act] × hidden_layers → Linear(2, 1) (a logit)."""
    import torch

    activation = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[config.activation]

    class NarrowNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            sizes = [2] * (config.hidden_layers + 2) + [1]
            self.layers = torch.nn.ModuleList(
                torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

        def forward(self, x, keep: list | None = None):
            for layer in self.layers[:-1]:
                x = activation(layer(x))
                if keep is not None:
                    keep.append(x)
            return self.layers[-1](x).squeeze(-1)

    return NarrowNet()


#: Grid points × data points evaluated at once by :func:`landscape_loss` (bounds memory).
LANDSCAPE_CHUNK = 1 << 20


def landscape_loss(run):
    """Batched mean BCE of the run's network for a grid of parameter sets, in numpy.

    Float32, like the network. Written out unit by unit: the layers before the first
    parameter that varies over the grid are computed once for all grid points, and so is
    every unit whose weights and bias are the same at every grid point (a landscape varies
    two weights of one neuron), so a grid costs little more than the layers after it.
    """
    x = np.asarray(run.dataset.X, dtype=np.float32)
    y = np.asarray(run.dataset.y, dtype=np.float32)
    count = n_linear(run.config)
    activation = _NUMPY_ACTIVATIONS[run.config.activation]

    def loss(params) -> np.ndarray:
        layers = [(np.asarray(params[f"layers.{k}.weight"]), np.asarray(params[f"layers.{k}.bias"]))
                  for k in range(count)]
        size = len(layers[0][0])
        step = max(1, LANDSCAPE_CHUNK // max(len(x), 1))
        return np.concatenate([_grid_bce(layers, slice(start, start + step), x, y, activation)
                               for start in range(0, size, step)])

    return loss


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.reciprocal(np.exp(np.negative(z, out=z), out=z) + np.float32(1.0), out=z)


_NUMPY_ACTIVATIONS = {
    "tanh": lambda z: np.tanh(z, out=z),
    "sigmoid": _sigmoid,
    "relu": lambda z: np.maximum(z, np.float32(0.0), out=z),
}


def _grid_bce(layers: list, part: slice, x: np.ndarray, y: np.ndarray, activation) -> np.ndarray:
    """Mean BCE at grid points ``part``: each unit is an (n,) array while it is the same at
    every grid point, a (g, n) array once it is not (computed in place, in reused buffers)."""
    units = [x[:, i] for i in range(x.shape[1])]
    g = len(range(*part.indices(len(layers[0][0]))))
    spare: list[np.ndarray] = []  # (g, n) buffers no longer in use

    def buffer() -> np.ndarray:
        return spare.pop() if spare else np.empty((g, len(x)), dtype=np.float32)

    scratch = None
    for k, (weight, bias) in enumerate(layers):
        weight = weight[part].astype(np.float32, copy=False)
        bias = bias[part].astype(np.float32, copy=False)
        outputs = []
        for j in range(weight.shape[1]):
            w, b = weight[:, j], bias[:, j]
            if (w == w[0]).all() and (b == b[0]).all():  # this unit's parameters are fixed
                w, b = w[0], b[0]
            else:
                w, b = w[:, :, None], b[:, None]  # one column per grid point
            if w.ndim == 1 and all(u.ndim == 1 for u in units):  # still one row for all
                z = units[0] * w[0]
                for i in range(1, len(units)):
                    z += units[i] * w[i]
                z += b
            else:
                z = buffer()
                scratch = scratch if scratch is not None else np.empty_like(z)
                np.multiply(units[0], w[:, 0] if w.ndim == 3 else w[0], out=z)
                for i in range(1, len(units)):
                    z += np.multiply(units[i], w[:, i] if w.ndim == 3 else w[i], out=scratch)
                z += b
            outputs.append(activation(z) if k < len(layers) - 1 else z)
        spare.extend(u for u in units if u.ndim == 2)
        units = outputs
    logits = np.broadcast_to(units[0], (g, len(x)))
    # BCE = softplus(l) − y·l = max(l, 0) − y·l + log1p(e), e = exp(−|l|) ∈ (0, 1]
    e = np.abs(logits, out=buffer())
    np.exp(np.negative(e, out=e), out=e)
    terms = _log1p(e, buffer())
    terms += np.maximum(logits, 0)
    terms -= logits * y
    return terms.mean(axis=1, dtype=np.float64)


def _log1p(e: np.ndarray, out: np.ndarray) -> np.ndarray:
    """log(1 + e), accurate for tiny e (Goldberg: log(u)·e / (u − 1), u = 1 + e): numpy's
    own float32 log1p is about six times slower than its log."""
    u = np.add(e, 1, out=out)
    d = u - 1
    np.log(u, out=out)
    out *= e
    np.divide(out, d, out=out, where=d != 0)
    np.copyto(out, e, where=d == 0)
    return out


class LayersTrainer:
    """Mini-batch SGD with momentum, or Adam, on the binary cross-entropy (a classifier)."""

    def __init__(self, config: LayersConfig) -> None:
        self.config = config

    def run(self, dataset: Dataset) -> Iterator[LayersSnapshot]:
        from mlviz.torchutil import torch_threads

        with torch_threads(1):  # tiny models: one thread is fastest
            yield from self._run(dataset)

    def _run(self, dataset: Dataset) -> Iterator[LayersSnapshot]:
        import torch

        c = self.config
        x = torch.as_tensor(np.array(dataset.X), dtype=torch.float32)
        y = torch.as_tensor(np.array(dataset.y), dtype=torch.float32)
        labels = y.numpy() > 0.5
        chosen = self.first_good_start(x, y) if c.starts > 1 else 0
        axis = np.linspace(-1.0, 1.0, GRID)
        gx, gy = np.meshgrid(axis, axis)
        grid = torch.as_tensor(np.column_stack([gx.ravel(), gy.ravel()]), dtype=torch.float32)
        for epoch, net in self._fit(start_seed(c.seed, chosen), x, y):
            outputs = net.forward(x)
            loss, grads = _bce_gradients(net, outputs, y)
            hidden = torch.stack(outputs[:-1]).numpy()
            proba = torch.sigmoid(outputs[-1].squeeze(-1)).numpy()
            yield LayersSnapshot(
                epoch=epoch, loss=loss.item(),
                params=net.named_params(),
                hidden=hidden, proba=proba,
                hidden_range=np.stack([hidden.min(axis=1), hidden.max(axis=1)], axis=1),
                grid_proba=torch.sigmoid(net.forward(grid)[-1].squeeze(-1)).numpy()
                .reshape(GRID, GRID),
                grad_norms=np.array([float(grad.norm()) for grad in grads[0::2]]),
                accuracy=float(np.mean((proba > 0.5) == labels)),
                start=chosen,
            )

    def first_good_start(self, x, y) -> int:
        """The first of ``config.starts`` random starts whose network, trained for all the
        epochs, classifies at least :data:`GOOD_ENOUGH` of the points; if none does, the
        one that comes closest (the earliest of equals)."""
        labels = y.numpy() > 0.5
        best, chosen = -1.0, 0
        for start in range(self.config.starts):
            net = None
            for _, net in self._fit(start_seed(self.config.seed, start), x, y):  # noqa: B007
                pass  # trained to the end (or until settled)
            assert net is not None
            accuracy = float(np.mean((net.forward(x)[-1].squeeze(-1).numpy() > 0) == labels))
            if accuracy >= GOOD_ENOUGH:
                return start
            if accuracy > best:
                best, chosen = accuracy, start
        return chosen

    def _fit(self, seed: int, x, y) -> Iterator[tuple[int, Any]]:
        """Trains a network from the initial weights of ``seed``, yielding (epoch, the
        network as a :class:`~mlviz.torchutil.LinearStack`) before the first epoch and after
        each (read it before the next: it is trained in place)."""
        import torch

        from mlviz.torchutil import LinearStack, PlainOptimizer

        c = self.config
        torch.manual_seed(seed)
        model = build_model(c)
        with torch.no_grad():
            for layer in model.layers:
                layer.weight.mul_(c.init_scale)
        net = LinearStack(model, c.activation)  # autograd's arithmetic, without its overhead
        # torch.optim.SGD's (or Adam's) update, op for op, on all parameters at once (one flat
        # tensor), without torch.optim's import and per-tensor overhead
        optimizer = PlainOptimizer("adam" if c.optimizer == "adam" else "sgd", [net.theta],
                                   lr=c.lr, momentum=c.momentum)
        shuffle = torch.Generator().manual_seed(seed)
        n = len(y)
        labels = y.numpy() > 0.5
        losses: list[float] = []
        for epoch in range(c.epochs + 1):
            yield epoch, net
            if epoch == c.epochs:
                break
            if c.until_settled:
                logits = net.forward(x)[-1].squeeze(-1)
                losses.append(float(torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, y)))
                good = float(np.mean((logits.numpy() > 0) == labels)) >= STOP_ACCURACY
                if good and settled(losses):
                    break
            order = torch.randperm(n, generator=shuffle)
            for begin in range(0, n, c.batch_size):
                batch = order[begin:begin + c.batch_size]
                _, grads = _bce_gradients(net, net.forward(x[batch]), y[batch])
                optimizer.step([net.flat(grads)])


def settled(losses: list[float]) -> bool:
    """Whether the loss, given up to this epoch, fell less than :data:`SETTLE_FRACTION` of
    its whole fall over the last :data:`SETTLE_EPOCHS` epochs."""
    if len(losses) <= SETTLE_EPOCHS:
        return False
    return losses[-1 - SETTLE_EPOCHS] - losses[-1] < SETTLE_FRACTION * (losses[0] - losses[-1])


def start_seed(seed: int, start: int) -> int:
    """The torch seed of the initial weights (and batch order) of random start ``start``:
    ``seed`` itself for the first (0), then seeds drawn from (seed, start)."""
    if start == 0:
        return seed
    return int(np.random.SeedSequence([seed, start]).generate_state(1)[0])


def _bce_gradients(net, outputs: list, targets) -> tuple:
    """(mean BCE, gradients of every parameter) for :class:`LinearStack` outputs: the BCE's
    gradient as autograd computes it, then back through the layers."""
    import torch

    logits = outputs[-1].squeeze(-1)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
    grad = (torch.sigmoid(logits) - targets).div_(logits.numel()).unsqueeze(-1)
    return loss, net.backward(outputs, grad)
