"""A recorder's run, computed at ``save``: the PCA plane and its landscape, the path on
it, the drawn frames' decision regions and hidden activations, as a ready-to-draw run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .cluster import grid_losses
from .compute import (
    filter_plane,
    grid_axes,
    outputs_and_hidden,
    pca_plane,
    predicted_classes,
    project_2d,
)
from .gridloss import BatchedLoss, PlanePoints
from .model import ALGORITHM, WatchConfig, WatchSnapshot, summarize

if TYPE_CHECKING:
    from ..prepared import Prepared
    from .recorder import Recorder

#: Most evaluation points drawn (regions and activations panels).
SHOWN = 600
#: Decision-region grid points along each axis.
REGION_GRID = 90
#: Most classes coloured apart.
MAX_CLASSES = 20


def classes_of(y: np.ndarray) -> int:
    """Number of classes of integer-valued targets (0: not a classification)."""
    flat = np.asarray(y).reshape(len(y), -1)
    if flat.shape[1] != 1 or not np.all(np.isfinite(flat)):
        return 0
    values = flat[:, 0]
    if not np.all(values == np.round(values)) or values.min() < 0:
        return 0
    count = int(values.max()) + 1
    return count if 2 <= count <= MAX_CLASSES else 0


def _frame_picks(count: int, frames: int) -> np.ndarray:
    return np.unique(np.round(np.linspace(0, count - 1, min(frames, count))).astype(int))


def build(recorder: Recorder) -> Prepared:
    import torch

    from ..dataset import Dataset
    from ..prepared import Prepared
    from ..session import registry as session_registry
    from ..trainer import Run
    from .errors import WatchError

    registry = session_registry()
    if ALGORITHM not in registry.algorithms:
        raise WatchError(f"the '{ALGORITHM}' plugin (mlviz_watch) is not installed: "
                         "reinstall mlviz")
    algorithm = registry.algorithms[ALGORITHM]
    model, data = recorder.model, recorder.data
    n = recorder.n_epochs
    epochs = np.arange(n)
    first = recorder.params[0]
    kept_epochs, rows = recorder.trace.kept()
    finite = np.isfinite(rows).all(axis=1)
    if recorder.diverged >= 0:  # the plane of the path before it blew up
        finite &= kept_epochs < recorder.diverged
    x_cpu = data.x.detach().cpu().numpy()
    y_cpu = data.y.detach().cpu().numpy()
    classes = classes_of(y_cpu)
    shown = np.unique(np.linspace(0, len(x_cpu) - 1, min(SHOWN, len(x_cpu))).round().astype(int))
    input_shape = tuple(x_cpu.shape[1:])
    regions = input_shape == (2,) and classes >= 2

    # The plane, its landscape and the path on it (parameter sets before any divergence).
    loss = BatchedLoss(model, recorder.loss_fn, data.x, data.y, recorder.memory)
    plane_xy = np.full((n, 2), np.nan)
    plane_loss = np.full(n, np.nan)
    true_loss = np.full(n, np.nan)
    extra: dict = {"variance": np.nan, "chunk": loss.chunk}
    resolution = recorder.resolution
    if finite.any():
        good = rows[finite]
        plane = (filter_plane(good, recorder.layout, recorder.seed)
                 if recorder.directions == "filter" else pca_plane(good))
        base = torch.as_tensor(plane.origin, dtype=first.dtype, device=first.device)
        dirs = torch.as_tensor(plane.directions, dtype=first.dtype, device=first.device)
        at = kept_epochs[finite]
        plane_xy[at] = plane.coords
        plane_loss[at] = loss(PlanePoints(base, dirs, plane.coords))
        true_loss[at] = loss(torch.as_tensor(good, dtype=first.dtype, device=first.device))
        alphas, betas = grid_axes(plane.coords, resolution,
                                  least=1.0 if recorder.directions == "filter" else 0.0)
        grid = grid_losses(loss, base, dirs, alphas, betas, recorder.scheduler,
                           model=model, loss_fn=recorder.loss_fn, memory=recorder.memory)
        extra.update(variance=plane.variance, alphas=alphas, betas=betas, landscape=grid)

    # The drawn frames: kept epochs, evenly, the last always.
    picks = _frame_picks(len(kept_epochs), recorder.frames)
    frame_rows = [torch.as_tensor(np.nan_to_num(rows[i]), dtype=first.dtype,
                                  device=first.device) for i in picks]
    # A hidden layer exists where the last layer with parameters is not the only one.
    hidden_wanted = len(set(recorder.layer_names)) > 1
    region_grid = None
    if regions:
        lo, hi = x_cpu.min(axis=0), x_cpu.max(axis=0)
        pad = 0.08 * np.maximum(hi - lo, 1e-9)
        gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], REGION_GRID)
        gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], REGION_GRID)
        extra.update(region_x=gx, region_y=gy)
        mx, my = np.meshgrid(gx, gy)
        region_grid = torch.as_tensor(np.column_stack([mx.ravel(), my.ravel()]),
                                      dtype=data.x.dtype, device=data.x.device)
    x_shown = data.x[torch.as_tensor(shown, device=data.x.device)]
    _, hiddens = outputs_and_hidden(model, recorder.layout, frame_rows, x_shown, hidden_wanted)
    hidden_ok = hidden_wanted and all(h is not None and h.shape[1] >= 1 for h in hiddens)
    region_out = (outputs_and_hidden(model, recorder.layout, frame_rows, region_grid, False)[0]
                  if regions else [])
    snapshots = []
    previous = None
    losses = recorder.metrics["loss"].array()
    for k, i in enumerate(picks):
        epoch = int(kept_epochs[i])
        fields = {}
        if regions:
            classes_grid = predicted_classes(region_out[k], classes).cpu().numpy()
            fields["regions"] = classes_grid.reshape(REGION_GRID, REGION_GRID).astype(np.int8)
        if hidden_ok:
            values = hiddens[k].double().cpu().numpy()
            if np.isfinite(values).all():
                previous = project_2d(values, previous)
                fields["hidden"] = previous
            else:
                fields["hidden"] = np.full((len(shown), 2), np.nan)
        snapshots.append(WatchSnapshot(epoch=epoch, loss=float(losses[epoch]), **fields))

    names = [m for m in recorder.metrics if m != "loss"]
    config = WatchConfig(
        model=summarize(recorder.model), n_params=recorder.layout.size,
        input_shape="x".join(map(str, input_shape)) or "1", eval_note=data.note,
        metrics=",".join(["loss", *names]), layers=",".join(recorder.layer_names),
        classes=classes, regions=regions, hidden=hidden_ok, resolution=resolution,
        directions=recorder.directions,
        budget=recorder.trace.budget, diverged=recorder.diverged,
    )
    traces = {name: recorder.metrics[name].array() for name in names}
    traces.update(weight_norms=recorder.weight_norms.array(),
                  grad_norms=recorder.grad_norms.array(),
                  plane_xy=plane_xy, plane_loss=plane_loss, true_loss=true_loss)
    flat_x = x_cpu[shown].reshape(len(shown), -1).astype(float)
    y_shown = y_cpu[shown].reshape(len(shown), -1)
    y_shown = y_shown[:, 0] if y_shown.shape[1] == 1 else y_shown.argmax(axis=1)
    dataset = Dataset(flat_x, y_shown, name="watched data",
                      description=f"evaluation subset: {data.note}", extra=extra)
    run = Run(config=config, dataset=dataset, snapshots=tuple(snapshots), epochs=epochs,
              losses=losses, traces=traces,
              stopped="diverged" if recorder.diverged >= 0 else "")
    return Prepared(algorithm, config, run, algorithm.make_scene(config, dataset),
                    float(recorder.fps), source="mlviz.watch")


