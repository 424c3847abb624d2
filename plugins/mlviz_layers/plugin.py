"""Registers ``layer-transformations`` and ``vanishing-gradients`` (the same plugin, deeper)."""

from __future__ import annotations

from dataclasses import dataclass
from string import ascii_letters
from typing import ClassVar, Literal

import numpy as np

from mlviz import Algorithm, Dataset, Scene, UserData, hookimpl, param
from mlviz.datasets import scaled
from mlviz.panels import LossLandscapePanel
from mlviz.story import Chapter, Story

from .panels import (
    ChanceCurvePanel,
    GradientNormPanel,
    GradientProfilePanel,
    LayerPointsPanel,
    OutputPanel,
    PredictionPanel,
)
from .trainer import (
    LayersConfig,
    LayersTrainer,
    landscape_loss,
    layers_dataset,
    layers_schedule,
    n_linear,
)


@dataclass(frozen=True)
class VanishingConfig(LayersConfig):
    hidden_layers: int = param(
        10, "2-unit hidden layers between the 2-unit input layer and the output unit", min=0, max=16)
    epochs: int = param(150, "passes over the data", min=1, max=10_000)
    optimizer: Literal["auto", "sgd", "adam"] = param(
        "sgd", "SGD with momentum or Adam (auto: picked for the dataset)")
    lr: float = param(0.2, "learning rate (0: picked for the dataset)", min=0.0, max=10.0)
    init_scale: float = param(
        1.0, "initial weights are PyTorch's default (uniform ±1/√fan_in) times this (0: picked "
             "for the dataset)", min=0.0, max=10.0)
    resolution: int = param(11, "landscape grid points along each weight", min=3, max=101)
    starts: int = param(
        1, "random initial weights tried, each trained for all the epochs, until one reaches "
           "95 % training accuracy (1: only the seed's own; deep and narrow, none does)",
        min=1, max=100)

    #: Deep and narrow fails on every dataset: that is the lesson, so none is refused.
    refused: ClassVar[dict[str, str]] = {}


class LayerLandscapePanel(LossLandscapePanel):
    """The loss landscape of two weights of one layer, its axes readable in a small cell:
    ticks at −span/2, 0 and span/2 (none at the corners, where two axes' tick labels
    meet), and the axis labels, the z axis's ("BCE") included, clear of the tick labels."""

    def setup(self, ax, run) -> None:
        super().setup(ax, run)
        from matplotlib.ticker import MaxNLocator

        half = self.span / 2
        ax.set_xticks([-half, 0.0, half])
        ax.set_yticks([-half, 0.0, half])
        ax.zaxis.set_major_locator(MaxNLocator(3))
        ax.xaxis.labelpad = ax.yaxis.labelpad = 9
        ax.zaxis.labelpad = 3


#: The BCE of a classifier that has learned nothing (P = 0.5 for every point).
CHANCE = float(np.log(2.0))


def bce_curve() -> ChanceCurvePanel:
    """The loss (BCE) over the epochs, with the line of chance: ln 2, the BCE of P = 0.5."""
    return ChanceCurvePanel("loss", label="BCE", title="Loss",
                            references=[("chance: ln 2 ≈ 0.69", CHANCE)])


def layer_landscape(config: LayersConfig, k: int, zoom: float,
                    view: tuple[float, float] = (32, -50),
                    output_title: str = "Output layer: BCE") -> LossLandscapePanel:
    """Loss over weights 1 and 2 of one neuron of Linear layer ``k`` (1-based), at w + δ;
    the output layer's is titled ``output_title``."""
    last = k == n_linear(config)
    neuron = 0 if last else config.neuron
    name = f"layers.{k - 1}.weight"
    return LayerLandscapePanel(
        landscape_loss, weights=((name, (neuron, 0)), (name, (neuron, 1))), follow=True,
        schedule=layers_schedule,  # called with this config
        span=config.span, resolution=config.resolution, zlabel="BCE",
        labels=(f"δ w{neuron + 1},1", f"δ w{neuron + 1},2"), relative=True, zoom=zoom,
        view=view, title=output_title if last else f"Layer {k}: BCE")


#: The most columns (the input's, and one a Linear layer's) layer-transformations lays out
#: in one band, the loss along the bottom; a deeper network's wrap into two bands.
MAX_COLUMNS = 6
#: How layer-transformations looks at its landscapes: the z axis on the left, in the gap
#: between columns (on the right, the last column's tick labels would leave the figure).
LAYERS_VIEW = (32, -130)
#: Why circles fails, said on the frame (the scene's title) and in the story.
CIRCLES_WHY = "each layer stretches and bends the plane but never tears it"


def layers_scene(config: LayersConfig) -> Scene:
    """Each layer's view of the points over the landscape of the weights into it, and the
    loss, every panel big enough to read; the last layer's view with the output unit's
    separating line.

    The columns pair a panel with the one under it: the input with the predictions over
    the same square, layer k with the landscape of Linear layer k (the weights that make
    it), the output with the output layer's landscape. Up to :data:`MAX_COLUMNS` columns
    fill one band of the 1280 x 720 frame, the loss spanning the full width below them;
    more wrap into two bands of two rows, the loss in the cells left free at the end of
    the second.
    """
    count = n_linear(config)
    columns = count + 1
    tops = [LayerPointsPanel(k, boundary=k == count - 1) for k in range(count)] + [OutputPanel()]
    bottoms = [PredictionPanel()] + [layer_landscape(config, k, zoom=0.9, view=LAYERS_VIEW,
                                                    output_title="Output: BCE")
                                     for k in range(1, count + 1)]
    loss = bce_curve()
    panels: list = []

    def letters(line) -> str:
        return "".join(_letter(panels, panel) for panel in line)

    if columns <= MAX_COLUMNS:
        rows = [letters(tops), letters(bottoms), _letter(panels, loss) * columns]
        heights = (1.0, 1.1, 0.62)
    else:
        width = -(-(columns + 1) // 2)  # at least one cell left for the loss
        rows = [letters(tops[:width]), letters(bottoms[:width]), letters(tops[width:])]
        free = _letter(panels, loss) * (width - len(rows[-1]))  # letters in reading order
        rows[-1] += free
        rows.append(letters(bottoms[width:]) + free)
        heights = None
    how = "Adam" if config.optimizer == "adam" else "SGD with momentum"
    if config.dataset == "circles" and config.activation == "tanh":
        title = f"{count} layers of 2 units cannot split a disc from its ring: {CIRCLES_WHY}"
    else:
        title = (f"{count}-layer network with 2-unit layers bending two classes apart until "
                 f"one line splits them ({config.activation}, {how})")
    return Scene(panels, title=title, mosaic=";".join(rows), figsize=(12.8, 7.2),
                 height_ratios=heights)


def layers_story(config: LayersConfig, run) -> Story:
    """Tangled at the start; bending while the loss falls; split by a line in the last
    layer once 95 % of the points are on their side (circles: stuck, and why)."""
    epochs = np.asarray(run.epochs)
    losses = np.asarray(run.losses, dtype=float)
    accuracy = run.trace("accuracy")
    start = int(run.trace("start")[0]) if "start" in run.trace_names else 0
    opening = ("At first no straight line in the last layer splits the two classes." if not start
               else f"Random start {start + 1} (the first {start} settled in a poor fold): no "
                    "straight line in the last layer splits the classes yet.")
    chapters = [Chapter("tangled", int(epochs[0]), opening)]
    drop = losses[0] - np.nanmin(losses)
    falling = (np.flatnonzero(losses <= losses[0] - 0.25 * drop) if drop > 0.02
               else np.array([], dtype=int))
    if len(falling) and epochs[falling[0]] > chapters[-1].start:
        chapters.append(Chapter("bending", int(epochs[falling[0]]),
                                "Each layer stretches and bends the plane, pulling the "
                                "classes apart."))
    if config.dataset == "circles" and run.dataset.name == "circles":
        flat = _flattened(losses)
        if flat is not None and epochs[flat] > chapters[-1].start:
            chapters.append(Chapter("stuck", int(epochs[flat]),
                                    "Stuck: 2-unit layers cannot split a disc from its ring; "
                                    + CIRCLES_WHY + "."))
    else:
        good = np.flatnonzero(accuracy >= 0.95)
        flat = _flattened(losses)
        if len(good) and epochs[good[0]] > chapters[-1].start:
            chapters.append(Chapter("separable", int(epochs[good[0]]),
                                    "A straight line in the last layer now splits the classes; "
                                    "the output unit just reads which side."))
        elif not len(good) and flat is not None and epochs[flat] > chapters[-1].start:
            chapters.append(Chapter("stuck", int(epochs[flat]), _stuck_sentence(config)))
    return Story(tuple(chapters), objective=BCE_OBJECTIVE)


def _stuck_sentence(config: LayersConfig) -> str:
    """Why a run that is not circles ends below 95 %, and what to try."""
    if config.starts > 1:
        return (f"Stuck below 95 %: none of {config.starts} random starts untangled it with "
                "only 2 units a layer; try another --seed.")
    return ("Stuck below 95 %: with only 2 units a layer, training can settle in a poor fold; "
            "another --seed or more starts may untangle it.")


#: The loss the classifier minimises, as mathtext.
BCE_OBJECTIVE = (r"$J(\theta) = -\frac{1}{n}\sum_i \left[y_i \log p_i + (1 - y_i)"
                 r"\log(1 - p_i)\right]$")


def _flattened(losses: np.ndarray) -> int | None:
    """The first index after which the loss stays within 10 % of its total fall of its
    final level (``None``: it never falls)."""
    drop = losses[0] - np.nanmin(losses)
    if not drop > 0:
        return None
    near = np.abs(losses - losses[-1]) <= 0.1 * drop
    away = np.flatnonzero(~near)
    return int(away[-1] + 1) if len(away) and away[-1] + 1 < len(losses) else None


#: The most layer views vanishing-gradients shows (the input and hidden layers, spread
#: evenly from the first to the last); with the output and the predictions, one row.
MAX_VIEWS = 4


def shown_layers(count: int) -> list[int]:
    """The layer outputs shown for a network of ``count`` Linear layers: the input (0) and
    hidden layers 1 … count − 1, at most :data:`MAX_VIEWS` of them, the first and the last
    hidden layer always among them."""
    hidden = count - 1
    if hidden + 1 <= MAX_VIEWS:
        return list(range(count))
    picks = np.unique(np.round(np.linspace(1, hidden, MAX_VIEWS - 1)).astype(int))
    return [0, *picks.tolist()]


def vanishing_scene(config: LayersConfig) -> Scene:
    """What vanishing gradients look like, each panel big enough to read.

    Top: a few layers' views of the points (the signal fades as it goes deeper), the output
    and the predictions. Middle: the gradient norm of every layer over training, and layer
    by layer at this epoch (the gradient shrinks on its way back to the first layer).
    Bottom: the landscapes of the first and the output layer with the loss between them
    (it barely moves from ln 2, chance; in the middle, its y label stays inside the frame
    at every font scale).
    """
    count = n_linear(config)
    views = [LayerPointsPanel(k, shared=True) for k in shown_layers(count)]
    tops = [*views, OutputPanel(), PredictionPanel()]
    width = len(tops)  # one column a top panel; the rows below split the same columns
    first = layer_landscape(config, 1, zoom=1.0, view=(28, -55))
    last = layer_landscape(config, count, zoom=1.0, view=(28, -55))
    middle = [(GradientNormPanel(), 0.6), (GradientProfilePanel(), 0.4)]
    bottom = [(first, 0.37), (bce_curve(), 0.26), (last, 0.37)]
    panels: list = []
    rows = ["".join(_letter(panels, panel) for panel in tops)]
    for row in (middle, bottom):
        spans = _spans([share for _, share in row], width)
        rows.append("".join(_letter(panels, panel) * span
                            for (panel, _), span in zip(row, spans)))
    title = (f"Vanishing gradients: {count} layers of 2 units, two classes "
             f"({config.activation}, SGD with momentum)")
    return Scene(panels, title=title, mosaic=";".join(rows), figsize=(12.8, 7.2),
                 height_ratios=(0.95, 1.0, 1.15))


def _letter(panels: list, panel) -> str:
    """The mosaic letter of ``panel``, appended to ``panels``."""
    panels.append(panel)
    return ascii_letters[len(panels) - 1]


def _spans(shares: list[float], width: int) -> list[int]:
    """``width`` columns split by ``shares`` (each at least one column)."""
    spans = [max(1, int(round(share * width))) for share in shares]
    spans[int(np.argmax(shares))] += width - sum(spans)
    return spans


def load_labelled(data: UserData, config: LayersConfig) -> Dataset:
    """A user's 2D points with a label of two classes, scaled into the square [−1, 1]²."""
    chosen = data.select(2, label="class", classes=2, min_rows=2)
    return Dataset(scaled(chosen.X), chosen.y, feature_names=chosen.feature_names,
                   target_name=chosen.label_name, name=data.name,
                   description=f"{len(chosen.X)} labelled points from {data.describe()}, "
                               "scaled into [−1, 1]²",
                   extra={"classes": chosen.classes})


DATA_HELP = ("two numeric feature columns and a label column of two classes (0/1 or any two "
             "values; the one sorted second is class 1), by default the last column; "
             "--columns A,B --label C choose them; features are scaled into [−1, 1]²")


LAYER_TRANSFORMATIONS = Algorithm(
    name="layer-transformations",
    summary="how each 2-unit layer of a small PyTorch network bends XOR into separable data",
    story=layers_story,
    config=LayersConfig,
    trainer=LayersTrainer,
    dataset=layers_dataset,
    scene=layers_scene,
    dataset_help="XOR: n_points uniform in [−1, 1]², class 1 where x₁·x₂ < 0 (n_points, "
                 "noise, seed); or --set dataset=moons, circles or spiral",
    load_data=load_labelled,
    data_help=DATA_HELP,
    dataset_params=("dataset", "n_points", "noise"),
    schedule=layers_schedule,
    fps=5.0,
)

def vanishing_story(config: LayersConfig, run) -> Story:
    """The gradient's fall from the output layer to layer 1 (measured at the first epoch),
    then, if it comes, the loss stuck at chance (within 0.01 of ln 2 from then on)."""
    epochs = np.asarray(run.epochs)
    norms = np.asarray(run.trace("grad_norms"), dtype=float)[0]
    ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("nan")
    chapters = [Chapter("vanishing", int(epochs[0]),
                        f"At epoch {int(epochs[0])} the gradient reaching layer 1 is "
                        f"{ratio:.0e} of the output layer's: the early layers barely learn.")]
    losses = np.asarray(run.losses, dtype=float)
    away = np.flatnonzero(np.abs(losses - CHANCE) > 0.01)
    stuck = int(away[-1] + 1) if len(away) else 0
    if stuck < len(losses) and epochs[stuck] > chapters[-1].start:
        chapters.append(Chapter("stuck at chance", int(epochs[stuck]),
                                "The loss stays at ln 2, chance: the output is about 0.5 for "
                                "every point."))
    return Story(tuple(chapters), objective=BCE_OBJECTIVE)


VANISHING_GRADIENTS = Algorithm(
    name="vanishing-gradients",
    summary="a 12-layer narrow tanh network on XOR: the early layers barely learn",
    story=vanishing_story,
    config=VanishingConfig,
    trainer=LayersTrainer,
    dataset=layers_dataset,
    scene=vanishing_scene,
    dataset_help=LAYER_TRANSFORMATIONS.dataset_help,
    load_data=load_labelled,
    data_help=DATA_HELP,
    dataset_params=("dataset", "n_points", "noise"),
    schedule=layers_schedule,
    fps=5.0,
)


@hookimpl
def mlviz_algorithms():
    return [LAYER_TRANSFORMATIONS, VANISHING_GRADIENTS]


@hookimpl
def mlviz_panels():
    return [LayerPointsPanel, OutputPanel, PredictionPanel, GradientNormPanel,
            GradientProfilePanel]
