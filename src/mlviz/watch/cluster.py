"""A landscape's grid, row by row, here or on a Dask cluster (``scheduler=ADDRESS``).

The grid is cut into parts of whole rows (as many as one vectorized chunk holds, at least
one). The first part is computed here, which also chooses how (vectorized or point by
point, :class:`~mlviz.watch.gridloss.BatchedLoss`); the others are computed the same way,
part by part, here or each as a job on the cluster's workers (the model, loss, data and
plane are sent with it, on the CPU). Every part is the same computation wherever it runs,
so a cluster's grid equals a local one. Dask is the gallery's optional extra
(``pip install 'mlviz[dask]'``).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .errors import WatchError
from .gridloss import BatchedLoss, PlanePoints


def _coords(alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    a, b = np.meshgrid(alphas, betas)
    return np.column_stack([a.ravel(), b.ravel()])


def grid_part(model, loss_fn, x, y, memory: int, vectorized: bool, chunk: int,
              base: np.ndarray, directions: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """One part of a grid, as a job on a worker: the losses at ``coords`` of the plane."""
    import torch

    loss = BatchedLoss(model, loss_fn, x, y, memory)
    loss.vectorized, loss.chunk = vectorized, chunk
    dtype = next(iter(model.parameters())).dtype
    return loss(PlanePoints(torch.as_tensor(base, dtype=dtype),
                            torch.as_tensor(directions, dtype=dtype), coords))


def grid_losses(loss: BatchedLoss, base, directions, alphas: np.ndarray, betas: np.ndarray,
                scheduler: str | None = None, *, model=None, loss_fn=None,
                memory: int = 0) -> np.ndarray:
    """Losses on the grid of ``alphas`` × ``betas`` of the plane ``base + a·d₁ + b·d₂``
    (``losses[j, i]`` at ``(alphas[i], betas[j])``). With a ``scheduler`` address the
    parts after the first run on that Dask cluster; ``model``, ``loss_fn`` and ``memory``
    are what its workers rebuild the loss from."""
    width = len(alphas)
    rows = max(1, loss.chunk // width)
    parts = [betas[k:k + rows] for k in range(0, len(betas), rows)]
    out = [loss(PlanePoints(base, directions, _coords(alphas, parts[0])))]
    if scheduler and len(parts) > 1:
        out += _on_cluster(loss, base, directions, alphas, parts[1:], scheduler, model,
                           loss_fn, memory)
    else:
        out += [loss(PlanePoints(base, directions, _coords(alphas, part)))
                for part in parts[1:]]
    return np.concatenate(out).reshape(len(betas), width)


def _on_cluster(loss: BatchedLoss, base, directions, alphas, parts, scheduler: str, model,
                loss_fn, memory: int) -> list[np.ndarray]:
    from ..batch import open_backend

    cpu: dict[str, Any] = {
        "model": copy.deepcopy(model).cpu(), "loss_fn": loss_fn,
        "x": loss.x.detach().cpu(), "y": loss.y.detach().cpu(), "memory": memory,
        "vectorized": bool(loss.vectorized), "chunk": loss.chunk,
        "base": base.detach().cpu().numpy(), "directions": directions.detach().cpu().numpy()}
    with open_backend(scheduler) as backend:
        futures = [backend.executor.submit(grid_part, coords=_coords(alphas, part), **cpu)
                   for part in parts]
        try:
            return [np.asarray(f.result()) for f in futures]
        except Exception as exc:  # noqa: BLE001 - a worker's failure, in one line
            text = str(exc).strip().splitlines()
            raise WatchError(f"the landscape's grid failed on the Dask cluster at "
                             f"{scheduler}: {type(exc).__name__}: "
                             f"{text[0] if text else ''}") from None
